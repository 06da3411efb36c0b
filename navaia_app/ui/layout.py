"""The app shell: sidebar, header and the `protected` page wrapper."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from navaia_app.auth.state import AuthState
from navaia_app.ui import routes

NAV = [
    ("Dashboard", routes.DASHBOARD, "layout-dashboard"),
    ("Customers", routes.CUSTOMERS, "users"),
    ("Tickets", routes.TICKETS, "ticket"),
    ("Bookings", routes.BOOKINGS, "calendar-days"),
    ("Campaigns", routes.CAMPAIGNS, "megaphone"),
    ("Conversations", routes.CONVERSATIONS, "messages-square"),
    ("Analytics", routes.ANALYTICS, "chart-column"),
    ("Support Agent", routes.SUPPORT_AGENT, "headset"),
    ("Playground", routes.PLAYGROUND, "flask-conical"),
    ("Integrations", routes.INTEGRATIONS, "webhook"),
    ("Settings", routes.SETTINGS, "settings"),
]


# A feature's badge beside its sidebar entry (e.g. the calls waiting for review), set by the app's assembly
# (navaia_app.py) so that the shell never imports a feature.
NAV_BADGES: dict[str, Callable[[], rx.Component]] = {}


def add_nav_badge(route: str, badge: Callable[[], rx.Component]) -> None:
    """Show `badge()` beside the sidebar entry of `route` on every protected page."""
    NAV_BADGES[route] = badge


def _nav_item(label: str, href: str, icon: str) -> rx.Component:
    path = rx.State.router.page.path
    active = (path == href) if href == "/" else path.startswith(href)
    extra = [rx.spacer(), NAV_BADGES[href]()] if href in NAV_BADGES else []
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="2", weight="medium"), *extra, spacing="3",
                  align="center", width="100%"),
        href=href,
        underline="none",
        padding_x="0.75rem",
        padding_y="0.5rem",
        border_radius="8px",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        aria_current=rx.cond(active, "page", ""),
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon("audio-lines", size=18, color="white"), background=rx.color("accent", 9),
                  border_radius="8px", width="32px", height="32px"),
        rx.text("Navaia", size="5", weight="bold", as_="div"),  # the page's title is its one h1
        align="center", spacing="2", padding_x="0.75rem", padding_y="0.5rem",
    )


def _nav_list() -> rx.Component:
    return rx.vstack(*[_nav_item(*item) for item in NAV],
                     rx.cond(AuthState.is_admin, _nav_item("System", routes.SYSTEM, "activity")),
                     spacing="1", width="100%")


def sidebar() -> rx.Component:
    return rx.el.nav(
        rx.vstack(_brand(), _nav_list(), spacing="4", width="100%"),
        aria_label="Main",
        display=["none", "none", "block"],
        width="232px",
        min_width="232px",
        height="100vh",
        position="sticky",
        top="0",
        padding="1rem 0.75rem",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
    )


def _mobile_menu() -> rx.Component:
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu")),
            rx.drawer.overlay(z_index="5"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.el.nav(rx.vstack(_brand(), _nav_list(), spacing="4", width="100%"), aria_label="Main"),
                    padding="1rem", width="260px", height="100%", background=rx.color("gray", 1),
                    top="0", left="0", z_index="10",
                )
            ),
            direction="left",
        ),
        display=["block", "block", "none"],
    )


def header(title: str) -> rx.Component:
    return rx.hstack(
        rx.hstack(_mobile_menu(), rx.heading(title, size="6", as_="h1"), align="center", spacing="3"),
        rx.spacer(),
        rx.hstack(
            rx.color_mode.button(variant="ghost", aria_label="Switch light or dark mode"),
            rx.menu.root(
                rx.menu.trigger(
                    rx.button(
                        rx.el.span("Account menu", class_name="sr-only"),
                        rx.avatar(fallback=AuthState.user_initials, size="2", radius="full", aria_hidden="true"),
                        rx.vstack(
                            rx.text(AuthState.user_name, size="2", weight="medium", id="header-user-name"),
                            rx.text(AuthState.user_role, size="1", color_scheme="gray"),
                            spacing="0", align="start", display=["none", "flex"],
                        ),
                        variant="ghost", size="3",
                    )
                ),
                rx.menu.content(
                    rx.menu.item(AuthState.user_email, disabled=True),
                    rx.menu.separator(),
                    rx.menu.item(rx.hstack(rx.icon("settings", size=14), rx.text("Settings")),
                                 on_click=rx.redirect(routes.SETTINGS)),
                    rx.menu.item(rx.hstack(rx.icon("log-out", size=14), rx.text("Sign out")),
                                 on_click=AuthState.logout, color="red", id="sign-out"),
                ),
            ),
            align="center", spacing="3",
        ),
        width="100%",
        align="center",
        padding_y="0.75rem",
        padding_x=["1rem", "1.5rem"],
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        background=rx.color("gray", 1),
        z_index="4",
    )


def shell(title: str, content: rx.Component) -> rx.Component:
    return rx.hstack(
        # the first Tab stop: past the sidebar to the page (WCAG 2.4.1)
        rx.el.a("Skip to main content", href="#main-content", class_name="skip-link"),
        sidebar(),
        rx.box(
            header(title),
            rx.el.main(
                rx.cond(AuthState.user_id > 0, content, rx.center(rx.spinner(size="3"), padding="4rem")),
                padding=["1rem", "1.5rem"],
                max_width="1400px",
                id="main-content", tab_index=-1, outline="none",
            ),
            flex="1",
            min_width="0",
        ),
        spacing="0",
        width="100%",
        align="start",
        min_height="100vh",
    )


def protected(app: rx.App, route: str, title: str, on_load: list | None = None) -> Callable:
    """Register a page inside the shell; its on_load first checks the session."""

    def decorate(content_fn: Callable[[], rx.Component]):
        app.add_page(
            lambda: shell(title, content_fn()),
            route=route,
            title=f"{title} · Navaia",
            on_load=[AuthState.require_login, *(on_load or [])],
        )
        return content_fn

    return decorate


def empty_state(icon: str, title: str, text: str, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=32, color=rx.color("gray", 9)),
            rx.heading(title, size="4", as_="h2"),
            rx.text(text, color_scheme="gray", size="2", text_align="center", max_width="420px"),
            *actions,
            align="center", spacing="2",
        ),
        padding="3rem",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        width="100%",
    )


def stat_card(label: str, value, icon: str, hint=None) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.heading(value, size="7", as_="p"),
                *([rx.text(hint, size="1", color_scheme="gray")] if hint is not None else []),
                spacing="1",
            ),
            rx.spacer(),
            rx.icon(icon, size=22, color=rx.color("accent", 9)),
            align="start",
        ),
        width="100%",
    )


def dialog_actions(submit_label, submit_id: str | None = None) -> rx.Component:
    """The foot of a form dialog: Cancel (closes it) and the submit button."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit_label, type="submit", **({"id": submit_id} if submit_id else {})),
        justify="end", width="100%", spacing="3",
    )


