"""The simulated carrier: no network, believable calls.

Each call's fate is a pure function of its call id (derived from the attempt's idempotency key)
and the moment it was placed: which outcome, how long it rings, how long people talk. So the same
attempt placed twice is the same call, and what happened to a call can be recomputed at any time
(a crashed worker or a wiped Redis lose nothing). SIMULATED_OUTCOMES sets the mix,
SIMULATED_TIME_SCALE speeds the clock up for tests and demos (0.05: twenty times faster).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from navaia_app.core.settings import get_settings
from navaia_app.core.signing import call_own_agent_tool
from navaia_app.telephony.base import CallRequest, CallUpdate, PlacedCall, Reporting, register_provider

# voicemail: an answering machine (its greeting ends with a beep; the campaign's message decides between
# voicemail and voicemail_left); slow_human: a person who answers only after a long greeting of their own.
OUTCOMES = ("completed", "no_answer", "busy", "voicemail", "failed", "slow_human")
MACHINE_ENDINGS = ("machine_end_beep", "machine_end_silence", "machine_end_other")
FAILURE_DETAILS = ("carrier error (SIP 503)", "number unreachable (SIP 404)", "call rejected (SIP 603)")


@lru_cache(maxsize=16)
def parse_outcomes(spec: str) -> tuple[tuple[str, float], ...]:
    """"completed:70,no_answer:12" -> (("completed", 70.0), ("no_answer", 12.0))."""
    weights = []
    for part in spec.split(","):
        if not part.strip():
            continue
        name, _, weight = part.partition(":")
        name = name.strip().replace("-", "_")
        if name not in OUTCOMES:
            raise ValueError(f"SIMULATED_OUTCOMES: unknown outcome {name!r} (use {', '.join(OUTCOMES)})")
        weights.append((name, float(weight or 0)))
    if not weights or sum(w for _, w in weights) <= 0:
        raise ValueError("SIMULATED_OUTCOMES needs at least one outcome with a positive weight")
    return tuple(weights)


@dataclass(frozen=True)
class SimulatedCall:
    """What happens to one simulated call: its outcome and timings."""
    outcome: str
    ring_seconds: float
    talk_seconds: float  # 0 when nobody (no human) answers
    detail: str | None
    machine: str | None = None  # how the answering machine's greeting ended (outcome voicemail)

    @property
    def answered(self) -> bool:
        return self.outcome == "completed"

    @property
    def ends_after(self) -> float:
        return self.ring_seconds + self.talk_seconds


# What a customer says on a simulated booking reminder call, and how often.
REMINDER_ANSWERS = (("confirm", 70), ("reschedule", 15), ("cancel", 10), ("no_decision", 5))
CANCEL_REASON = "Something came up at work."


def is_reminder_call(variables: dict[str, str]) -> bool:
    """A booking reminder call: its dynamic variables name the booking and the reminder, and carry the signed
    token (even a campaign that defined such variables would get nothing done: its token names no booking)."""
    return bool(variables.get("booking_id") and variables.get("reminder_id") and variables.get("call_token"))


def reminder_answer(provider_call_id: str) -> str:
    """The customer's answer on a simulated reminder call, a pure function of the call id (the tools the agent
    uses and the transcript of the post-call webhook agree)."""
    rng = random.Random(int(hashlib.sha256(provider_call_id.encode()).hexdigest()[32:48], 16))
    return rng.choices([a for a, _ in REMINDER_ANSWERS], weights=[w for _, w in REMINDER_ANSWERS])[0]


def call_id_for(idempotency_key: str) -> str:
    """The simulated call id of an attempt (the same key is always the same call)."""
    return "SIM" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:29]


def plan(provider_call_id: str, *, outcomes: str | None = None, scale: float | None = None) -> SimulatedCall:
    """The fate of a simulated call, a pure function of its id (and SIMULATED_OUTCOMES, SIMULATED_TIME_SCALE)."""
    settings = get_settings()
    weights = parse_outcomes(outcomes or settings.simulated_outcomes)
    scale = settings.simulated_time_scale if scale is None else scale
    rng = random.Random(int(hashlib.sha256(provider_call_id.encode()).hexdigest()[:16], 16))
    outcome = rng.choices([n for n, _ in weights], weights=[w for _, w in weights])[0]
    detail, machine = None, None
    if outcome == "slow_human":  # answers after a long greeting: still a person, and the agent waited for them
        outcome, detail = "completed", "answered after a long greeting"
        ring, talk = rng.uniform(15, 25), rng.uniform(40, 180)
    elif outcome == "completed":
        ring, talk = rng.uniform(4, 18), rng.uniform(25, 150)
    elif outcome == "no_answer":
        ring, talk = rng.uniform(28, 32), 0.0  # rang out
    elif outcome == "busy":
        ring, talk = rng.uniform(1, 4), 0.0
    elif outcome == "voicemail":
        ring, talk = rng.uniform(12, 25) + rng.uniform(8, 20), 0.0  # answered, greeting played to its end
        detail, machine = "answering machine detected", rng.choice(MACHINE_ENDINGS)
    else:
        ring, talk = rng.uniform(0.5, 3), 0.0
        detail = rng.choice(FAILURE_DETAILS)
    return SimulatedCall(outcome, ring * scale, talk * scale, detail, machine)


class SimulatedProvider:
    """The simulated carrier: instant, followed by polling, and it stands in for the voice agent too
    (an answered call gets the post-call webhook ElevenLabs would have sent)."""

    name = "simulated"
    instant = True
    reports = Reporting.POLLING
    can_find_calls = True
    leaves_voicemail = True  # instantly: nothing rings anywhere
    synthesizes_conversations = True

    @property
    def max_calls_per_second(self) -> float:
        return get_settings().simulated_calls_per_second

    def place_call(self, request: CallRequest) -> PlacedCall:
        # The same key is the same call: placing it again (a retried job) rings nobody twice.
        sid = call_id_for(request.idempotency_key)
        return PlacedCall(provider_call_id=sid, external_conversation_id=f"conv_sim_{sid[3:23]}")

    def hang_up(self, provider_call_id: str, *, answered: bool) -> None:
        return None  # nothing rings anywhere: the caller records the hang-up itself

    def leave_voicemail(self, provider_call_id: str, message: str) -> None:
        return None  # the simulated machine records every message

    def find_call(self, *, idempotency_key: str, to: str, since: datetime) -> PlacedCall | None:
        return PlacedCall(provider_call_id=call_id_for(idempotency_key))

    def next_event_at(self, provider_call_id: str, placed_at: datetime, status: str) -> datetime | None:
        call = plan(provider_call_id)
        if status == "ringing":
            return placed_at + timedelta(seconds=call.ring_seconds)
        if status == "in_progress":
            return placed_at + timedelta(seconds=call.ends_after)
        return None

    def synthesized_conversation(self, *, provider_call_id: str, external_conversation_id: str | None, to: str,
                                 placed_at: datetime, duration_seconds: int, variables: dict[str, str],
                                 topic: str) -> dict[str, Any] | None:
        settings = get_settings()
        return post_call_event(
            provider_call_id=provider_call_id,
            external_conversation_id=external_conversation_id or f"conv_sim_{provider_call_id[3:23]}",
            to=to, placed_at=placed_at, duration_seconds=duration_seconds, variables=variables, purpose=topic,
            business_timezone=settings.business_timezone, agent_id=settings.elevenlabs_agent_id)

    def converse(self, *, provider_call_id: str, variables: dict[str, str]) -> str | None:
        """The simulated agent on an answered call. On a booking reminder call (its variables carry the booking
        and the signed call_token) the customer gives the answer `reminder_answer` picks, and the agent acts on
        it with the same tools, over the same HTTP API and token, as the real agent: confirm, cancel with a
        reason, or ask for free times and move the booking to the first. Returns the answer acted on (None:
        not a reminder call, or the tools could not be reached)."""
        if not is_reminder_call(variables):
            return None
        answer, token = reminder_answer(provider_call_id), variables["call_token"]
        if answer == "confirm":
            done = call_own_agent_tool("confirm-booking", {"call_token": token})
        elif answer == "cancel":
            done = call_own_agent_tool("cancel-booking", {"call_token": token, "reason": CANCEL_REASON})
        elif answer == "reschedule":
            offer = call_own_agent_tool("reschedule-booking", {"call_token": token}) or {}
            slots = offer.get("slots") or []
            done = call_own_agent_tool("reschedule-booking", {"call_token": token,
                                                              "appointment_datetime": slots[0]}) if slots else None
        else:
            return answer  # "let me check my diary": no decision
        return answer if done is not None else None

    def poll_updates(self, attempts: list[Any], now: datetime) -> list[CallUpdate]:
        updates = []
        for attempt in attempts:
            if not attempt.provider_call_id or attempt.placed_at is None:
                continue
            call = plan(attempt.provider_call_id)
            elapsed = (now - attempt.placed_at).total_seconds()
            answered_at = attempt.placed_at + timedelta(seconds=call.ring_seconds)
            if elapsed < call.ring_seconds:
                continue  # still ringing
            if call.answered and (elapsed < call.ends_after or attempt.status != "in_progress"):
                # An answered call is reported in progress before it ends, even when this poll comes late:
                # the agent talks (and uses its tools, `converse`) in between.
                if attempt.status != "in_progress":
                    updates.append(CallUpdate(attempt.provider_call_id, "in_progress", at=answered_at,
                                              answered_at=answered_at))
                continue
            ended = attempt.placed_at + timedelta(seconds=call.ends_after)
            duration = round(call.talk_seconds) if call.answered else None
            updates.append(CallUpdate(attempt.provider_call_id, call.outcome, at=ended, duration_seconds=duration,
                                      detail=call.detail, answered_at=answered_at if call.answered else None,
                                      machine=call.machine))
        return updates


register_provider(SimulatedProvider.name, SimulatedProvider)


# --- the post-call event an answered call sends through the real webhook ----------------------

_OPENERS = ("Hi {first}, this is Navaia calling on behalf of your service team.",
            "Hello {first}, it's the Navaia assistant calling.")


_REMINDER_LINES = {
    "confirm": ("Yes, I'll be there.", "confirm_booking", {}, "Great, your booking is confirmed. See you then!",
                "{name} confirmed the {service} on {start_time}."),
    "cancel": ("I'm afraid I have to cancel, something came up at work.", "cancel_booking",
               {"reason": CANCEL_REASON}, "No problem, I've cancelled it. Call us when you'd like a new time.",
               "{name} cancelled the {service} on {start_time}."),
    "reschedule": ("Could we move it to another time?", "reschedule_booking", {},
                   "I've moved it to the first free time and you'll get a confirmation.",
                   "{name} moved the {service} from {start_time} to the first free time offered."),
    "no_decision": ("Let me check my diary and get back to you.", None, {}, "Of course. Have a good day!",
                    "{name} did not decide about the {service} on {start_time}."),
}


def _reminder_transcript(provider_call_id: str, variables: dict[str, str], first: str,
                         name: str) -> tuple[list[dict[str, Any]], str]:
    """A reminder call as the agent holds it: the opening line, the customer's answer, and the tool the agent
    used on it (as `converse` did during the call)."""
    said, tool, params, reply, summary = _REMINDER_LINES[reminder_answer(provider_call_id)]
    values = {"name": name, "service": variables.get("service") or "appointment",
              "start_time": variables.get("start_time") or "the booked time"}
    agent_turn: dict[str, Any] = {"role": "agent", "message": reply, "time_in_call_secs": 14}
    if tool is not None:
        agent_turn["tool_calls"] = [{"tool_name": tool, "params_as_json": json.dumps(
            {"call_token": "(the call's token)", **params})}]
    opening = variables.get("opening_line") or f"Hello {first}, this is a reminder of your booking."
    return [{"role": "agent", "message": opening, "time_in_call_secs": 0},
            {"role": "user", "message": said, "time_in_call_secs": 6}, agent_turn], summary.format(**values)


def post_call_event(*, provider_call_id: str, external_conversation_id: str, to: str, placed_at: datetime,
                    duration_seconds: int, variables: dict[str, str], purpose: str, business_timezone: str,
                    agent_id: str | None) -> dict[str, Any]:
    """A `post_call_transcription` webhook as ElevenLabs sends it after an outbound call."""
    rng = random.Random(int(hashlib.sha256(provider_call_id.encode()).hexdigest()[16:32], 16))
    name = variables.get("customer_name") or "there"
    first = name.split()[0] if name else "there"
    topic = purpose.strip().rstrip(".") or "a quick follow-up"
    roll = rng.random()
    transcript = [
        {"role": "agent", "message": rng.choice(_OPENERS).format(first=first), "time_in_call_secs": 0},
        {"role": "user", "message": "Hi, yes, speaking.", "time_in_call_secs": 3},
        {"role": "agent", "message": f"I'm calling about {topic[:200]}. Do you have a minute?",
         "time_in_call_secs": 6},
    ]
    results: dict[str, dict[str, Any]] = {}
    if is_reminder_call(variables):
        transcript, summary = _reminder_transcript(provider_call_id, variables, first, name)
    elif roll < 0.6:
        day = (placed_at + timedelta(days=rng.randint(1, 6))).date()
        hour = rng.choice((9, 10, 11, 14, 15, 16))
        when = f"{day.isoformat()}T{hour:02d}:00:00"
        transcript += [
            {"role": "user", "message": f"Yes, could I book an appointment on {day:%A} at {hour % 12 or 12}"
                                        f"{'am' if hour < 12 else 'pm'}?", "time_in_call_secs": 12},
            {"role": "agent", "message": "Done, you're booked. You'll get a reminder the day before.",
             "time_in_call_secs": 20},
        ]
        results = {"intent": {"value": "book_appointment"}, "service": {"value": "Follow-up appointment"},
                   "appointment_datetime": {"value": when}, "duration_minutes": {"value": 30},
                   "notes": {"value": f"Booked during campaign call about {topic[:120]}"}}
        summary = f"{name} booked a follow-up appointment on {day:%A %d %B} at {hour:02d}:00."
    elif roll < 0.85:
        transcript += [
            {"role": "user", "message": "Actually, my last invoice looks wrong, I was charged twice.",
             "time_in_call_secs": 12},
            {"role": "agent", "message": "I'm sorry about that, I've opened a ticket for our billing team.",
             "time_in_call_secs": 21},
        ]
        results = {"intent": {"value": "raise_ticket"}, "issue_summary": {"value": "Charged twice on last invoice"},
                   "issue_details": {"value": f"{name} reports a duplicate charge, raised during a campaign call."},
                   "priority": {"value": rng.choice(("medium", "high"))}, "category": {"value": "billing"}}
        summary = f"{name} reported a duplicate charge; a billing ticket was requested."
    else:
        transcript += [
            {"role": "user", "message": "Now isn't a good time, could you call me back next week?",
             "time_in_call_secs": 11},
            {"role": "agent", "message": "Of course. Have a good day!", "time_in_call_secs": 15},
        ]
        summary = f"{name} asked to be called back next week."
    return {
        "type": "post_call_transcription",
        "event_timestamp": int(placed_at.timestamp()) + duration_seconds,
        "data": {
            "agent_id": agent_id or "agent_simulated",
            "conversation_id": external_conversation_id,
            "status": "done",
            "transcript": transcript,
            "metadata": {
                "start_time_unix_secs": int(placed_at.timestamp()),
                "call_duration_secs": duration_seconds,
                "termination_reason": "end_call tool was called.",
                "main_language": "en",
                "phone_call": {"type": "twilio", "direction": "outbound", "external_number": to,
                               "call_sid": provider_call_id},
            },
            "analysis": {
                "call_successful": "success",
                "transcript_summary": summary,
                "data_collection_results": results,
            },
            "conversation_initiation_client_data": {
                "dynamic_variables": {**variables, "system__called_number": to,
                                      "system__timezone": business_timezone},
            },
        },
    }

