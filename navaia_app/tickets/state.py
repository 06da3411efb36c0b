from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import reflex as rx
from sqlmodel import select

from navaia_app.auth import service as auth_service
from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.conversations import service as conversations
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.types import utcnow
from navaia_app.core.zones import customer_zone, local_midnight
from navaia_app.customers.models import Customer
from navaia_app.customers.picker import CustomerPickerMixin
from navaia_app.tickets import service
from navaia_app.tickets.models import TICKET_PRIORITIES, TICKET_STATUSES, TicketPatch
from navaia_app.ui.confirm import FormDialogMixin
from navaia_app.ui.detail import RecordDetail, TimelineRow, timeline_rows
from navaia_app.ui.live import LivePageMixin
from navaia_app.ui.optimistic import OptimisticStatusMixin, show_in_detail, with_status
from navaia_app.ui.paging import DateRangeMixin, PagedMixin, SearchMixin, sort_by_column
from navaia_app.ui.timefmt import ViewerZoneMixin, fmt_short, fmt_when, parse_day

TABS = ("all", *TICKET_STATUSES)
ANY = "any"


@dataclass
class TicketRow:
    id: int
    title: str
    customer: str
    status: str
    priority: str
    priority_label: str
    source: str
    source_label: str
    assignee: str
    category: str
    created: str
    created_full: str
    allowed: list[str]


@dataclass
class TicketView(RecordDetail):
    title: str = ""
    description: str = ""
    status: str = "open"
    priority: str = "medium"
    category: str = ""
    assignee_id: str = "none"
    updated: str = ""
    resolved: str = ""
    customer_zone: str = ""
    customer_local: str = ""
    conversation_intent: str = ""
    conversation_when: str = ""
    conversation_lines: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclass
class UserOption:
    id: str
    name: str


def _label(value: str | None, labels: dict[str, str]) -> str:
    return labels.get(value or "", value or "—")


def timeline_text(kind: str, old: str | None, new: str | None, body: str) -> tuple[str, str]:
    """(icon, sentence) for one activity entry of a ticket."""
    status, priority = service.STATUS_LABELS, service.PRIORITY_LABELS
    if kind == "created":
        return "circle-plus", f"created the ticket as {_label(new, status).lower()}"
    if kind == "status":
        return "arrow-right-left", f"changed the status from {_label(old, status)} to {_label(new, status)}"
    if kind == "priority":
        return "flag", f"changed the priority from {_label(old, priority)} to {_label(new, priority)}"
    if kind == "assignee":
        if new and old:
            return "user-round", f"reassigned it from {old} to {new}"
        return "user-round", f"assigned it to {new}" if new else f"unassigned {old}"
    if kind == "category":
        return "tag", f"changed the category from {old or 'none'} to {new or 'none'}"
    if kind == "customer":
        return "contact", f"linked the customer {new}" if new else "unlinked the customer"
    if kind == "edited":
        return "pencil", f"edited the {body.replace(',', ' and')}"
    if kind == "comment":
        return "message-square", "commented"
    return "dot", kind


# The list's tabs and select filters, and the values each takes.
FILTERS = {
    "tab": lambda value: value in TABS,
    "priority_filter": lambda value: value in (ANY, *TICKET_PRIORITIES),
    "source_filter": lambda value: value in (ANY, *service.SOURCE_LABELS),
    "assignee_filter": lambda value: value in (ANY, "me", "none") or value.isdigit(),
}


