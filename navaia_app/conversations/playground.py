"""The Playground's call outcomes: a post_call_transcription like the agent's, composed from a form,
signed with the configured secret and POSTed to the app's own webhook URL (the real path)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


from navaia_app.core.signing import post_signed_event_async


def new_conversation_id() -> str:
    return f"conv_playground_{uuid.uuid4().hex[:20]}"


def compose_call(
    *, intent: str, customer_name: str = "", customer_phone: str = "", customer_email: str = "", service: str = "",
    appointment: str = "", duration_minutes: str = "", notes: str = "", issue_summary: str = "",
    issue_details: str = "", priority: str = "", category: str = "", conversation_id: str | None = None,
    agent_id: str = "agent_playground", now: int | None = None,
) -> dict[str, Any]:
    """A post_call_transcription webhook as ElevenLabs sends it, with the given intent and slots."""
    now = now or int(time.time())
    slots: dict[str, Any] = {"intent": intent, "customer_name": customer_name, "customer_email": customer_email,
                             "customer_phone": customer_phone}
    who = customer_name or "the caller"
    if intent == "book_appointment":
        slots.update(service=service, appointment_datetime=appointment, duration_minutes=duration_minutes,
                     notes=notes)
        ask = f"Hi, I'd like to book {service or 'an appointment'}" + (f" on {appointment}." if appointment else ".")
        answer = f"Certainly. I have noted {service or 'the appointment'} for {who}."
        summary = f"{who} asked to book {service or 'an appointment'}" + (f" at {appointment}." if appointment else ".")
        title = f"Booking: {service}" if service else "Booking request"
    elif intent == "raise_ticket":
        slots.update(issue_summary=issue_summary, issue_details=issue_details, priority=priority, category=category)
        ask = f"Hello, I have a problem: {issue_summary or 'something is wrong'}. {issue_details}".strip()
        answer = "I'm sorry about that. I've opened a ticket and our team will follow up."
        summary = f"{who} reported: {issue_summary or 'an issue'}."
        title = issue_summary or "Support request"
    else:
        ask = "Hi, I have a question about my account."
        answer = "Let me pass this on to the team."
        summary = f"{who} called about something the agent could not classify."
        title = "General enquiry"
    results = {key: {"data_collection_id": key, "value": value, "rationale": "Composed in the Playground."}
               for key, value in slots.items() if value not in (None, "")}
    phone = customer_phone or None
    return {
        "type": "post_call_transcription",
        "event_timestamp": now,
        "data": {
            "agent_id": agent_id,
            "conversation_id": conversation_id or new_conversation_id(),
            "status": "done",
            "transcript": [
                {"role": "agent", "message": "Hello, this is Navaia. How can I help you today?",
                 "time_in_call_secs": 0},
                {"role": "user", "message": ask, "time_in_call_secs": 3},
                {"role": "agent", "message": "May I have your name and phone number?", "time_in_call_secs": 9},
                {"role": "user", "message": ", ".join(v for v in (customer_name, customer_phone, customer_email) if v)
                 or "I'd rather not say.", "time_in_call_secs": 13},
                {"role": "agent", "message": answer, "time_in_call_secs": 19},
            ],
            "metadata": {
                "start_time_unix_secs": now - 30, "call_duration_secs": 28, "termination_reason": "playground",
                **({"phone_call": {"type": "twilio", "direction": "inbound", "external_number": phone}}
                   if phone else {}),
            },
            "analysis": {"call_successful": "success", "transcript_summary": summary, "call_summary_title": title,
                         "data_collection_results": results},
            "conversation_initiation_client_data": {"dynamic_variables": {"channel": "playground"}},
        },
    }


async def send_signed(url: str, doc: dict[str, Any], secret: str, *, timeout: float = 10) -> tuple[int, str]:
    """POST the document signed as ElevenLabs does; (status code, detail or status text)."""
    response = await post_signed_event_async(url, doc, secret, timeout=timeout)
    try:
        answer = response.json()
        text = str(answer.get("detail") or answer.get("status") or "")
    except ValueError:
        text = response.text[:200]
    return response.status_code, text
