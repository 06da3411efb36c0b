"""The one outbound pipeline: every call (and, with the reminders, every text) Navaia places goes here.

Campaigns, "Call now" (POST /api/v1/customers/{id}/call) and booking reminders all run through
the same rules; only their purpose differs.

Public API (what features above use):

- `eligibility.check_eligibility(contact=, channel="call"|"sms", now=, window=None)` -> `Eligibility`
  ("now" / "later" with `at` / "never" with `code` and `reason`): do-not-call (calls) or the SMS
  opt-out hook (texts: the contact's `sms_opt_out`), a valid E.164 number in ALLOWED_CALL_COUNTRIES,
  the calling window in the customer's zone. The audience snapshot and the dispatcher both use it.
- `calls.request_call(session=, request=OutboundRequest(customer_id, purpose, request_key,
  reference, variables, claims, not_before, requested_by_id))` -> the call row (CampaignCall): the
  way in for a non-campaign call. The same `request_key` returns the same call; raises NotFound,
  NotEligible (409) or ValidationFailed. E.g. a reminder: `purpose="reminder"`,
  `request_key="reminder:<id>:call"`, `reference="booking:<id>"`, `claims={"booking_id": <id>}`.
- `purposes.CallPolicy` + `purposes.register_purpose(policy)`: how a purpose gets its outcome back
  (`on_final(session, call, now, batched=)` when the call is over: its `status`, `last_outcome`,
  `last_detail`), its window, extra variables and token claims, and its retry rule (`retry_at`).
  A purpose's module is listed in `purposes.POLICY_MODULES` (loaded on first use).
- `calls.call_customer_now`, `calls.hang_up_call`, `calls.record_call_outcome` (a post-call webhook
  or any report of an outcome; `error_kind` from telephony.ErrorKind decides whether a retry is
  allowed), `calls.report_call_update` (provider progress), `calls.call_variables` (the agent's
  dynamic variables, always with a signed `call_token`: customer_id, call_id, purpose + claims).
- `states`: the one table of allowed call and attempt status moves (`move_call`, `move_attempt`,
  `allowed_from`); a refused move is logged, never raised into a webhook.
- `outcomes`: status names and the one alias table (`normalize_outcome`, `initiation_failure_outcome`).
- `dispatcher.run()` / `dispatcher.reconcile()` (jobs/calls.py calls them), with `lease` (one
  dispatcher at a time) and `pacing` (per-lane and per-provider clocks).
- `twilio_webhooks.router`: Twilio's status and voice callbacks (/api/webhooks/twilio/*).

Providers live in telephony/ behind the contract in telephony/base.py (ErrorKind, Reporting,
register_provider); this package honours their declared capabilities and knows none by name.
"""
