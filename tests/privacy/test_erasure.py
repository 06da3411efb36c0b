"""The customer's rights, on SQLite and PostgreSQL: the export holds everything about them; after erasure
no table, no file and no log line written afterwards holds their name, phone number or email, while the
figures (how many bookings, tickets, calls) stay and one audit line says that an erasure happened."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import SQLModel, func, select

from navaia_app.audit.models import AuditEntry
from navaia_app.bookings.models import Booking
from navaia_app.bookings.service import create_booking
from navaia_app.campaigns import service as campaigns
from navaia_app.campaigns.models import CampaignIn
from navaia_app.core.db import get_engine, session_scope
from navaia_app.jobs.tasks import process_webhook_event
from navaia_app.tickets.models import Ticket
from navaia_app.tickets.service import add_comment
from navaia_app.webhooks_out import service as hooks
from tests.conversations.conftest import ticket_call

NAME, PHONE, EMAIL = "Zelda Quartermaine", "+12125557788", "zelda.quartermaine@example.org"
NEEDLES = [NAME.lower(), PHONE, PHONE[2:], EMAIL.lower(), "quartermaine"]
AUDIO = b"ID3" + b"\x00" * 64 + f"spoken: {NAME}".encode()


def _call_doc() -> dict:
    doc = ticket_call("conv_zelda_1", customer_name=NAME, customer_phone=PHONE, customer_email=EMAIL,
                      issue_summary=f"{NAME} cannot sign in", issue_details=f"Call {NAME} back on {PHONE}")
    doc["data"]["transcript"][1]["message"] = f"Hi, I'm {NAME}, write to {EMAIL}"
    doc["data"]["metadata"]["phone_call"]["external_number"] = PHONE
    doc["data"]["analysis"]["transcript_summary"] = f"{NAME} reports a sign-in problem."
    return doc


def _audio_doc() -> dict:
    return {"type": "post_call_audio", "event_timestamp": int(time.time()),
            "data": {"agent_id": "agent_7d1f0c2a9b", "conversation_id": "conv_zelda_1",
                     "full_audio": base64.b64encode(AUDIO).decode()}}


def _dump_database() -> list[tuple[str, str]]:
    """Every cell of every table, as text."""
    cells = []
    with get_engine().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).all():
                cells += [(table.name, str(value)) for value in row]
    return cells


def _found(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text.lower()]


def test_export_then_erase_leaves_nothing_that_identifies_them(call_env, set_env, deliver, post_webhook, api_client,
                                                              auth_headers, make_user, login, capsys):
    set_env(OUTGOING_WEBHOOKS_ALLOW_PRIVATE="true")
    admin = make_user(email="privacy-admin@example.com", role="admin")
    with session_scope() as session:  # a receiver subscribed to everything: payloads about her in the outbox
        hooks.create_endpoint(session=session, actor=admin, url="http://127.0.0.1:9/hooks",
                              events=list(hooks.EVENT_TYPES))
    deliver(_call_doc())
    audio = post_webhook(_audio_doc())
    assert audio.status_code == 200
    assert process_webhook_event(audio.json()["event_id"]) == "processed"

    customers = api_client.get(f"/api/v1/customers?email={EMAIL}", headers=auth_headers).json()["items"]
    (customer,) = customers
    cid = customer["id"]
    with session_scope() as session:
        ticket = session.exec(select(Ticket).where(Ticket.customer_id == cid)).one()
        add_comment(session=session, ticket_id=ticket.id, body=f"Spoke to {NAME}, she wants a callback")
        create_booking(session=session, customer_id=cid, service="Consultation", enforce_schedule=False,
                       starts_at=datetime.now(timezone.utc) + timedelta(days=2), notes=f"{NAME} prefers mornings")
        campaign = campaigns.create_campaign(session=session, campaign_in=CampaignIn(name="Spring check-in"))
        campaigns.set_csv_audience(session=session, campaign_id=campaign.id,
                                   content=f"name,phone,email\n{NAME},{PHONE},{EMAIL}\nOther Person,+12125550000,\n")

    # the export: everything about her, and the recording in the ZIP
    exported = api_client.get(f"/api/v1/customers/{cid}/export", headers=auth_headers)
    assert exported.status_code == 200
    document = exported.json()
    assert document["customer"]["email"] == EMAIL and len(document["tickets"]) == 1
    assert len(document["bookings"]) == 1 and document["conversations"][0]["transcript"]
    assert any(e["body"].startswith("Spoke to") for e in document["activity"])
    archive = zipfile.ZipFile(io.BytesIO(api_client.get(f"/api/v1/customers/{cid}/export?format=zip",
                                                        headers=auth_headers).content))
    assert archive.read(document["recordings"][0]["file"]) == AUDIO
    assert json.loads(archive.read("customer.json"))["customer"]["name"] == NAME
    media = Path(call_env.media_dir)
    assert any(AUDIO == p.read_bytes() for p in media.rglob("*") if p.is_file())

    before = {table for table, cell in _dump_database() if _found(cell)}
    assert {"customers", "conversations", "webhook_events", "tickets", "bookings", "activity_entries",
            "outgoing_events", "campaigns"} <= before  # what the erasure has to clean

    agent = login(make_user(email="privacy-agent@example.com", role="agent").email)
    assert api_client.post(f"/api/v1/customers/{cid}/erase", headers=agent).status_code == 403
    assert api_client.get(f"/api/v1/customers/{cid}/export", headers=agent).status_code == 403

    erased = api_client.post(f"/api/v1/customers/{cid}/erase", headers=auth_headers)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["recordings"] >= 1
    assert api_client.post(f"/api/v1/customers/{cid}/erase", headers=auth_headers).status_code == 409

    capsys.readouterr()  # from here on, every log line must be clean
    again = post_webhook(_call_doc())  # the same webhook delivered again: recognised, nothing comes back
    assert again.status_code == 200
    api_client.get(f"/api/v1/customers/{cid}", headers=auth_headers)
    api_client.get(f"/api/v1/customers/{cid}/export", headers=auth_headers)
    api_client.get("/api/v1/conversations", headers=auth_headers)
    logs = capsys.readouterr()
    assert not _found(logs.out + logs.err), "a log line written after the erasure names her"

    leaks = [(table, cell[:120]) for table, cell in _dump_database() if _found(cell)]
    assert leaks == [], leaks
    for path in media.rglob("*"):
        if path.is_file():
            assert not _found(path.read_bytes().decode("latin-1")), path
    assert not any(AUDIO == p.read_bytes() for p in media.rglob("*") if p.is_file()), "the recording is gone"

    with session_scope() as session:  # the figures stay
        assert session.exec(select(func.count()).select_from(Booking).where(Booking.customer_id == cid)).one() == 1
        assert session.exec(select(func.count()).select_from(Ticket).where(Ticket.customer_id == cid)).one() == 1
        lines = session.exec(select(AuditEntry).where(AuditEntry.action == "customer.erased")).all()
    assert len(lines) == 1 and lines[0].target_id == str(cid) and lines[0].actor_email == "admin@example.com"
    after = api_client.get(f"/api/v1/customers/{cid}", headers=auth_headers).json()
    assert after["name"] == "Erased customer" and after["email"] is None and after["do_not_call"] is True
