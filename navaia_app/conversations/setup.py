"""What to configure on the ElevenLabs agent, shown under Settings → Voice agent setup (copy and paste)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.auth.state import AuthState, authenticated
from navaia_app.conversations.agent_tools import INITIATION_VARIABLES
from navaia_app.core.settings import get_settings

# name, type, what the agent should collect (the data-collection prompt)
DATA_COLLECTION = (
    ("intent", "string", "What the caller wants: book_appointment, raise_ticket, or other."),
    ("customer_name", "string", "The caller's full name."),
    ("customer_email", "string", "The caller's email address, if given."),
    ("customer_phone", "string", "A phone number the caller gives, if different from the line they call from."),
    ("service", "string", "book_appointment: the service to book, e.g. Dental cleaning."),
    ("appointment_datetime", "string", "book_appointment: ISO 8601 date and time, e.g. 2026-12-02T15:00 "
                                       "(the caller's local time unless an offset is given)."),
    ("duration_minutes", "integer", "book_appointment: length in minutes, if the caller says."),
    ("notes", "string", "book_appointment: anything the business should know."),
    ("issue_summary", "string", "raise_ticket: one line describing the problem (the ticket's title)."),
    ("issue_details", "string", "raise_ticket: the details the caller gave."),
    ("priority", "string", "raise_ticket: low, medium, high or urgent."),
    ("category", "string", "raise_ticket: e.g. billing, repair, account."),
)

# tool name, path, body parameters, what it answers. Every tool also takes BINDING: set both as
# "dynamic variable" parameters (not "LLM prompt"), so the model cannot choose whose records it reads.
BINDING = "call_token = {{call_token}}, caller_id = {{system__caller_id}}"
TOOLS = (
    ("lookup_customer", "lookup-customer", f"{BINDING}; phone, email, customer_id",
     "The record of the customer this call is with (open tickets, next booking); for an unverified caller only "
     "whether a record matches."),
    ("check_availability", "check-availability", f"{BINDING}; date (YYYY-MM-DD) or appointment_datetime, "
                                                 "duration_minutes", "Free start times, or whether one time is free."),
    ("book_appointment", "book-appointment", f"{BINDING}; service, appointment_datetime, duration_minutes, notes, "
                                             "customer_name, customer_phone, customer_email, conversation_id = "
                                             "{{system__conversation_id}}", "Books the time for the customer this "
                                                                            "call is with; booked true/false "
                                                                            "with a message to read out."),
    ("raise_ticket", "raise-ticket", f"{BINDING}; issue_summary, issue_details, priority, category, customer_name, "
                                     "customer_phone, customer_email, conversation_id = {{system__conversation_id}}",
     "Opens a ticket and says its number."),
    ("request_handoff", "request-handoff", f"{BINDING}; reason, summary (the conversation so far), phone (a number "
                                           "to call back, if the caller gives one), conversation_id = "
                                           "{{system__conversation_id}}",
     "When the caller asks for a person: transfer true and transfer_number while a hand-off number is staffed "
     "(then call transfer_to_number with it); otherwise a call-back ticket and when someone will call back."),
)

# ElevenLabs system tools to enable on the agent (Tools -> System tools), with what to configure.
SYSTEM_TOOLS = (
    ("transfer_to_number", "Add a phone-number transfer whose number is a dynamic variable or, simpler, one entry "
                           "per hand-off number (Settings -> Hand-off numbers); condition: \"request_handoff answered "
                           "transfer true\". Transfers are read back from the post-call data (number and time)."),
    ("voicemail_detection", "Optional with TELEPHONY_PROVIDER=elevenlabs: lets the agent notice an answering machine; "
                            "the post-call data marks the campaign call voicemail or voicemail_left."),
    ("end_call", "Lets the agent hang up when the conversation is over."),
)

OUTBOUND_VARIABLES = ("customer_id", "campaign_id", "campaign_call_id", "call_token")


@dataclass
class SetupRow:
    name: str
    kind: str
    text: str


@dataclass
class ToolRow:
    name: str
    url: str
    body: str
    answers: str


class AgentSetupState(AuthState):
    webhook_url: str = ""
    initiation_url: str = ""
    webhook_secret_set: bool = False
    tools_secret_set: bool = False
    agent_id: str = ""
    fields: list[SetupRow] = []
    tools: list[ToolRow] = []
    system_tools: list[SetupRow] = []
    secrets_shown: bool = False
    webhook_secret: str = ""
    tools_secret: str = ""

    @rx.event
    @authenticated
    def load(self):
        settings = get_settings()
        base = settings.public_base_url.rstrip("/")
        self.webhook_url = f"{base}/api/webhooks/elevenlabs"
        self.initiation_url = f"{base}/api/webhooks/elevenlabs/initiation"
        self.webhook_secret_set = bool(settings.elevenlabs_webhook_secret)
        self.tools_secret_set = bool(settings.agent_tools_secret)
        self.agent_id = settings.elevenlabs_agent_id or ""
        self.fields = [SetupRow(name=n, kind=k, text=t) for n, k, t in DATA_COLLECTION]
        self.tools = [ToolRow(name=n, url=f"{base}/api/tools/{path}", body=body, answers=answers)
                      for n, path, body, answers in TOOLS]
        self.system_tools = [SetupRow(name=n, kind="system", text=t) for n, t in SYSTEM_TOOLS]
        self.secrets_shown, self.webhook_secret, self.tools_secret = False, "", ""

    @rx.event
    @authenticated(admin=True)
    def toggle_secrets(self):
        """Admins only: the secrets to paste into ElevenLabs (never sent to the page until asked)."""
        if self.secrets_shown:
            self.secrets_shown, self.webhook_secret, self.tools_secret = False, "", ""
            return
        settings = get_settings()
        self.webhook_secret = settings.elevenlabs_webhook_secret or ""
        self.tools_secret = settings.agent_tools_secret or ""
        self.secrets_shown = True


def _copyable(value) -> rx.Component:
    return rx.hstack(
        rx.code(value, size="2", style={"wordBreak": "break-all"}),
        rx.icon_button(rx.icon("copy", size=12), size="1", variant="ghost", on_click=rx.set_clipboard(value),
                       aria_label="Copy"),
        align="center", spacing="1",
    )


def _secret_line(label: str, is_set, value, env: str) -> rx.Component:
    S = AgentSetupState
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(rx.cond(
            is_set,
            rx.cond(S.secrets_shown, _copyable(value), rx.text(env, " is set", size="2")),
            rx.badge(f"not set: set {env}", color_scheme="orange"),
        )),
    )


def voice_agent_setup() -> rx.Component:
    S = AgentSetupState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Voice agent setup", size="4", as_="h2"), rx.spacer(),
                rx.cond(AuthState.is_admin, rx.button(rx.cond(S.secrets_shown, "Hide secrets", "Show secrets"),
                                                      size="1", variant="soft", on_click=S.toggle_secrets)),
                width="100%", align="center",
            ),
            rx.text("Configure these on your ElevenLabs agent, then calls become bookings and tickets by themselves.",
                    size="2", color_scheme="gray"),
            rx.data_list.root(
                rx.data_list.item(rx.data_list.label("Agent id"), rx.data_list.value(
                    rx.cond(S.agent_id != "", rx.code(S.agent_id),
                            rx.badge("not set: set ELEVENLABS_AGENT_ID", color_scheme="orange")))),
                rx.data_list.item(rx.data_list.label("Post-call webhook (workspace settings)"),
                                  rx.data_list.value(_copyable(S.webhook_url))),
                rx.data_list.item(rx.data_list.label("Webhook events"), rx.data_list.value(rx.text(
                    "Transcription, Audio, Call initiation failure", size="2"))),
                _secret_line("Webhook HMAC secret", S.webhook_secret_set, S.webhook_secret,
                             "ELEVENLABS_WEBHOOK_SECRET"),
                rx.data_list.item(rx.data_list.label("Conversation initiation webhook (inbound calls)"),
                                  rx.data_list.value(_copyable(S.initiation_url))),
                rx.data_list.item(rx.data_list.label("Header for tools and initiation"),
                                  rx.data_list.value(rx.code("X-Agent-Tools-Secret"))),
                _secret_line("Tools secret", S.tools_secret_set, S.tools_secret, "AGENT_TOOLS_SECRET"),
                rx.data_list.item(rx.data_list.label("Dynamic variables (initiation)"), rx.data_list.value(
                    rx.text(", ".join(INITIATION_VARIABLES), size="2"))),
                rx.data_list.item(rx.data_list.label("Dynamic variables (our outbound calls)"), rx.data_list.value(
                    rx.text(", ".join(OUTBOUND_VARIABLES), size="2"))),
                size="2",
            ),
            rx.text("Data collection (Analysis tab)", size="2", weight="medium"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Identifier"),
                                             rx.table.column_header_cell("Type"),
                                             rx.table.column_header_cell("Description"))),
                rx.table.body(rx.foreach(S.fields, lambda f: rx.table.row(
                    rx.table.cell(rx.code(f.name)), rx.table.cell(f.kind), rx.table.cell(rx.text(f.text, size="1"))))),
                size="1", width="100%",
            ), width="100%", overflow_x="auto", class_name="scroll-x"),
            rx.text("Server tools (POST, JSON body, header X-Agent-Tools-Secret)", size="2", weight="medium"),
            rx.text("Set call_token and caller_id as dynamic-variable parameters (not filled by the model), and give "
                    "call_token an empty default: they bind each tool to the customer the call is with.",
                    size="1", color_scheme="gray"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Tool"), rx.table.column_header_cell("URL"),
                                             rx.table.column_header_cell("Body parameters"),
                                             rx.table.column_header_cell("Answers"))),
                rx.table.body(rx.foreach(S.tools, lambda t: rx.table.row(
                    rx.table.cell(rx.code(t.name)), rx.table.cell(_copyable(t.url)),
                    rx.table.cell(rx.text(t.body, size="1")), rx.table.cell(rx.text(t.answers, size="1"))))),
                size="1", width="100%",
            ), width="100%", overflow_x="auto", class_name="scroll-x"),
            rx.text("System tools", size="2", weight="medium"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("System tool"),
                                             rx.table.column_header_cell("What to configure"))),
                rx.table.body(rx.foreach(S.system_tools, lambda t: rx.table.row(
                    rx.table.cell(rx.code(t.name)), rx.table.cell(rx.text(t.text, size="1"))))),
                size="1", width="100%",
            ), width="100%", overflow_x="auto", class_name="scroll-x", id="system-tools"),
            spacing="3", width="100%",
        ),
        width="100%", id="voice-agent-setup",
    )
