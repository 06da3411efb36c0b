from __future__ import annotations

import reflex as rx

from navaia_app.system.state import SystemState as S
from navaia_app.ui.layout import empty_state, pager, section_card, stat_card
from navaia_app.ui.live import live_ticker


def _head(*labels: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(label) for label in labels]))


def _jobs() -> rx.Component:
    return section_card(
        "Background jobs",
        rx.table.root(
            _head("Queue", "Waiting", "Running", "Failed"),
            rx.table.body(rx.foreach(S.queues, lambda q: rx.table.row(
                rx.table.cell(q.name), rx.table.cell(q.waiting), rx.table.cell(q.running),
                rx.table.cell(rx.cond(q.failed > 0, rx.badge(q.failed, color_scheme="red"), rx.text("0")))))),
            width="100%", size="1",
        ),
        rx.text("Workers", weight="medium", size="2"),
        rx.cond(
            S.workers.length() > 0,
            rx.table.root(
                _head("Worker", "State", "Queues", "Last heartbeat"),
                rx.table.body(rx.foreach(S.workers, lambda w: rx.table.row(
                    rx.table.cell(rx.text(w.name, size="1", font_family="monospace")), rx.table.cell(w.state),
                    rx.table.cell(w.queues), rx.table.cell(w.last_heartbeat)))),
                width="100%", size="1",
            ),
            rx.callout("No worker is running: start one with `python -m navaia_app.cli worker`.",
                       icon="triangle-alert", color_scheme="orange", size="1"),
        ),
        aside=rx.cond(S.redis_ok, rx.badge("Redis up", color_scheme="green"),
                      rx.badge("Redis down: jobs wait, nothing is lost", color_scheme="orange")),
    )


def _failed() -> rx.Component:
    return section_card(
        "Failed jobs",
        rx.cond(
            S.failed_jobs.length() > 0,
            rx.table.root(
                _head("Job", "Failed at", "Error", ""),
                rx.table.body(rx.foreach(S.failed_jobs, lambda j: rx.table.row(
                    rx.table.cell(rx.vstack(rx.text(j.func, size="1", font_family="monospace"),
                                            rx.text(j.queue, size="1", color_scheme="gray"), spacing="0")),
                    rx.table.cell(rx.text(j.failed_at, size="1")),
                    rx.table.cell(rx.text(j.error, size="1", color="red")),
                    rx.table.cell(rx.button("Run again", size="1", variant="soft", on_click=S.requeue(j.id)))))),
                width="100%", size="1",
            ),
            rx.text("No failed jobs.", size="2", color_scheme="gray"),
        ),
    )


_SYNC_COLOURS = {"ok": "green", "failed": "red", "skipped": "gray", "running": "blue"}


def _backstop() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Lost-webhook backstop", size="4", as_="h2"), rx.spacer(),
                      rx.badge(S.sync_every, variant="soft"), width="100%", align="center"),
            rx.text("Lists the last 24 hours of ElevenLabs conversations and stores those whose post-call webhook "
                    "never came (ELEVENLABS_SYNC_SECONDS).", size="2", color_scheme="gray"),
            rx.cond(
                S.sync_runs.length() > 0,
                rx.box(rx.table.root(
                    _head("Run (UTC)", "Result", "Listed", "Missing", "Recovered", "Conversations recovered / error"),
                    rx.table.body(rx.foreach(S.sync_runs, lambda r: rx.table.row(
                        rx.table.cell(rx.text(r.at, size="1")),
                        rx.table.cell(rx.badge(r.status, color_scheme=rx.match(
                            r.status, *[(k, v) for k, v in _SYNC_COLOURS.items()], "gray"))),
                        rx.table.cell(r.listed), rx.table.cell(r.missing),
                        rx.table.cell(rx.cond(r.recovered > 0, rx.badge(r.recovered, color_scheme="orange"),
                                              rx.text("0"))),
                        rx.table.cell(rx.vstack(
                            rx.text(r.recovered_ids, size="1", font_family="monospace"),
                            rx.cond(r.error != "", rx.text(r.error, size="1", color="red")), spacing="0"))))),
                    width="100%", size="1"), width="100%", overflow_x="auto", class_name="scroll-x"),
                rx.text("No run yet.", size="2", color_scheme="gray"),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _audit() -> rx.Component:
    return section_card(
        "Audit log",
        rx.cond(
            S.audit_rows.length() > 0,
            rx.box(
                rx.table.root(
                    _head("When (UTC)", "Who", "What", "On", "Detail"),
                    rx.table.body(rx.foreach(S.audit_rows, lambda e: rx.table.row(
                        rx.table.cell(rx.text(e.at, size="1")), rx.table.cell(rx.text(e.actor, size="1")),
                        rx.table.cell(rx.badge(e.action, variant="soft")),
                        rx.table.cell(rx.text(e.target, size="1")),
                        rx.table.cell(rx.text(e.detail, size="1", color_scheme="gray"))))),
                    width="100%", size="1",
                ),
                pager(S), width="100%", overflow_x="auto", class_name="scroll-x",
            ),
            empty_state("scroll-text", "Nothing recorded yet", "Sign-ins, user changes, campaign starts and "
                        "deletions appear here."),
        ),
        aside=rx.select.root(
            rx.select.trigger(placeholder="Every action", aria_label="Filter by action"),
            rx.select.content(rx.select.item("Every action", value="all"),
                              rx.foreach(S.audit_actions, lambda a: rx.select.item(a, value=a))),
            on_change=S.filter_action, size="1",
        ),
    )


def system_page() -> rx.Component:
    return rx.cond(
        S.is_admin,
        rx.vstack(
            rx.grid(
                stat_card("Webhooks waiting", S.inbox_pending, "inbox",
                          rx.cond(S.oldest_pending != "", "oldest " + S.oldest_pending, "none waiting")),
                stat_card("Webhooks failed", S.inbox_failed, "circle-alert", "re-run them from Conversations"),
                stat_card("Webhooks processed", S.inbox_processed, "circle-check"),
                columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
            ),
            rx.grid(_jobs(), _failed(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
            _backstop(),
            _audit(),
            live_ticker(S.refresh, interval_ms=5000),
            spacing="4", width="100%",
        ),
        empty_state("lock", "Administrators only", "Ask an administrator for access to the system page."),
    )
