"""The Support Agent page (talk to the voice agent from the browser) and the Playground page."""

from __future__ import annotations

import reflex as rx

from navaia_app.conversations.agent_state import PlaygroundState as P
from navaia_app.conversations.agent_state import SupportAgentState as A
from navaia_app.conversations.components import SESSION_URL, agent_call
from navaia_app.ui import routes
from navaia_app.ui.layout import field_error, field_label, section_card
from navaia_app.ui.live import live_ticker


def _result_card(result) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.cond(result.state == "waiting", rx.spinner(size="2"),
                    rx.icon("circle-check", size=18, color=rx.color(result.outcome_color, 9))),
            rx.vstack(
                rx.hstack(rx.badge(result.outcome_label, color_scheme=result.outcome_color, variant="soft"),
                          rx.text(rx.code(result.external_id), size="1", color_scheme="gray"),
                          spacing="2", align="center", flex_wrap="wrap"),
                rx.text(result.detail, size="2", class_name="playground-detail"),
                rx.cond(result.sent != "", rx.text("Webhook answered: ", result.sent, size="1", color_scheme="gray")),
                spacing="1", flex="1", min_width="0",
            ),
            rx.cond(result.conversation_id > 0,
                    rx.link(rx.button("Open call", size="1", variant="soft"),
                            href=routes.CONVERSATIONS + "?id=" + result.conversation_id.to_string())),
            align="center", spacing="3", width="100%",
        ),
        width="100%", class_name="call-result",
    )


# --- Support Agent ------------------------------------------------------------------------------


def _not_configured() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("info", size=16)),
        rx.vstack(
            rx.callout.text(rx.text.strong("No voice agent is configured yet."), " To talk to it from here:"),
            rx.el.ol(
                rx.el.li(rx.text("Create an agent in ElevenLabs (Agents platform) and copy its id.")),
                rx.el.li(rx.text("Set ", rx.code("ELEVENLABS_AGENT_ID=agent_…"), " in ", rx.code(".env"),
                                 " (and ", rx.code("ELEVENLABS_API_KEY"), " if the agent is private, so Navaia "
                                 "can sign the call link).")),
                rx.el.li(rx.text("Restart Navaia (", rx.code("make run"), "), then come back here.")),
                style={"paddingLeft": "1.25rem", "margin": 0, "listStyleType": "decimal"},
            ),
            rx.text("The webhook, data-collection fields and tools to set on the agent are listed under ",
                    rx.link("Settings → Voice agent setup", href=routes.SETTINGS), ".", size="2"),
            spacing="2",
        ),
        id="agent-not-configured",
        width="100%",
    )


def _results_panel(title: str, results, waiting: rx.Component, *after: rx.Component, **list_props) -> rx.Component:
    """What the calls made (bookings, tickets, the review queue) as they arrive; `waiting` until there is one."""
    return section_card(
        title,
        rx.cond(results.length() > 0, rx.vstack(rx.foreach(results, _result_card), width="100%", **list_props),
                waiting),
        *after,
    )


def support_agent_page() -> rx.Component:
    return rx.vstack(
        live_ticker(A.tick, 3000),
        rx.cond(
            A.agent_configured,
            rx.grid(
                rx.card(
                    rx.vstack(
                        rx.heading("Talk to your agent", size="4", as_="h2"),
                        rx.text("Your browser's microphone is used; the call is a normal ElevenLabs conversation, "
                                "so its post-call webhook creates the booking or ticket as a phone call would.",
                                size="2", color_scheme="gray"),
                        rx.center(
                            agent_call(session_url=SESSION_URL, on_phase=A.set_phase,
                                       on_conversation=A.set_conversation),
                            padding_y="1.5rem", width="100%",
                        ),
                        rx.text("Agent ", rx.code(A.agent_id),
                                rx.cond(A.private_agent, " (private: Navaia signs the call link)", ""),
                                size="1", color_scheme="gray"),
                        spacing="3", width="100%",
                    ),
                    width="100%",
                ),
                _results_panel(
                    "What this call produced", A.result,
                    rx.text("Start a call. When it ends, ElevenLabs sends its post-call webhook to ",
                            rx.code(A.webhook_url), " and the booking or ticket shows up here by itself.",
                            size="2", color_scheme="gray"),
                    rx.cond((A.phase == "ended") & (A.result.length() > 0),
                            rx.text("Calls reach this page once ElevenLabs can reach PUBLIC_BASE_URL.", size="1",
                                    color_scheme="gray")),
                ),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            _not_configured(),
        ),
        spacing="4", width="100%",
    )


# --- Playground -----------------------------------------------------------------------------------


def _field(label: str, name: str, type_: str = "text", **props) -> rx.Component:
    return rx.vstack(
        field_label(label, html_for=f"pg-{name}"),
        rx.input(name=name, id=f"pg-{name}", type=type_, default_value=P.values.get(name, ""), width="100%",
                 **props),
        spacing="1", width="100%",
    )


def _booking_fields() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _field("Service", "service", max_length=120),
            rx.vstack(
                field_label("Appointment (caller's local time)", html_for="pg-appointment"),
                rx.input(name="appointment", id="pg-appointment", type="datetime-local",
                         value=P.values.get("appointment", ""), on_change=P.use_time, width="100%"),
                spacing="1", width="100%",
            ),
            _field("Duration (minutes)", "duration_minutes", "number", min=5, max=480),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
        ),
        rx.cond(P.free_times.length() > 0, rx.hstack(
            rx.text("Free:", size="1", color_scheme="gray"),
            rx.foreach(P.free_times, lambda t: rx.button(t.replace("T", " "), size="1", variant="soft", type="button",
                                                         on_click=P.use_time(t))),
            spacing="2", flex_wrap="wrap", align="center",
        )),
        _field("Notes", "notes", max_length=4000),
        spacing="3", width="100%",
    )