def edit_dialog(S, *fields: rx.Component, noun: str, description: str, create_label: str, submit_id: str,
                max_width: str = "480px") -> rx.Component:
    """The create/edit dialog of a page state with `editing_id` (0: new), `form_open`, `set_form_open`,
    `form_errors` and `save`: a fresh form each time it opens, the form's own error under the fields."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id > 0, f"Edit {noun}", f"New {noun}")),
            rx.dialog.description(description, size="2", color_scheme="gray", margin_bottom="1rem"),
            rx.form(
                rx.vstack(
                    *fields,
                    field_error(S.form_errors.get("_form", "")),
                    dialog_actions(rx.cond(S.editing_id > 0, "Save", create_label), submit_id),
                    spacing="3",
                ),
                on_submit=S.save,
                key=S.editing_id.to_string() + rx.cond(S.form_open, "-open", "-closed"),
            ),
            max_width=max_width,
        ),
        open=S.form_open,
        on_open_change=S.set_form_open,
    )


def sort_header(S, label: str, column: str, **props) -> rx.Component:
    """A column header that sorts the table of state `S` (with `sort`, `descending`, `sort_by`) by `column`."""
    arrow = rx.cond(S.sort == column, rx.cond(S.descending, " ↓", " ↑"), "")
    return rx.table.column_header_cell(
        rx.button(label, arrow, variant="ghost", size="1", on_click=S.sort_by(column), color_scheme="gray"),
        **props,
    )


def plain_header(label: str, **props) -> rx.Component:
    return rx.table.column_header_cell(rx.text(label, size="1", weight="medium", color_scheme="gray"), **props)


def search_input(placeholder: str, value, on_change, width="100%", **props) -> rx.Component:
    """A search box (magnifier, at most 200 characters) that tells the state 300 ms after typing stops.
    Its accessible name is the placeholder unless `aria_label` says otherwise (a placeholder alone names
    nothing for a screen reader once text is typed)."""
    props.setdefault("aria_label", placeholder)
    return rx.input(rx.input.slot(rx.icon("search", size=16)), placeholder=placeholder, default_value=value,
                    on_change=on_change.debounce(300), width=width, max_length=200, **props)


def suggest_input(options, *, list_id: str, **props) -> rx.Component:
    """A free text field that suggests `options` (a list, or a state var of one) through a native <datalist>,
    styled as Radix text fields are."""
    style = {"width": "100%", "padding": "6px 8px", "borderRadius": "6px", "fontSize": "14px", "height": "32px",
             "border": f"1px solid {rx.color('gray', 7)}", **props.pop("style", {})}
    items = (rx.foreach(options, lambda o: rx.el.option(value=o)) if isinstance(options, rx.Var)
             else [rx.el.option(value=o) for o in options])
    return rx.fragment(
        rx.el.input(list=list_id, class_name="rt-reset rt-TextFieldInput", style=style, **props),
        rx.el.datalist(*items if isinstance(items, list) else [items], id=list_id),
    )


def field_label(*children, html_for: str | None, size: str = "2") -> rx.Component:
    """A form field's visible label, tied to its control (a text with `as_="label"` drops `for`)."""
    return rx.el.label(*children, html_for=html_for, class_name=f"rt-Text rt-r-size-{size} rt-r-weight-medium")


