"""A customer picker for dialogs: search as you type, choose, or add a new customer on the spot.

A page state mixes in `CustomerPickerMixin`; `customer_picker(State, "ticket")` draws it. It lives outside the
dialog's own <form> (forms cannot nest): the dialog's submit handler reads `picker_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.auth.state import authenticated, field_errors
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.validation import display_phone
from navaia_app.customers import service as customers
from navaia_app.customers.models import CustomerIn
from navaia_app.ui.layout import field_error, field_label

MAX_OPTIONS = 8


@dataclass
class CustomerOption:
    id: int
    name: str
    detail: str
    timezone: str


def _option(c) -> CustomerOption:
    detail = " · ".join(p for p in (display_phone(c.phone), c.email or "") if p)
    return CustomerOption(id=c.id, name=c.name, detail=detail, timezone=c.timezone or "")


class CustomerPickerMixin(rx.State, mixin=True):
    picker_query: str = ""
    picker_options: list[CustomerOption] = []
    picker_searched: bool = False
    picker_id: int = 0
    picker_label: str = ""
    picker_detail: str = ""
    picker_tz: str = ""
    picker_adding: bool = False
    picker_errors: dict[str, str] = {}

    def _reset_picker(self) -> None:
        self._assign(picker_query="", picker_options=[], picker_searched=False, picker_id=0, picker_label="",
                     picker_detail="", picker_tz="", picker_adding=False, picker_errors={})

    def _picked(self) -> list:
        """Called once a customer is chosen or cleared; a page may return events (e.g. reload free slots)."""
        return []

    @rx.event
    @authenticated
    def search_customers(self, value: str):
        self.picker_query = (value or "")[:200]
        if not self.picker_query.strip():
            self.picker_options, self.picker_searched = [], False
            return
        with session_scope() as session:
            items, _ = customers.list_customers(session=session, q=self.picker_query, limit=MAX_OPTIONS)
            self.picker_options = [_option(c) for c in items]
        self.picker_searched = True

    @rx.event
    def choose_customer(self, customer_id: int):
        chosen = next((o for o in self.picker_options if o.id == customer_id), None)
        if chosen is None:
            return
        self.picker_id, self.picker_label, self.picker_detail, self.picker_tz = (
            chosen.id, chosen.name, chosen.detail, chosen.timezone)
        self.picker_options, self.picker_query, self.picker_searched, self.picker_adding = [], "", False, False
        return self._picked()

    @rx.event
    def clear_customer(self):
        self._reset_picker()
        return self._picked()

    @rx.event
    def set_picker_adding(self, value: bool):
        self.picker_adding, self.picker_errors = bool(value), {}

    @rx.event
    @authenticated
    def add_picker_customer(self, form_data: dict):
        data = {k: str(form_data.get(k, "") or "") for k in ("name", "phone", "email")}
        try:
            with session_scope() as session:
                customer = customers.create_customer(session=session, customer_in=CustomerIn(**data))
                option = _option(customer)
        except DomainError as exc:
            self.picker_errors = field_errors(exc)
            return
        self.picker_id, self.picker_label, self.picker_detail, self.picker_tz = (
            option.id, option.name, option.detail, option.timezone)
        self.picker_options, self.picker_query, self.picker_searched = [], "", False
        self.picker_adding, self.picker_errors = False, {}
        return [rx.toast.success(f"Added {option.name}."), *(self._picked() or [])]


def customer_picker(S, prefix: str, error=None) -> rx.Component:
    """The picker of state `S`; element ids start with `prefix` (e.g. ticket-customer-search)."""
    chosen = rx.hstack(
        rx.icon("user-round", size=16, color=rx.color("accent", 10)),
        rx.vstack(rx.text(S.picker_label, size="2", weight="medium"),
                  rx.text(S.picker_detail, size="1", color_scheme="gray"), spacing="0"),
        rx.spacer(),
        rx.icon_button(rx.icon("x", size=14), variant="ghost", size="1", on_click=S.clear_customer,
                       aria_label="Choose another customer", type="button"),
        align="center", width="100%", padding="0.5rem 0.75rem", border_radius="8px",
        background=rx.color("accent", 2), border=f"1px solid {rx.color('accent', 6)}",
        id=f"{prefix}-customer-chosen",
    )
    options = rx.cond(
        S.picker_options.length() > 0,
        rx.vstack(
            rx.foreach(S.picker_options, lambda o: rx.button(
                rx.vstack(rx.text(o.name, size="2", weight="medium"), rx.text(o.detail, size="1", color_scheme="gray"),
                          spacing="0", align="start"),
                on_click=S.choose_customer(o.id), variant="ghost", color_scheme="gray", type="button",
                width="100%", justify="start", height="auto", padding="0.4rem 0.6rem", role="option",
            )),
            spacing="0", width="100%", border=f"1px solid {rx.color('gray', 6)}", border_radius="8px",
            padding="0.25rem", max_height="220px", overflow_y="auto", role="listbox",
        ),
        rx.cond(S.picker_searched,
                rx.text("No customer matches. Add them as a new customer.", size="1", color_scheme="gray")),
    )
    adding = rx.form(
        rx.vstack(
            rx.text("New customer", size="2", weight="medium"),
            rx.input(name="name", placeholder="Name", id=f"{prefix}-new-customer-name", width="100%", max_length=120),
            field_error(S.picker_errors.get("name", "")),
            rx.input(name="phone", placeholder="Phone, e.g. +1 212 555 0147", type="tel",
                     id=f"{prefix}-new-customer-phone", width="100%"),
            field_error(S.picker_errors.get("phone", "")),
            rx.input(name="email", placeholder="Email (optional)", type="email", id=f"{prefix}-new-customer-email",
                     width="100%"),
            field_error(S.picker_errors.get("email", "")),
            field_error(S.picker_errors.get("_form", "")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", size="1", type="button",
                          on_click=S.set_picker_adding(False)),
                rx.button("Add customer", size="1", type="submit", id=f"{prefix}-new-customer-submit"),
                justify="end", width="100%",
            ),
            spacing="2", width="100%", padding="0.75rem", border_radius="8px",
            border=f"1px dashed {rx.color('gray', 7)}",
        ),
        on_submit=S.add_picker_customer, reset_on_submit=False, width="100%",
    )
    return rx.vstack(
        field_label("Customer", html_for=f"{prefix}-customer-search"),
        rx.cond(
            S.picker_id > 0,
            chosen,
            rx.vstack(
                rx.hstack(
                    rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search name, phone or email",
                             value=S.picker_query, on_change=S.search_customers.debounce(250),
                             id=f"{prefix}-customer-search", width="100%", auto_complete="off"),
                    rx.button(rx.icon("user-plus", size=14), "New", variant="soft", size="2", type="button",
                              on_click=S.set_picker_adding(True), id=f"{prefix}-new-customer"),
                    width="100%", spacing="2",
                ),
                options,
                rx.cond(S.picker_adding, adding),
                spacing="2", width="100%",
            ),
        ),
        field_error(error if error is not None else ""),
        spacing="1", width="100%",
    )
