"""What the detail panel of a ticket or a booking shows of its customer and of the call it came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from navaia_app.core.validation import display_phone
from navaia_app.ui.timefmt import fmt_short


@dataclass
class RecordDetail:
    """The part every record's detail panel shares; a page's own view adds its fields."""

    id: int = 0
    status: str = ""
    allowed: list[str] = dataclasses.field(default_factory=list)  # the status now and those it may go to
    source_label: str = ""
    created: str = ""
    customer_id: int = 0
    customer_name: str = ""
    customer_phone: str = ""
    customer_email: str = ""
    conversation_id: int = 0
    conversation_summary: str = ""

    def show_customer(self, customer) -> None:
        self.customer_id, self.customer_name = customer.id, customer.name
        self.customer_phone, self.customer_email = display_phone(customer.phone), customer.email or ""

    def show_call(self, call) -> None:
        self.conversation_id, self.conversation_summary = call.id, call.summary or ""


@dataclass
class TimelineRow:
    id: int
    icon: str
    who: str
    text: str
    when: str
    kind: str = ""
    body: str = ""  # a comment's text


def timeline_rows(activity: Iterable, describe: Callable, zone: ZoneInfo, now: datetime) -> list[TimelineRow]:
    """A record's activity (ActivityView, oldest first) as its detail panel lists it; `describe(entry)` says
    (icon, sentence) for each entry."""
    rows = []
    for view in activity:
        entry = view.entry
        icon, text = describe(entry)
        rows.append(TimelineRow(id=entry.id, icon=icon, who=view.actor_name or "Navaia (system or AI agent)",
                                text=text, when=fmt_short(entry.created_at, zone, now), kind=entry.kind,
                                body=entry.body if entry.kind == "comment" else ""))
    return rows