def text_button(*children, on_click, size: str = "2", weight: str = "medium", **props) -> rx.Component:
    """Text that opens something (a ticket, a call): a real button, so Enter and Space work and it shows focus."""
    return rx.el.button(*children, on_click=on_click, type="button",
                        class_name=f"rt-reset rt-Text rt-r-size-{size} rt-r-weight-{weight} text-button "
                                   + props.pop("class_name", ""), **props)


def field_error(message) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color="red", size="1", role="alert"), rx.fragment())


def pager(state) -> rx.Component:
    """Previous / next for a state with page, page_count, total, prev_page and next_page."""
    return rx.hstack(
        rx.text(state.range_label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", size="1",
                  on_click=state.prev_page, disabled=state.page <= 1, aria_label="Previous page"),
        rx.text("Page ", state.page, " of ", state.page_count, size="2"),
        rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", size="1",
                  on_click=state.next_page, disabled=state.page >= state.page_count, aria_label="Next page"),
        align="center", width="100%", padding_top="0.75rem", spacing="3",
    )


# A column shown only from this screen width on: "sm" hides it on phones, "md" on phones and small tablets.
SHOWN_FROM = {"sm": ["none", "table-cell"], "md": ["none", "none", "table-cell"]}


def _header_cell(header) -> rx.Component:
    if isinstance(header, str):
        return rx.table.column_header_cell(header)
    if isinstance(header, tuple):
        label, shown_from = header
        return rx.table.column_header_cell(label, display=SHOWN_FROM[shown_from])
    return header


def list_table(headers: list, rows, render_row: Callable, *, paged=None, size: str = "2") -> rx.Component:
    """A page's records as a table (cards on a phone: assets/phone.css) in a box that scrolls sideways and takes
    keyboard focus (assets/a11y.js), with the pager of `paged` (a PagedMixin state) beneath when given.

    A header is a label, a (label, SHOWN_FROM key) pair for a column that narrow screens leave out, or a
    component (a sort_header)."""
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, render_row)),
            variant="surface", size=size, width="100%", class_name="cards-on-phone",
        ),
        *([pager(paged)] if paged is not None else []),
        width="100%", overflow_x="auto", class_name="scroll-x",
    )


def section_card(title: str, *children: rx.Component, intro=None, aside: rx.Component | None = None,
                 **card_props) -> rx.Component:
    """A settings or system page's panel: its title (with `aside` at the right: a badge, a filter, a button),
    a grey `intro` line when given, then its content."""
    heading = rx.heading(title, size="4", as_="h2")
    if aside is not None:
        heading = rx.hstack(heading, rx.spacer(), aside, width="100%", align="center")
    return rx.card(
        rx.vstack(heading, *([rx.text(intro, size="2", color_scheme="gray")] if intro is not None else []),
                  *children, spacing="3", width="100%"),
        width="100%", **card_props,
    )


def status_select(state, all_label: str, options: list[tuple[str, str]], *, aria_label: str) -> rx.Component:
    """The status select of a StatusFilterMixin state: `all_label` first, then (value, label) options."""
    return rx.select.root(
        rx.select.trigger(aria_label=aria_label),
        rx.select.content(rx.select.item(all_label, value="all"),
                          *[rx.select.item(label, value=value) for value, label in options]),
        value=rx.cond(state.status_filter == "", "all", state.status_filter), on_change=state.set_status_filter,
        size="2",
    )