def _ticket_fields() -> rx.Component:
    return rx.vstack(
        _field("Issue summary", "issue_summary", max_length=200),
        _field("Details", "issue_details", max_length=2000),
        rx.grid(
            rx.vstack(field_label("Priority", html_for="pg-priority"),
                      rx.select(["low", "medium", "high", "urgent"], name="priority", id="pg-priority",
                                custom_attrs={"aria-label": "Priority"},
                                default_value=P.values.get("priority", "medium")),
                      spacing="1"),
            _field("Category", "category", max_length=60),
            columns="2", spacing="3", width="100%",
        ),
        spacing="3", width="100%",
    )


def playground_page() -> rx.Component:
    return rx.vstack(
        live_ticker(P.tick, 2000),
        rx.cond(
            ~P.secret_configured,
            rx.callout("ELEVENLABS_WEBHOOK_SECRET is not set, so the webhook answers 503. `make run` sets one for "
                       "you; otherwise add it to .env and restart.", icon="triangle-alert", color_scheme="orange",
                       width="100%"),
        ),
        rx.grid(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Compose a call outcome", size="4", as_="h2"),
                        rx.text("What the agent would report after a call. It is signed with the configured secret "
                                "and sent to ", rx.code(P.webhook_url), ", exactly like ElevenLabs does.",
                                size="2", color_scheme="gray"),
                        rx.vstack(
                            rx.text("The caller wanted to", size="2", weight="medium"),
                            rx.segmented_control.root(
                                rx.segmented_control.item("Book", value="book_appointment"),
                                rx.segmented_control.item("Raise a ticket", value="raise_ticket"),
                                rx.segmented_control.item("Something else", value="other"),
                                value=P.intent, on_change=P.set_intent, id="pg-intent",
                            ),
                            spacing="1",
                        ),
                        rx.cond(P.customer_options.length() > 0, rx.vstack(
                            field_label("Caller", html_for="pg-caller"),
                            rx.select.root(
                                rx.select.trigger(placeholder="Pick an existing customer (optional)", width="100%",
                                                  id="pg-caller", aria_label="Caller"),
                                rx.select.content(rx.foreach(P.customer_options, lambda o: rx.select.item(
                                    o.label, value=o.id))),
                                on_change=P.pick_customer,
                            ),
                            spacing="1", width="100%",
                        )),
                        rx.grid(
                            _field("Name", "customer_name", max_length=120),
                            _field("Phone", "customer_phone", "tel", max_length=40),
                            _field("Email", "customer_email", "email", max_length=254),
                            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
                            key=P.values.get("customer_phone", ""),
                        ),
                        rx.match(P.intent, ("book_appointment", _booking_fields()),
                                 ("raise_ticket", _ticket_fields()),
                                 rx.text("An intent the system does not handle: the call goes to the review queue.",
                                         size="2", color_scheme="gray")),
                        field_error(P.error),
                        rx.button(rx.icon("send", size=16), "Send through the signed webhook", type="submit",
                                  loading=P.sending, id="pg-send", size="3"),
                        spacing="4", width="100%",
                    ),
                    on_submit=P.send,
                    width="100%",
                ),
                width="100%",
            ),
            _results_panel(
                "What happened", P.results,
                rx.text("Send a call: it is stored in the webhook inbox, answered 200, and the worker "
                        "turns it into a booking or a ticket (or the review queue) within seconds.",
                        size="2", color_scheme="gray"),
                spacing="2", id="pg-results",
            ),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        spacing="4", width="100%",
    )
