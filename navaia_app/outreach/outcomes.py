"""Names of what a call can be and how it can end, and the one table of their aliases.

Every word a provider or a webhook uses for an outcome (Twilio's `no-answer`, ElevenLabs'
`failure_reason`, a form's `answering_machine`) is read through `normalize_outcome`, so the
campaign retry policy, the Twilio callbacks and the post-call webhook can never disagree.
"""

from __future__ import annotations

CALL_STATUSES = (
    "pending", "queued", "ringing", "in_progress", "completed", "busy",
    "no_answer", "failed", "voicemail", "voicemail_left", "skipped", "cancelled",
)
# What a finished attempt can end as (voicemail: a machine answered and nothing was left;
# voicemail_left: a machine answered and the campaign's message was left on it).
FINAL_OUTCOMES = ("completed", "busy", "no_answer", "failed", "voicemail", "voicemail_left")
# The outcomes a retry policy may name.
RETRYABLE_OUTCOMES = ("busy", "no_answer", "failed", "voicemail")
PROGRESS_STATUSES = ("ringing", "in_progress")
ACTIVE_CALL_STATUSES = ("queued", "ringing", "in_progress")
OPEN_CALL_STATUSES = ("pending", *ACTIVE_CALL_STATUSES)  # a campaign is not done while one of these is left
DONE_CALL_STATUSES = (*FINAL_OUTCOMES, "skipped", "cancelled")

# An attempt: placing -> ringing -> in_progress -> ended; not_placed when the provider never took it.
ATTEMPT_STATUSES = ("placing", "not_placed", "ringing", "in_progress", "ended")

# Every other spelling of a status or outcome, from any source, and what it means here.
OUTCOME_ALIASES = {
    "no-answer": "no_answer", "noanswer": "no_answer", "no answer": "no_answer",
    "in-progress": "in_progress", "answered": "in_progress",
    "canceled": "failed",  # a call cancelled before it connected did not reach anyone
    "machine": "voicemail", "answering_machine": "voicemail",
    "voicemail-left": "voicemail_left",
    "unknown": "failed",
}
# ElevenLabs' `call_initiation_failure` reasons are outcomes too (a call that never connected);
# anything not named here is "failed".
INITIATION_FAILURE_OUTCOMES = ("busy", "no_answer", "failed", "voicemail")


def normalize_outcome(word: str | None) -> str:
    """The canonical status for `word` (case and spacing ignored); unknown words come back cleaned
    but unchanged, so the caller can refuse them with `is_call_status`."""
    cleaned = (word or "").strip().lower()
    return OUTCOME_ALIASES.get(cleaned, cleaned)


def is_call_status(word: str) -> bool:
    """Whether `word` (already normalised) names a call status."""
    return word in CALL_STATUSES


def initiation_failure_outcome(reason: str | None) -> str:
    """The outcome of an outbound call that never connected, from ElevenLabs' `failure_reason`."""
    outcome = normalize_outcome(reason)
    return outcome if outcome in INITIATION_FAILURE_OUTCOMES else "failed"