class TicketsState(FormDialogMixin, LivePageMixin, PagedMixin, DateRangeMixin, SearchMixin, OptimisticStatusMixin,
                   ViewerZoneMixin, CustomerPickerMixin, AuthState):
    _live_topics = ("tickets", "customers")

    rows: list[TicketRow] = []
    counts: dict[str, int] = {}
    tab: str = "all"
    priority_filter: str = ANY
    source_filter: str = ANY
    assignee_filter: str = ANY
    sort: str = "created_at"
    descending: bool = True
    load_error: str = ""
    users: list[UserOption] = []

    # New ticket dialog
    form_priority: str = "medium"
    form_busy: bool = False
    categories: list[str] = []

    # Detail drawer
    detail_open: bool = False
    detail: TicketView = TicketView()
    timeline: list[TimelineRow] = []
    comment_error: str = ""
    comment_key: int = 0
    editing: bool = False
    edit_errors: dict[str, str] = {}

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.date_from or self.date_to) or any(
            f != ANY for f in (self.priority_filter, self.source_filter, self.assignee_filter))

    @rx.var
    def all_count(self) -> int:
        return sum(self.counts.values())

    # --- loading --------------------------------------------------------------------------------

    def _filters(self) -> dict:
        zone = self._zone()
        filters: dict = {"q": self.search or None}
        if self.priority_filter != ANY:
            filters["priority"] = self.priority_filter
        if self.source_filter != ANY:
            filters["source"] = self.source_filter
        if self.assignee_filter == "none":
            filters["unassigned"] = True
        elif self.assignee_filter == "me":
            filters["assignee_id"] = actor().id
        elif self.assignee_filter.isdigit():
            filters["assignee_id"] = int(self.assignee_filter)
        first, last = parse_day(self.date_from), parse_day(self.date_to)
        if first:
            filters["created_from"] = local_midnight(first, zone)
        if last:
            filters["created_to"] = local_midnight(last + timedelta(days=1), zone)
        return filters

    def _reload(self) -> None:
        zone, now = self._zone(), utcnow()
        try:
            with session_scope() as session:
                filters = self._filters()
                status = None if self.tab == "all" else self.tab

                def page():
                    return service.ticket_page(session=session, status=status, sort=self.sort,
                                               descending=self.descending, limit=self.page_size, offset=self.offset,
                                               **filters)

                items, total, counts = page()
                self._assign(total=total, counts=counts)
                if not items and total and self.page > 1:
                    self._clamp_page()
                    items, _, _ = page()
                customer_ids = {t.customer_id for t in items if t.customer_id}
                names = {cid: name for cid, name in session.exec(
                    select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids)))} if customer_ids else {}
                users = {u.id: u for u in auth_service.list_users(session=session)}
                self._assign(users=[UserOption(id=str(u.id), name=u.name) for u in users.values() if u.is_active])
                self._assign(rows=[TicketRow(
                    id=t.id, title=t.title, customer=names.get(t.customer_id, ""), status=t.status,
                    priority=t.priority, priority_label=service.PRIORITY_LABELS[t.priority], source=t.source,
                    source_label=service.SOURCE_LABELS[t.source],
                    assignee=users[t.assignee_id].name if t.assignee_id in users else "",
                    category=t.category, created=fmt_short(t.created_at, zone, now),
                    created_full=fmt_when(t.created_at, zone),
                    allowed=[t.status, *service.allowed_next_statuses(t.status)],
                ) for t in items])
            self._assign(load_error="")
        except DomainError as exc:
            self.load_error = exc.message
        self._remember_versions()

    def _load_detail(self, ticket_id: int) -> bool:
        zone, now = self._zone(), utcnow()
        with session_scope() as session:
            try:
                d = service.get_ticket_detail(session=session, ticket_id=ticket_id)
            except DomainError:
                return False
            t = d.ticket
            view = TicketView(
                id=t.id, title=t.title, description=t.description, status=t.status, priority=t.priority,
                category=t.category, source_label=service.SOURCE_LABELS[t.source],
                assignee_id=str(t.assignee_id) if t.assignee_id else "none",
                created=fmt_when(t.created_at, zone), updated=fmt_when(t.updated_at, zone),
                resolved=fmt_when(t.resolved_at, zone),
                allowed=[t.status, *service.allowed_next_statuses(t.status)],
            )
            if d.assignee is not None and all(u.id != str(d.assignee.id) for u in self.users):
                self.users = [*self.users, UserOption(id=str(d.assignee.id), name=f"{d.assignee.name} (deactivated)")]
            if d.customer is not None:
                zone_of_customer = customer_zone(d.customer)
                view.show_customer(d.customer)
                view.customer_zone = zone_of_customer.key
                view.customer_local = f"{now.astimezone(zone_of_customer):%H:%M} their time"
            if d.ticket.conversation_id:  # the call that raised it
                c = conversations.get_conversation(session=session, conversation_id=d.ticket.conversation_id)
                view.show_call(c)
                view.conversation_intent = (c.intent or "").replace("_", " ")
                view.conversation_when = fmt_when(c.started_at or c.created_at, zone)
                view.conversation_lines = [
                    {"role": "Agent" if str(turn.get("role", "")).lower() == "agent" else "Caller",
                     "text": str(turn.get("message") or turn.get("text") or "")[:500]}
                    for turn in (c.transcript or [])[:12] if isinstance(turn, dict)
                ]
            self.detail = view
            self.timeline = timeline_rows(
                d.activity, lambda e: timeline_text(e.kind, e.from_value, e.to_value, e.body), zone, now)
        return True

    @rx.event
    @authenticated
    def load(self):
        self.detail_open = False
        self._reload()
        wanted = self.router.url.query_parameters.get("ticket", "")
        if wanted.isdigit() and self._load_detail(int(wanted)):
            self.detail_open, self.editing = True, False
        if self.detail_open and self.detail.id:
            self._load_detail(self.detail.id)

    # --- filters, sorting, pages ------------------------------------------------------------------

    @rx.event
    @authenticated
    def set_filter(self, name: str, value: str):
        """Narrow the list by tab, priority, source or assignee (FILTERS: the values each takes; any other
        changes nothing); the list starts again from its first page."""
        if name in FILTERS and FILTERS[name](value):
            setattr(self, name, value)
            self._first_page()

    @rx.event
    @authenticated
    def clear_filters(self):
        self.search, self.date_from, self.date_to = "", "", ""
        self.priority_filter = self.source_filter = self.assignee_filter = ANY
        self._first_page()

    @rx.event
    @authenticated
    def sort_by(self, column: str):
        sort_by_column(self, column, service.SORTABLE, descending_first=column != "title")

    # --- status, optimistic -----------------------------------------------------------------------

    def _show_status(self, ticket_id: int, status: str) -> str | None:
        """Show `status` on the ticket's row and detail at once; returns what they showed before."""
        self.rows, previous = with_status(self.rows, ticket_id, status)
        return show_in_detail(self, ticket_id, status, previous)

    def _save_status(self, session, ticket_id: int, status: str) -> None:
        service.change_ticket_status(session=session, ticket_id=ticket_id, status=status, actor_id=actor().id)

    def _status_words(self) -> tuple[str, dict[str, str]]:
        return "Ticket", service.STATUS_LABELS

    # --- new ticket -----------------------------------------------------------------------------

    @rx.event
    @authenticated
    def open_new(self):
        self._reset_picker()
        self._assign(form_values={}, form_errors={}, form_priority="medium", form_open=True)
        yield  # the dialog shows at once; its category suggestions follow (a query over every ticket)
        with session_scope() as session:
            self._assign(categories=service.list_categories(session=session))

    @rx.event
    def set_form_priority(self, value: str):
        if value in TICKET_PRIORITIES:
            self.form_priority = value

    @rx.event
    @authenticated
    def save_new(self, form_data: dict):
        data = {k: str(form_data.get(k, "") or "") for k in ("title", "description", "category")}
        self.form_values = data
        try:
            with session_scope() as session:
                ticket = service.create_ticket(
                    session=session, title=data["title"], description=data["description"],
                    category=data["category"], priority=self.form_priority,
                    customer_id=self.picker_id or None, source="manual", actor_id=actor().id)
                ticket_id = ticket.id
        except DomainError as exc:
            self.form_errors = field_errors(exc)
            return
        self.form_open, self.form_errors = False, {}
        self.tab = "all" if self.tab not in ("all", "open") else self.tab
        self._first_page()
        return rx.toast.success(f"Created ticket #{ticket_id}.")

    # --- detail ---------------------------------------------------------------------------------

    @rx.event
    @authenticated
    def open_detail(self, ticket_id: int):
        if not self._load_detail(ticket_id):
            return rx.toast.error(f"Ticket {ticket_id} not found.")
        self.detail_open, self.editing, self.comment_error, self.edit_errors = True, False, "", {}

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)
        if not value:
            self.editing = False

    def _update(self, changes: dict, done: str):
        ticket_id = self.detail.id
        try:
            with session_scope() as session:
                service.update_ticket(session=session, ticket_id=ticket_id, patch=TicketPatch(**changes),
                                      actor_id=actor().id)
        except DomainError as exc:
            self._load_detail(ticket_id)
            return rx.toast.error(exc.message)
        self._load_detail(ticket_id)
        self._reload()
        return rx.toast.success(done)

    @rx.event
    @authenticated
    def set_detail_priority(self, value: str):
        if value in TICKET_PRIORITIES and value != self.detail.priority:
            self.detail = dataclasses.replace(self.detail, priority=value)
            return self._update({"priority": value}, f"Priority is now {service.PRIORITY_LABELS[value].lower()}.")

    @rx.event
    @authenticated
    def set_detail_assignee(self, value: str):
        assignee = int(value) if value.isdigit() else None
        if str(assignee or "none") == self.detail.assignee_id:
            return
        self.detail = dataclasses.replace(self.detail, assignee_id=value if assignee else "none")
        name = next((u.name for u in self.users if u.id == value), "")
        return self._update({"assignee_id": assignee}, f"Assigned to {name}." if assignee else "Unassigned.")

    @rx.event
    def set_editing(self, value: bool):
        self.editing, self.edit_errors = bool(value), {}

    @rx.event
    @authenticated
    def save_edit(self, form_data: dict):
        changes = {k: str(form_data.get(k, "") or "") for k in ("title", "description", "category")}
        try:
            with session_scope() as session:
                service.update_ticket(session=session, ticket_id=self.detail.id, patch=TicketPatch(**changes),
                                      actor_id=actor().id)
        except DomainError as exc:
            self.edit_errors = field_errors(exc)
            return
        self.editing, self.edit_errors = False, {}
        self._load_detail(self.detail.id)
        self._reload()
        return rx.toast.success("Saved.")

    @rx.event
    @authenticated
    def add_comment(self, form_data: dict):
        try:
            with session_scope() as session:
                service.add_comment(session=session, ticket_id=self.detail.id, body=str(form_data.get("body", "")),
                                    actor_id=actor().id)
        except DomainError as exc:
            self.comment_error = exc.message
            return
        self.comment_error = ""
        self.comment_key += 1  # a fresh, empty comment box
        self._load_detail(self.detail.id)
