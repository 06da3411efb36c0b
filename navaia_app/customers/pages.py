from __future__ import annotations

import reflex as rx

from navaia_app.core.validation import timezone_names
from navaia_app.customers.state import CustomersState as S
from navaia_app.ui.confirm import delete_dialog
from navaia_app.ui.layout import (edit_dialog, empty_state, field_error, field_label, list_table, plain_header,
                                  search_input, sort_header, suggest_input)
from navaia_app.ui.live import live_ticker

UPLOAD_ID = "customers-csv"


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row.name, weight="medium"),
                                rx.text(row.email, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(row.phone_display, font_family="monospace", size="2", title=row.phone,
                              white_space="nowrap")),
        rx.table.cell(rx.text(row.timezone, size="2"), display=["none", "none", "table-cell"]),
        rx.table.cell(
            rx.cond(row.do_not_call,
                    rx.badge("Do not call", color_scheme="red", variant="soft"),
                    rx.badge("Callable", color_scheme="green", variant="soft")),
        ),
        rx.table.cell(rx.text(row.created, size="2"), display=["none", "none", "table-cell"]),
        rx.table.cell(
            rx.hstack(
                rx.icon_button(rx.icon("phone-outgoing", size=14), variant="ghost", size="1", color_scheme="green",
                               on_click=S.call_now(row.id), aria_label="Call now", title="Call now",
                               disabled=row.do_not_call, class_name="call-now"),
                rx.icon_button(rx.icon("pencil", size=14), variant="ghost", size="1",
                               on_click=S.open_edit(row.id), aria_label="Edit customer"),
                rx.icon_button(rx.icon("phone-off", size=14), variant="ghost", size="1",
                               on_click=S.toggle_dnc(row.id), aria_label="Toggle do-not-call"),
                rx.cond(S.is_admin, rx.fragment(
                    rx.icon_button(rx.icon("download", size=14), variant="ghost", size="1",
                                   on_click=S.export_data(row.id), aria_label="Export data", title="Export data"),
                    rx.icon_button(rx.icon("user-x", size=14), variant="ghost", size="1", color_scheme="red",
                                   on_click=S.ask_erase(row.id, row.name), aria_label="Erase customer",
                                   title="Erase (right to be forgotten)"),
                )),
                rx.icon_button(rx.icon("trash-2", size=14), variant="ghost", size="1", color_scheme="red",
                               on_click=S.ask_delete(row.id, row.name), aria_label="Delete customer"),
                spacing="1",
            )
        ),
        align="center",
    )


def _field(label: str, name: str, placeholder: str = "", type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=f"customer-{name}"),
        rx.input(name=name, id=f"customer-{name}", placeholder=placeholder, type=type_,
                 default_value=S.form_values.get(name, ""), width="100%",
                 color_scheme=rx.cond(S.form_errors.contains(name), "red", "gray"), **props),
        field_error(S.form_errors.get(name, "")),
        spacing="1", width="100%",
    )


def _form_dialog() -> rx.Component:
    return edit_dialog(
        S,
        _field("Name", "name", "Jane Cooper", required=True, max_length=120),
        _field("Phone", "phone", "+1 212 555 0147", type_="tel", required=True),
        _field("Email", "email", "jane@example.com", type_="email"),
        rx.vstack(
            field_label("Time zone", html_for="customer-timezone"),
            suggest_input(timezone_names(), list_id="tz-options", name="timezone", id="customer-timezone",
                          placeholder="e.g. America/New_York (empty: business time zone)",
                          default_value=S.form_values.get("timezone", "")),
            field_error(S.form_errors.get("timezone", "")),
            spacing="1", width="100%",
        ),
        rx.vstack(
            field_label("Notes", html_for="customer-notes"),
            rx.text_area(name="notes", id="customer-notes", default_value=S.form_values.get("notes", ""),
                         width="100%", max_length=2000),
            field_error(S.form_errors.get("notes", "")),
            spacing="1", width="100%",
        ),
        rx.checkbox("Do not call (excluded from campaigns)", checked=S.form_dnc,
                    on_change=S.set_form_dnc),
        noun="customer", description="Phone numbers are stored in international (E.164) form.",
        create_label="Add customer", submit_id="customer-submit",
    )


