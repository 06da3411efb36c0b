"""Calendar feeds over HTTP, on SQLite and PostgreSQL, parsed back with `icalendar`: stable UIDs, SEQUENCE that
grows with each change, cancelled bookings as STATUS:CANCELLED, the business's zone, revocation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from icalendar import Calendar

from navaia_app.bookings.service import create_booking, update_booking
from navaia_app.core.db import session_scope
from navaia_app.customers.models import CustomerIn
from navaia_app.customers.service import create_customer


def _events(api_client, url: str) -> tuple[Calendar, dict[str, object]]:
    response = api_client.get(urlsplit(url).path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return calendar, {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_feed_follows_the_bookings_and_can_be_revoked(app_env, set_env, api_client, auth_headers):
    set_env(BUSINESS_TIMEZONE="Europe/Paris", REDIS_URL="redis://127.0.0.1:6390/0")
    starts = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=5)
    with session_scope() as session:
        customer = create_customer(session=session, customer_in=CustomerIn(name="Ines Moreau", phone="+33612345678"))
        cut = create_booking(session=session, customer_id=customer.id, service="Haircut", starts_at=starts,
                             duration_minutes=45, enforce_schedule=False)
        colour = create_booking(session=session, customer_id=customer.id, service="Colour",
                                starts_at=starts + timedelta(hours=2), enforce_schedule=False)

    created = api_client.post("/api/v1/calendar-feeds", headers=auth_headers, json={})
    assert created.status_code == 201, created.text
    url = created.json()["url"]
    assert "/api/calendar/" in url and url.endswith(".ics")

    calendar, events = _events(api_client, url)
    assert str(calendar["version"]) == "2.0" and calendar.walk("VTIMEZONE")[0]["tzid"] == "Europe/Paris"
    uid = next(u for u in events if u.startswith(f"booking-{cut.id}@"))
    event = events[uid]
    assert event.decoded("dtstart") == starts and event.decoded("dtend") == starts + timedelta(minutes=45)
    assert str(event["dtstart"].dt.tzinfo) == "Europe/Paris"
    assert event["sequence"] == 0 and str(event["status"]) == "TENTATIVE"
    assert "Haircut" in str(event["summary"]) and len(events) == 2

    with session_scope() as session:
        update_booking(session=session, booking_id=cut.id, patch={"starts_at": starts + timedelta(days=1)},
                       enforce_schedule=False)
    _, events = _events(api_client, url)
    assert events[uid]["sequence"] == 1 and events[uid].decoded("dtstart") == starts + timedelta(days=1)
    with session_scope() as session:
        update_booking(session=session, booking_id=cut.id, patch={"status": "cancelled"})
    _, events = _events(api_client, url)
    assert events[uid]["sequence"] == 2 and str(events[uid]["status"]) == "CANCELLED"  # same UID, kept

    scoped = api_client.post("/api/v1/calendar-feeds", headers=auth_headers, json={"service": "Colour"}).json()
    _, only = _events(api_client, scoped["url"])
    assert list(only) == [f"booking-{colour.id}@{urlsplit(url).hostname}"]

    listed = api_client.get("/api/v1/calendar-feeds", headers=auth_headers).json()
    assert listed["total"] == 2 and "url" not in listed["items"][0]
    assert api_client.delete(f"/api/v1/calendar-feeds/{created.json()['id']}", headers=auth_headers).status_code == 204
    assert api_client.get(urlsplit(url).path).status_code == 404
    replaced = api_client.post("/api/v1/calendar-feeds", headers=auth_headers, json={"service": "Colour"}).json()
    assert api_client.get(urlsplit(scoped["url"]).path).status_code == 404  # a new URL of a scope ends the old
    assert api_client.get(urlsplit(replaced["url"]).path).status_code == 200
    assert api_client.get("/api/calendar/" + "x" * 43 + ".ics").status_code == 404
