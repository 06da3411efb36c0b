from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from navaia_app.auth.state import AuthState, actor, authenticated, field_errors
from navaia_app.core.csvfile import MAX_UPLOAD_BYTES
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.validation import display_phone
from navaia_app.customers import service
from navaia_app.customers.models import CustomerIn, CustomerPatch
from navaia_app.ui.actions import service_action
from navaia_app.ui.confirm import DeleteConfirmMixin, FormDialogMixin
from navaia_app.ui.live import LivePageMixin
from navaia_app.ui.paging import PagedMixin, SearchMixin, sort_by_column

EMPTY_FORM = {"name": "", "phone": "", "email": "", "timezone": "", "notes": "", "do_not_call": False}


@dataclass
class CustomerRow:
    id: int
    name: str
    phone: str
    phone_display: str
    email: str
    timezone: str
    do_not_call: bool
    notes: str
    created: str


def _row(c) -> CustomerRow:
    return CustomerRow(id=c.id, name=c.name, phone=c.phone, phone_display=display_phone(c.phone), email=c.email or "", timezone=c.timezone or "",
                       do_not_call=c.do_not_call, notes=c.notes or "", created=c.created_at.strftime("%Y-%m-%d"))


class CustomersState(FormDialogMixin, DeleteConfirmMixin, LivePageMixin, PagedMixin, SearchMixin, AuthState):
    _live_topics = ("customers",)
    rows: list[CustomerRow] = []
    sort: str = "name"
    descending: bool = False
    load_error: str = ""

    form_dnc: bool = False
    form_busy: bool = False


    import_open: bool = False
    import_created: int = -1
    import_skipped: list[dict[str, str]] = []
    import_error: str = ""

    def _reload(self) -> None:
        try:
            with session_scope() as session:
                items, total = service.list_customers(session=session, q=self.search, sort=self.sort,
                                                      descending=self.descending, limit=self.page_size,
                                                      offset=self.offset)
                self._assign(total=total)
                if items == [] and total and self.page > 1:
                    self._clamp_page()
                    items, _ = service.list_customers(session=session, q=self.search, sort=self.sort,
                                                      descending=self.descending, limit=self.page_size,
                                                      offset=self.offset)
                self._assign(rows=[_row(c) for c in items])
            self._assign(load_error="")
        except DomainError as exc:
            self.load_error = exc.message

    @rx.event
    @authenticated
    def load(self):
        self._remember_versions()
        self._reload()

    @rx.event
    @authenticated
    def sort_by(self, column: str):
        sort_by_column(self, column, service.SORTABLE)

    # --- create / edit -------------------------------------------------------------------

    @rx.event
    def open_new(self):
        self._assign(editing_id=0, form_values={}, form_dnc=False, form_errors={}, form_open=True)

    @rx.event
    @authenticated
    def open_edit(self, customer_id: int):
        with session_scope() as session:
            try:
                c = service.get_customer(session=session, customer_id=customer_id)
            except DomainError as exc:
                return rx.toast.error(exc.message)
            self.form_values = {"name": c.name, "phone": c.phone, "email": c.email or "",
                                "timezone": c.timezone or "", "notes": c.notes or ""}
            self.form_dnc = c.do_not_call
        self.editing_id, self.form_errors = customer_id, {}
        self.form_open = True

    @rx.event
    def set_form_dnc(self, value: bool):
        self.form_dnc = bool(value)

    @rx.event
    @authenticated
    def save(self, form_data: dict):
        data = {k: str(form_data.get(k, "") or "") for k in ("name", "phone", "email", "timezone", "notes")}
        self.form_values = data
        try:
            with session_scope() as session:
                if self.editing_id:
                    customer = service.update_customer(
                        session=session, customer_id=self.editing_id,
                        patch=CustomerPatch(**data, do_not_call=self.form_dnc))
                    message = f"Saved {customer.name}."
                else:
                    customer = service.create_customer(
                        session=session, customer_in=CustomerIn(**data, do_not_call=self.form_dnc))
                    message = f"Added {customer.name}."
        except DomainError as exc:
            self.form_errors = field_errors(exc)
            return
        except ValueError as exc:  # pydantic refused the shape
            self.form_errors = {"_form": str(exc)}
            return
        self.form_errors, self.form_open = {}, False
        self._reload()
        return rx.toast.success(message)

    @rx.event
    @authenticated
    def toggle_dnc(self, customer_id: int):
        def toggle(session):
            c = service.get_customer(session=session, customer_id=customer_id)
            c = service.update_customer(session=session, customer_id=customer_id,
                                        patch=CustomerPatch(do_not_call=not c.do_not_call))
            return f"Do-not-call is {'on' if c.do_not_call else 'off'} for {c.name}."

        return service_action(toggle, then=self._reload, done=lambda message: message, toast=rx.toast.info)

    @rx.event
    @authenticated
    def call_now(self, customer_id: int):
        """One outbound call through the outbound pipeline (the same path as a campaign's calls)."""
        from navaia_app.auth.state import actor
        from navaia_app.outreach import calls

        def call(session):
            placed = calls.call_customer_now(session=session, customer_id=customer_id, requested_by_id=actor().id)
            return service.get_customer(session=session, customer_id=placed.customer_id).name

        return service_action(call, done=lambda name: f"Calling {name} now…")

    # --- delete ---------------------------------------------------------------------------

    def _delete(self, session, record_id: int, user) -> None:
        service.delete_customer(session=session, customer_id=record_id, actor=user)

    # --- the customer's rights: export and erasure (admins; the services check) --------------

    erase_id: int = 0
    erase_name: str = ""

    @rx.event
    @authenticated
    def export_data(self, customer_id: int):
        from navaia_app.privacy import service as privacy

        try:
            with session_scope() as session:
                content = privacy.export_zip(session=session, actor=actor(), customer_id=customer_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return rx.download(data=content, filename=f"customer-{customer_id}-export.zip")

    @rx.event
    def ask_erase(self, customer_id: int, name: str):
        self.erase_id, self.erase_name = customer_id, name

    @rx.event
    def cancel_erase(self):
        self.erase_id, self.erase_name = 0, ""

    @rx.event
    @authenticated
    def confirm_erase(self):
        from navaia_app.privacy import service as privacy

        customer_id = self.erase_id
        self.erase_id, self.erase_name = 0, ""
        return service_action(
            lambda s: privacy.erase_customer(session=s, actor=actor(), customer_id=customer_id), then=self._reload,
            done=f"Customer {customer_id} erased: what identified them is gone; the figures stay.")

    # --- CSV import -----------------------------------------------------------------------

    @rx.event
    def set_import_open(self, value: bool):
        self.import_open = value
        self.import_created, self.import_skipped, self.import_error = -1, [], ""

    @rx.event
    @authenticated
    async def import_csv(self, files: list[rx.UploadFile]):
        self.import_created, self.import_skipped, self.import_error = -1, [], ""
        if not files:
            self.import_error = "Choose a CSV file first."
            return
        content = await files[0].read(MAX_UPLOAD_BYTES + 1)

        def run_import():
            with session_scope() as session:
                return service.import_customers_csv(session=session, content=content)

        try:
            # parsing and inserting up to 20 MB of rows: in a thread, not on the event loop every tab shares
            report = await asyncio.to_thread(run_import)
        except DomainError as exc:
            self.import_error = exc.message
            return
        self.import_created = report.created
        self.import_skipped = [{"row": str(s["row"]), "reason": s["reason"]} for s in report.skipped[:500]]
        self._reload()
        return rx.toast.success(f"Imported {report.created} customers, skipped {len(report.skipped)}.")