def _delete_dialog() -> rx.Component:
    return delete_dialog(
        S, title="Delete customer", button_id="confirm-delete",
        description=rx.text("Delete ", rx.text.strong(S.delete_name),
                            "? Their bookings go too; tickets and calls stay, without the link. This cannot be undone."))


def _erase_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Erase customer"),
            rx.alert_dialog.description(rx.text(
                "Erase everything that identifies ", rx.text.strong(S.erase_name),
                ": name, phone, email, notes, call transcripts and recordings, and what they said in tickets "
                "and bookings. Counts and statistics stay, and the audit log records the erasure. This cannot "
                "be undone.")),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=S.cancel_erase)),
                rx.alert_dialog.action(rx.button("Erase", color_scheme="red", on_click=S.confirm_erase,
                                                 id="confirm-erase")),
                justify="end", spacing="3", margin_top="1rem",
            ),
        ),
        open=S.erase_id > 0,
    )


def _import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import customers from CSV"),
            rx.dialog.description(
                "A header row with at least name and phone; optional email, timezone, do_not_call, notes. "
                "Rows with errors are skipped and listed with the reason.", size="2", color_scheme="gray"),
            rx.upload(
                rx.vstack(rx.icon("upload", size=20), rx.text("Drop a .csv file here or click to choose", size="2"),
                          align="center", spacing="1"),
                id=UPLOAD_ID, accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]}, max_files=1,
                border=f"1px dashed {rx.color('gray', 7)}", padding="1.5rem", border_radius="10px", width="100%",
                margin_y="1rem",
            ),
            rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="2"),
            field_error(S.import_error),
            rx.cond(
                S.import_created >= 0,
                rx.vstack(
                    rx.callout(rx.text("Created ", S.import_created, ", skipped ", S.import_skipped.length(), "."),
                               icon="info", width="100%"),
                    rx.cond(
                        S.import_skipped.length() > 0,
                        rx.scroll_area(
                            rx.table.root(
                                rx.table.header(rx.table.row(rx.table.column_header_cell("Row"),
                                                             rx.table.column_header_cell("Why it was skipped"))),
                                rx.table.body(rx.foreach(S.import_skipped, lambda s: rx.table.row(
                                    rx.table.cell(s["row"]), rx.table.cell(s["reason"])))),
                                size="1",
                            ),
                            max_height="240px",
                        ),
                    ),
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                rx.button("Import", on_click=S.import_csv(rx.upload_files(upload_id=UPLOAD_ID)), id="import-submit"),
                justify="end", spacing="3", margin_top="1rem",
            ),
            max_width="560px",
        ),
        open=S.import_open,
        on_open_change=S.set_import_open,
    )


def customers_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            search_input("Search name, phone or email", S.search, S.set_search, width=["100%", "320px"],
                         id="customer-search"),
            rx.spacer(),
            rx.button(rx.icon("file-up", size=16), "Import CSV", variant="soft",
                      on_click=S.set_import_open(True)),
            rx.button(rx.icon("plus", size=16), "New customer", on_click=S.open_new, id="new-customer"),
            width="100%", spacing="3", flex_wrap="wrap", align="center",
        ),
        field_error(S.load_error),
        rx.cond(
            S.total > 0,
            list_table([sort_header(S, "Name", "name"),
                        sort_header(S, "Phone", "phone"),
                        plain_header("Time zone", display=["none", "none", "table-cell"]),
                        plain_header("Calls"),
                        sort_header(S, "Added", "created_at", display=["none", "none", "table-cell"]),
                        rx.table.column_header_cell("")],
                       S.rows, _row, paged=S),
            rx.cond(
                S.search != "",
                empty_state("search-x", "No customer matches", "Try part of a name, an email or a few digits."),
                empty_state("users", "No customers yet", "Add your first customer or import a CSV file.",
                            rx.button(rx.icon("plus", size=16), "New customer", on_click=S.open_new)),
            ),
        ),
        _form_dialog(),
        _delete_dialog(),
        _erase_dialog(),
        live_ticker(S.poll_changes),
        _import_dialog(),
        spacing="4", width="100%",
    )
