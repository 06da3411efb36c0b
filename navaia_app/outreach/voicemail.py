"""What happens when an answering machine takes an outbound call: the one rule, whoever reports it.

When the machine's greeting ends (Twilio's asynchronous AMD says `machine_end_beep`, `_silence` or
`_other`; the simulated carrier says the same), the call's voicemail message (its purpose's, e.g. the
campaign's `voicemail_message`, with the call's dynamic variables filled in) is played on the live call
and the attempt ends `voicemail_left`; with no message (or a provider that cannot play one) the call is
hung up and ends `voicemail`. The retry policy then applies as to any outcome (by default a campaign
retries `voicemail`, never `voicemail_left`). ElevenLabs' own agent meets machines itself: its post-call
data is read the same way (conversations.service.read_voicemail).

The provider is asked outside any database transaction by the Twilio route; the simulated carrier
answers at once.
"""

from __future__ import annotations

import re

from navaia_app.core.logging import get_logger
from navaia_app.telephony.base import PlacementError

log = get_logger(__name__)

MACHINE_END = ("machine_end_beep", "machine_end_silence", "machine_end_other")  # the greeting is over
NOT_SPOKEN = ("call_token",)  # variables that are never read out
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,39})\s*\}\}")
MAX_MESSAGE = 1000
VARIABLE = "voicemail_message"  # the rendered message, also a dynamic variable (ElevenLabs' voicemail tool)


def render(template: str, variables: dict[str, str]) -> str:
    """`{{name}}` replaced by the call's variable (unknown ones by nothing), whitespace tidied."""
    text = _PLACEHOLDER.sub(lambda m: "" if m.group(1) in NOT_SPOKEN else str(variables.get(m.group(1), "")),
                            template or "")
    return " ".join(text.split())[:MAX_MESSAGE]


def leave_or_hang_up(provider, provider_call_id: str, message: str, answered_by: str) -> tuple[str, str]:
    """Act on the live call; (outcome, detail): ("voicemail_left", ...) or ("voicemail", ...)."""
    if message and answered_by in MACHINE_END and getattr(provider, "leaves_voicemail", False):
        try:
            provider.leave_voicemail(provider_call_id, message)
            log.info("voicemail.left", provider=provider.name, answered_by=answered_by)
            return "voicemail_left", f"voicemail message left ({answered_by})"
        except PlacementError as exc:
            log.warning("voicemail.not_left", provider=provider.name, reason=exc.reason)
            detail = f"answering machine; the message could not be left: {exc.reason}"
    else:
        detail = f"answering machine ({answered_by})" + ("" if message else "; no voicemail message: hung up")
    try:
        provider.hang_up(provider_call_id, answered=True)
    except PlacementError as exc:
        log.warning("voicemail.hang_up_failed", provider=provider.name, reason=exc.reason)
    return "voicemail", detail[:300]
