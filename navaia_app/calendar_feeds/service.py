"""Private calendar feeds: an iCalendar (RFC 5545) URL per user, every booking or one service's, that Google
Calendar, Outlook and Apple Calendar subscribe to.

- The URL carries a random token; only its SHA-256 is stored. Revoking makes the URL answer 404. Asking
  for a new URL of the same scope revokes the old one, so a user holds one live URL per scope.
- Each booking is one VEVENT: a stable UID (`booking-<id>@<host>`), SEQUENCE = the number of changes the
  booking's timeline recorded (so it only grows), STATUS TENTATIVE (pending), CONFIRMED, or CANCELLED
  (cancelled bookings stay in the feed so subscribed calendars drop them), times in the business's
  zone with its VTIMEZONE (the instant is the stored UTC one).
- The feed covers 90 days back and a year ahead (at most 5,000 events).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session, func, select

from navaia_app.activity.models import ActivityEntry
from navaia_app.auth.models import User
from navaia_app.bookings.models import Booking
from navaia_app.calendar_feeds.models import CalendarFeed
from navaia_app.core.errors import NotFound, ValidationFailed
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.customers.models import Customer

log = get_logger(__name__)

PAST, AHEAD, MAX_EVENTS = timedelta(days=90), timedelta(days=365), 5000
ICS_STATUS = {"pending": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED", "no_show": "CONFIRMED",
              "cancelled": "CANCELLED"}
FEED_PATH = "/api/calendar/{token}.ics"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    """The public URL of a calendar feed for `token` (under PUBLIC_BASE_URL)."""
    return get_settings().public_base_url.rstrip("/") + FEED_PATH.format(token=token)


@dataclass
class NewFeed:
    feed: CalendarFeed
    url: str  # shown once: only its hash is kept


def create_feed(*, session: Session, user: User, service: str | None = None, now: datetime | None = None) -> NewFeed:
    """A new private URL for `user` (every booking, or those of `service`); the previous URL of the same
    scope stops working."""
    service = (service or "").strip() or None
    if service is not None and len(service) > 120:
        raise ValidationFailed("Service is too long (120 characters at most).", field="service")
    now = now or utcnow()
    for old in session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                       CalendarFeed.revoked_at.is_(None))):
        if old.service == service:
            old.revoked_at = now
            session.add(old)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=_hash(token), service=service, created_at=now)
    session.add(feed)
    session.flush()
    log.info("calendar_feed.created", feed_id=feed.id, user_id=user.id, scoped=service is not None)
    return NewFeed(feed=feed, url=feed_url(token))


def list_feeds(*, session: Session, user: User) -> list[CalendarFeed]:
    """The user's live feeds (their URLs are not recoverable: revoke and create anew to get one)."""
    return list(session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                        CalendarFeed.revoked_at.is_(None))
                             .order_by(CalendarFeed.id)))


def revoke_feed(*, session: Session, user: User, feed_id: int, now: datetime | None = None) -> CalendarFeed:
    """Revoke one of the user's own feeds: its URL stops answering at once. Raises NotFound for a feed that is
    not the user's or is already revoked.
    """
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != user.id or feed.revoked_at is not None:
        raise NotFound(f"Calendar feed {feed_id} not found.")
    feed.revoked_at = now or utcnow()
    session.add(feed)
    log.info("calendar_feed.revoked", feed_id=feed.id, user_id=user.id)
    return feed


def _sequences(session: Session, booking_ids: list[int]) -> dict[int, int]:
    """Changes recorded on each booking's timeline (its creation not counted)."""
    if not booking_ids:
        return {}
    rows = session.exec(select(ActivityEntry.subject_id, func.count()).where(
        ActivityEntry.subject_type == "booking", ActivityEntry.subject_id.in_(booking_ids),
        ActivityEntry.kind != "created").group_by(ActivityEntry.subject_id))
    return dict(rows.all())


def render_feed(*, session: Session, token: str, now: datetime | None = None) -> bytes:
    """The iCalendar document behind a feed URL; NotFound for an unknown or revoked token."""
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token or ""))).first()
    if feed is None or feed.revoked_at is not None:
        raise NotFound("This calendar feed does not exist or was revoked.")
    user = session.get(User, feed.user_id)
    if user is None or not user.is_active:
        raise NotFound("This calendar feed does not exist or was revoked.")
    now = now or utcnow()
    feed.last_used_at = now
    session.add(feed)

    conditions = [Booking.starts_at >= now - PAST, Booking.starts_at < now + AHEAD]
    if feed.service:
        conditions.append(Booking.service == feed.service)
    rows = session.exec(select(Booking, Customer.name).join(Customer, Customer.id == Booking.customer_id)
                        .where(*conditions).order_by(Booking.starts_at, Booking.id).limit(MAX_EVENTS)).all()
    sequences = _sequences(session, [b.id for b, _ in rows])

    settings = get_settings()
    zone = ZoneInfo(settings.business_timezone)
    host = urlsplit(settings.public_base_url).hostname or "navaia"
    base = settings.public_base_url.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//Navaia//Bookings feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Navaia bookings{f' ({feed.service})' if feed.service else ''}")
    calendar.add("x-wr-timezone", zone.key)
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    for booking, customer_name in rows:
        event = Event()
        event.add("uid", f"booking-{booking.id}@{host}")
        event.add("dtstamp", booking.updated_at)
        event.add("created", booking.created_at)
        event.add("last-modified", booking.updated_at)
        event.add("sequence", sequences.get(booking.id, 0))
        event.add("dtstart", booking.starts_at.astimezone(zone))
        event.add("dtend", booking.ends_at.astimezone(zone))
        event.add("summary", f"{booking.service}: {customer_name}")
        event.add("status", ICS_STATUS.get(booking.status, "CONFIRMED"))
        description = f"Status: {booking.status.replace('_', ' ')}\nResource: {booking.resource}"
        if booking.notes:
            description += f"\n\n{booking.notes}"
        event.add("description", description)
        event.add("url", f"{base}/bookings?id={booking.id}")
        if booking.status == "cancelled":
            event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def services_in_use(*, session: Session) -> list[str]:
    """The services bookings exist for (what a feed can be limited to)."""
    return list(session.exec(select(Booking.service).distinct().order_by(Booking.service).limit(200)))
