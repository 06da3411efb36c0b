"""Ticket rules: validation, the status workflow (every move), activity entries, lists, counts, figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from navaia_app.activity.models import ActivityEntry
from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.core.live import versions
from navaia_app.customers.models import Customer
from navaia_app.tickets import service
from navaia_app.tickets.models import TICKET_STATUSES, Ticket, TicketPatch

ALLOWED = {("open", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed"), ("resolved", "open"),
           ("closed", "open")}


def _customer(session, name="Ada Lovelace", phone="+14155550123") -> Customer:
    customer = Customer(name=name, phone=phone)
    session.add(customer)
    session.commit()
    return customer


def _ticket(session, **fields) -> Ticket:
    fields.setdefault("title", "Printer jams")
    ticket = service.create_ticket(session=session, **fields)
    session.commit()
    return ticket


def _activity(session, ticket_id) -> list[ActivityEntry]:
    session.expire_all()
    return list(session.exec(select(ActivityEntry).where(ActivityEntry.subject_type == "ticket",
                                                         ActivityEntry.subject_id == ticket_id)
                             .order_by(ActivityEntry.id)))


# --- create ----------------------------------------------------------------------------------------


def test_create_with_defaults_records_who_created_it(session, make_user):
    user = make_user(name="Grace Hopper")
    customer = _customer(session)
    ticket = _ticket(session, title="  Laptop won't boot ", description=" black screen ", customer_id=customer.id,
                     category=" repair ", actor_id=user.id)
    session.expire_all()
    row = session.get(Ticket, ticket.id)
    assert (row.title, row.description, row.category, row.status, row.priority, row.source) == (
        "Laptop won't boot", "black screen", "repair", "open", "medium", "manual")
    assert row.created_at == row.updated_at and row.created_at.tzinfo is not None
    assert row.resolved_at is None
    [entry] = _activity(session, ticket.id)
    assert (entry.kind, entry.actor_id, entry.from_value, entry.to_value) == ("created", user.id, None, "open")
    assert [v.actor_name for v in service.ticket_activity(session=session, ticket_id=ticket.id)] == ["Grace Hopper"]


def test_create_by_the_system_has_no_actor_and_bumps_the_live_topic(session):
    before = versions(session, ["tickets"])["tickets"]
    ticket = _ticket(session, source="ai_call")
    assert versions(session, ["tickets"])["tickets"] == before + 1
    [entry] = _activity(session, ticket.id)
    assert entry.actor_id is None
    assert service.ticket_activity(session=session, ticket_id=ticket.id)[0].actor_name == ""


@pytest.mark.parametrize(("fields", "errors"), [
    ({"title": "  "}, {"title"}),
    ({"title": "x" * 201}, {"title"}),
    ({"description": "x" * 10_001}, {"description"}),
    ({"category": "x" * 61}, {"category"}),
    ({"priority": "asap"}, {"priority"}),
    ({"status": "done"}, {"status"}),
    ({"source": "email"}, {"source"}),
    ({"title": "", "priority": "asap", "source": "fax"}, {"title", "priority", "source"}),
])
def test_create_refuses_bad_fields_naming_each(session, fields, errors):
    fields = {"title": "Printer jams", **fields}
    with pytest.raises(ValidationFailed) as caught:
        service.create_ticket(session=session, **fields)
    assert set(caught.value.errors) == errors
    assert caught.value.message
    session.rollback()
    assert session.exec(select(func.count()).select_from(Ticket)).one() == 0


@pytest.mark.parametrize(("field", "value"), [("customer_id", 999), ("conversation_id", 999), ("assignee_id", 999)])
def test_create_refuses_unknown_references(session, field, value):
    with pytest.raises(ValidationFailed) as caught:
        service.create_ticket(session=session, title="x", **{field: value})
    assert caught.value.field == field and "does not exist" in caught.value.message


def test_deactivated_people_cannot_be_assigned(session, make_user):
    user = make_user(name="Gone Person")
    user.is_active = False
    session.add(user)
    session.commit()
    with pytest.raises(ValidationFailed, match="deactivated"):
        service.create_ticket(session=session, title="x", assignee_id=user.id)


# --- the workflow -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "target"), list(permutations(TICKET_STATUSES, 2)))
def test_every_move_of_the_workflow(session, make_user, start, target):
    user = make_user()
    ticket = _ticket(session, status=start)
    if (start, target) in ALLOWED:
        moved = service.change_ticket_status(session=session, ticket_id=ticket.id, status=target, actor_id=user.id)
        session.commit()
        assert moved.status == target
        entry = _activity(session, ticket.id)[-1]
        assert (entry.kind, entry.from_value, entry.to_value, entry.actor_id) == ("status", start, target, user.id)
    else:
        with pytest.raises(Conflict) as caught:
            service.change_ticket_status(session=session, ticket_id=ticket.id, status=target, actor_id=user.id)
        session.rollback()
        message = caught.value.message
        assert f"cannot go from {service.STATUS_LABELS[start].lower()} to {service.STATUS_LABELS[target].lower()}" \
            in message
        assert "can only move to" in message
        session.expire_all()
        assert session.get(Ticket, ticket.id).status == start
        assert [e.kind for e in _activity(session, ticket.id)] == ["created"]


def test_the_same_status_again_changes_nothing(session):
    ticket = _ticket(session)
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="open")
    session.commit()
    assert [e.kind for e in _activity(session, ticket.id)] == ["created"]


def test_unknown_status_is_a_validation_error(session):
    ticket = _ticket(session)
    with pytest.raises(ValidationFailed, match="Status must be one of"):
        service.change_ticket_status(session=session, ticket_id=ticket.id, status="done")


def test_resolved_at_follows_the_workflow(session):
    ticket = _ticket(session)
    t0 = datetime(2026, 3, 16, 9, tzinfo=timezone.utc)
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="in_progress", now=t0)
    assert ticket.resolved_at is None
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="resolved", now=t0 + timedelta(hours=1))
    assert ticket.resolved_at == t0 + timedelta(hours=1)
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="closed", now=t0 + timedelta(hours=2))
    assert ticket.resolved_at == t0 + timedelta(hours=1)  # closing keeps when it was solved
    assert ticket.updated_at == t0 + timedelta(hours=2)
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="open", now=t0 + timedelta(hours=3))
    assert ticket.resolved_at is None
    session.commit()
    moves = [(e.from_value, e.to_value, e.created_at) for e in _activity(session, ticket.id) if e.kind == "status"]
    assert moves == [("open", "in_progress", t0), ("in_progress", "resolved", t0 + timedelta(hours=1)),
                     ("resolved", "closed", t0 + timedelta(hours=2)), ("closed", "open", t0 + timedelta(hours=3))]


def test_a_ticket_created_resolved_has_resolved_at(session):
    ticket = _ticket(session, status="closed")
    assert ticket.resolved_at == ticket.created_at


# --- other changes and their activity -------------------------------------------------------------------


def test_priority_assignee_and_category_changes_are_recorded_with_who_and_from_to(session, make_user):
    ada, grace = make_user(name="Ada Lovelace"), make_user(name="Grace Hopper")
    ticket = _ticket(session, priority="low", category="repair")
    service.update_ticket(session=session, ticket_id=ticket.id, actor_id=ada.id,
                          patch=TicketPatch(priority="urgent", assignee_id=grace.id, category="billing"))
    session.commit()
    service.assign_ticket(session=session, ticket_id=ticket.id, assignee_id=None, actor_id=None)
    session.commit()
    entries = [(e.kind, e.actor_id, e.from_value, e.to_value) for e in _activity(session, ticket.id)]
    assert entries == [
        ("created", None, None, "open"),
        ("priority", ada.id, "low", "urgent"),
        ("category", ada.id, "repair", "billing"),
        ("assignee", ada.id, None, "Grace Hopper"),
        ("assignee", None, "Grace Hopper", None),
    ]
    session.expire_all()
    row = session.get(Ticket, ticket.id)
    assert (row.priority, row.category, row.assignee_id) == ("urgent", "billing", None)


def test_a_refused_patch_changes_nothing_at_all(session):
    ticket = _ticket(session, priority="low")
    with pytest.raises(Conflict):
        service.update_ticket(session=session, ticket_id=ticket.id,
                              patch=TicketPatch(priority="high", title="New title", status="closed"))
    session.rollback()
    session.expire_all()
    row = session.get(Ticket, ticket.id)
    assert (row.priority, row.title, row.status) == ("low", "Printer jams", "open")
    assert [e.kind for e in _activity(session, ticket.id)] == ["created"]
    with pytest.raises(ValidationFailed) as caught:
        service.update_ticket(session=session, ticket_id=ticket.id, patch={"title": "", "priority": "asap"})
    assert set(caught.value.errors) == {"title", "priority"}


def test_an_unchanged_patch_writes_nothing(session):
    ticket = _ticket(session, priority="low")
    before = versions(session, ["tickets"])["tickets"]
    service.update_ticket(session=session, ticket_id=ticket.id, patch=TicketPatch(priority="low", title="Printer jams"))
    session.commit()
    assert versions(session, ["tickets"])["tickets"] == before
    assert len(_activity(session, ticket.id)) == 1


def test_comments_join_the_timeline_in_order(session, make_user):
    user = make_user(name="Ada Lovelace")
    ticket = _ticket(session)
    service.add_comment(session=session, ticket_id=ticket.id, body=" Called back, no answer. ", actor_id=user.id)
    service.change_ticket_status(session=session, ticket_id=ticket.id, status="in_progress", actor_id=user.id)
    service.add_comment(session=session, ticket_id=ticket.id, body="Part ordered.", actor_id=None)
    session.commit()
    timeline = service.ticket_activity(session=session, ticket_id=ticket.id)
    assert [(v.entry.kind, v.entry.body, v.actor_name) for v in timeline] == [
        ("created", "", ""), ("comment", "Called back, no answer.", "Ada Lovelace"),
        ("status", "", "Ada Lovelace"), ("comment", "Part ordered.", "")]
    for body in ("", "   ", "x" * 4001):
        with pytest.raises(ValidationFailed):
            service.add_comment(session=session, ticket_id=ticket.id, body=body)


def test_detail_has_customer_assignee_and_activity(session, make_user):
    user = make_user(name="Grace Hopper")
    customer = _customer(session)
    ticket = _ticket(session, customer_id=customer.id, assignee_id=user.id)
    detail = service.get_ticket_detail(session=session, ticket_id=ticket.id)
    assert (detail.customer.name, detail.assignee.name) == ("Ada Lovelace", "Grace Hopper")
    assert [v.entry.kind for v in detail.activity] == ["created"]


def test_unknown_ticket_is_not_found(session):
    for call in (lambda: service.get_ticket(session=session, ticket_id=42),
                 lambda: service.change_ticket_status(session=session, ticket_id=42, status="closed"),
                 lambda: service.add_comment(session=session, ticket_id=42, body="hi"),
                 lambda: service.delete_ticket(session=session, ticket_id=42)):
        with pytest.raises(NotFound, match="Ticket 42 not found"):
            call()


def test_delete_removes_the_ticket_and_its_timeline(session):
    ticket = _ticket(session)
    service.add_comment(session=session, ticket_id=ticket.id, body="hello")
    service.delete_ticket(session=session, ticket_id=ticket.id)
    session.commit()
    assert session.exec(select(func.count()).select_from(Ticket)).one() == 0
    assert _activity(session, ticket.id) == []


# --- lists, counts, figures -----------------------------------------------------------------------------


def _many(session, make_user):
    ada = make_user(name="Ada")
    customer = _customer(session)
    base = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    specs = [
        ("Printer jams", "open", "low", "manual", None, None),
        ("Invoice 100% wrong", "open", "urgent", "api", customer.id, ada.id),
        ("Wi-Fi drops", "in_progress", "high", "ai_call", customer.id, ada.id),
        ("Screen cracked", "resolved", "medium", "manual", None, None),
        ("Refund please", "closed", "high", "ai_call", customer.id, None),
        ("Login_broken", "open", "medium", "manual", None, None),
    ]
    for n, (title, status, priority, source, customer_id, assignee_id) in enumerate(specs):
        service.create_ticket(session=session, title=title, description=f"details of {title.lower()}",
                              status=status, priority=priority, source=source, customer_id=customer_id,
                              assignee_id=assignee_id, created_at=base + timedelta(days=n))
    session.commit()
    return ada, customer, base


def test_list_filters_search_sort_and_paginate(session, make_user):
    ada, customer, base = _many(session, make_user)

    def titles(**params):
        items, total = service.list_tickets(session=session, **params)
        if "limit" not in params:
            assert total == len(items)
        return [t.title for t in items]

    assert titles()[:2] == ["Login_broken", "Refund please"]  # newest first
    assert titles(status="open") == ["Login_broken", "Invoice 100% wrong", "Printer jams"]
    assert titles(status=["resolved", "closed"]) == ["Refund please", "Screen cracked"]
    assert titles(priority="high") == ["Refund please", "Wi-Fi drops"]
    assert titles(source="ai_call") == ["Refund please", "Wi-Fi drops"]
    assert titles(customer_id=customer.id, status="open") == ["Invoice 100% wrong"]
    assert titles(assignee_id=ada.id) == ["Wi-Fi drops", "Invoice 100% wrong"]
    assert titles(unassigned=True, status="open") == ["Login_broken", "Printer jams"]
    assert titles(q="WI-FI") == ["Wi-Fi drops"]
    assert titles(q="details of screen") == ["Screen cracked"]
    assert titles(q="100%") == ["Invoice 100% wrong"]  # % is literal, not a wildcard
    assert titles(q="n_b") == ["Login_broken"]  # _ too
    assert titles(q="%") == ["Invoice 100% wrong"]
    assert titles(created_from=base + timedelta(days=1), created_to=base + timedelta(days=3)) == [
        "Wi-Fi drops", "Invoice 100% wrong"]
    assert titles(sort="priority") == ["Invoice 100% wrong", "Refund please", "Wi-Fi drops", "Login_broken",
                                       "Screen cracked", "Printer jams"]
    assert titles(sort="title", descending=False)[0] == "Invoice 100% wrong"
    items, total = service.list_tickets(session=session, limit=2, offset=2)
    assert total == 6 and [t.title for t in items] == ["Screen cracked", "Wi-Fi drops"]
    items, total = service.list_tickets(session=session, limit=2, offset=10)
    assert (items, total) == ([], 6)


@pytest.mark.parametrize(("params", "field"), [({"status": "done"}, "status"), ({"priority": "asap"}, "priority"),
                                               ({"source": "fax"}, "source"), ({"sort": "password"}, "sort")])
def test_list_refuses_unknown_filter_values(session, params, field):
    with pytest.raises(ValidationFailed) as caught:
        service.list_tickets(session=session, **params)
    assert caught.value.field == field


def test_naive_dates_are_refused_in_filters(session):
    with pytest.raises(ValidationFailed, match="time zone"):
        service.list_tickets(session=session, created_from=datetime(2026, 3, 1))


def test_counts_per_status_follow_the_other_filters(session, make_user):
    ada, customer, _ = _many(session, make_user)
    assert service.count_by_status(session=session) == {"open": 3, "in_progress": 1, "resolved": 1, "closed": 1}
    assert service.count_by_status(session=session, customer_id=customer.id) == {
        "open": 1, "in_progress": 1, "resolved": 0, "closed": 1}
    assert service.count_by_status(session=session, q="printer")["open"] == 1
    assert service.count_open_tickets(session=session) == 4
    assert service.list_categories(session=session) == []


def test_ticket_volume_counts_per_local_day(session):
    zone = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)  # 08:00 in New York, after the DST change of 8 March
    times = [
        datetime(2026, 3, 10, 3, 59, tzinfo=timezone.utc),   # 23:59 on the 9th in New York (EDT)
        datetime(2026, 3, 10, 4, 0, tzinfo=timezone.utc),    # 00:00 on the 10th
        datetime(2026, 3, 10, 11, 59, tzinfo=timezone.utc),  # 07:59 on the 10th
        datetime(2026, 3, 8, 4, 30, tzinfo=timezone.utc),    # 23:30 on the 7th (EST)
        datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc),     # 00:00 on the 8th (EST)
        datetime(2026, 2, 1, tzinfo=timezone.utc),           # too old
        datetime(2026, 3, 10, 12, 30, tzinfo=timezone.utc),  # later today (imported with its own time)
        datetime(2026, 3, 11, 4, 0, tzinfo=timezone.utc),    # tomorrow in New York
    ]
    for n, at in enumerate(times):
        service.create_ticket(session=session, title=f"t{n}", created_at=at)
    session.commit()
    volume = dict(service.ticket_volume(session=session, now=now, zone=zone, days=30))
    assert len(volume) == 30 and max(volume) == now.astimezone(zone).date()
    d = now.astimezone(zone).date()
    assert volume[d] == 3
    assert volume[d - timedelta(days=1)] == 1
    assert volume[d - timedelta(days=2)] == 1
    assert volume[d - timedelta(days=3)] == 1
    assert sum(volume.values()) == 6


@pytest.mark.parametrize("few", [1, 2000])
def test_the_page_its_total_and_its_counts_agree_whichever_way_a_search_runs(session, make_user, monkeypatch, few):
    monkeypatch.setattr(service, "SMALL_RESULT", few)  # 1: every search "finds many"; 2000: all "few"
    _many(session, make_user)
    everything = sorted(session.exec(select(Ticket)).all(), key=lambda t: (t.created_at, t.id), reverse=True)
    cases = [
        ({}, lambda t: True),
        ({"q": "details"}, lambda t: True),
        ({"q": "WI-FI"}, lambda t: "wi-fi" in t.title.lower()),
        ({"q": "nothing like it"}, lambda t: False),
        ({"q": "details", "status": "open"}, lambda t: t.status == "open"),
        ({"q": "r", "priority": "high"}, lambda t: t.priority == "high" and "r" in (t.title + t.description).lower()),
        ({"status": ["resolved", "closed"]}, lambda t: t.status in ("resolved", "closed")),
    ]
    for filters, keep in cases:
        expected = [t for t in everything if keep(t)]
        without_status = [t for t in everything if keep(t) or ("status" in filters and _matches_but_status(t, filters))]
        for offset in (0, 2):
            items, total, counts = service.ticket_page(session=session, limit=2, offset=offset, **filters)
            assert [t.id for t in items] == [t.id for t in expected[offset:offset + 2]], filters
            assert total == len(expected), filters
            assert sum(counts.values()) == len(without_status), filters


def _matches_but_status(ticket, filters) -> bool:
    q = filters.get("q", "").lower()
    return q in f"{ticket.title} {ticket.description}".lower() and (
        "priority" not in filters or ticket.priority == filters["priority"])
