"""The Analytics page's state: one report (a campaign or every call over a period), shaped for display.
Thin: the figures come from analytics.service; the queries run in a worker thread, off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
import reflex as rx
from sqlmodel import select

from navaia_app.analytics import service
from navaia_app.auth.state import AuthState, authenticated
from navaia_app.campaigns.models import Campaign
from navaia_app.core.db import session_scope
from navaia_app.core.errors import DomainError
from navaia_app.core.types import utcnow
from navaia_app.core.zones import business_zone

FUNNEL = (("dialled", "Dialled"), ("answered", "Answered by a person"), ("goal_reached", "Goal reached"))
BESIDE = (("voicemail", "Voicemail"), ("voicemail_left", "Voicemail left"), ("no_answer", "No answer"),
          ("busy", "Busy"), ("failed", "Failed"), ("in_progress", "Under way"))
MAX_CAMPAIGNS_LISTED = 200


@dataclass
class Figure:
    key: str
    label: str
    count: int
    share: str  # of dialled
    width: str  # bar width, CSS percentage


@dataclass
class HeatCell:
    key: str  # "mon-10"
    dialled: int
    answered: int
    text: str
    title: str
    background: str


@dataclass
class HeatRow:
    day: str
    cells: list[HeatCell]


@dataclass
class CriterionRow:
    criterion: str
    success: int
    failure: int
    unknown: int


@dataclass
class Option:
    value: str
    label: str


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _seconds(value: int | None) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}:{seconds:02d}"


def _heat_background(rate: float | None) -> str:
    if rate is None:
        return "var(--gray-3)"
    return f"rgba(48, 164, 108, {0.12 + 0.88 * rate:.2f})"  # Radix green 9, stronger = more answered


class AnalyticsState(AuthState):
    scope: str = "all"  # "all" or a campaign id
    start: str = ""
    end: str = ""
    campaigns: list[Option] = []
    error: str = ""
    loading: bool = False

    funnel: list[Figure] = []
    beside: list[Figure] = []
    answer_rate: str = "–"
    heatmap: list[HeatRow] = []
    hours: list[str] = [f"{h:02d}" for h in range(24)]
    talk_median: str = "–"
    talk_p90: str = "–"
    talk_calls: int = 0
    cost_lines: list[str] = []
    conversations_total: int = 0
    conversations_goal: int = 0
    conversations_handed_off: int = 0
    conversations_failed_evaluation: int = 0
    criteria: list[CriterionRow] = []
    period_label: str = ""

    @rx.var
    def export_url(self) -> str:
        return f"/api/v1/campaigns/{self.scope}/calls.csv" if self.scope != "all" else ""

    def _apply(self, report: dict[str, Any]) -> None:
        counts = report["counts"]
        dialled = counts["dialled"]
        self.funnel = [Figure(key=k, label=label, count=counts[k], share=_share(counts[k], dialled),
                              width=f"{max(2, 100 * counts[k] / dialled) if dialled else 2:.1f}%")
                       for k, label in FUNNEL]
        self.beside = [Figure(key=k, label=label, count=counts[k], share=_share(counts[k], dialled), width="0%")
                       for k, label in BESIDE]
        rate = report["rates"]["answer_rate"]
        self.answer_rate = f"{100 * rate:.1f}%" if rate is not None else "–"
        rows: dict[str, list[HeatCell]] = {day: [] for day in service.WEEKDAYS}
        for cell in report["heatmap"]:
            rate = cell["answer_rate"]
            rows[cell["weekday"]].append(HeatCell(
                key=f"{cell['weekday']}-{cell['hour']}", dialled=cell["dialled"], answered=cell["answered"],
                text=f"{100 * rate:.0f}" if rate is not None else "",
                title=f"{cell['weekday'].capitalize()} {cell['hour']:02d}:00: {cell['answered']} answered of "
                      f"{cell['dialled']} dialled",
                background=_heat_background(rate)))
        self.heatmap = [HeatRow(day=day.capitalize(), cells=cells) for day, cells in rows.items()]
        talk = report["talk_time"]
        self.talk_median, self.talk_p90, self.talk_calls = (_seconds(talk["median_seconds"]),
                                                            _seconds(talk["p90_seconds"]), talk["calls"])
        lines = [f"Carrier: {c['total']:.2f} {c['unit']} over {c['calls']} priced calls; "
                 f"{c['per_call']:.4f} per call" + (f", {c['per_goal']:.4f} per goal" if c["per_goal"] else "")
                 for c in report["cost"]["telephony"]]
        agent = report["cost"]["agent"]
        if agent["calls"]:
            lines.append(f"Agent: {agent['total']} credits over {agent['calls']} conversations; {agent['per_call']} "
                         "per conversation" + (f", {agent['per_goal']} per goal" if agent["per_goal"] else ""))
        self.cost_lines = lines or ["No provider reported a cost for these calls."]
        conv = report["conversations"]
        self.conversations_total, self.conversations_goal = conv["total"], conv["goal_reached"]
        self.conversations_handed_off = conv["handed_off"]
        self.conversations_failed_evaluation = conv["evaluation_failed"]
        self.criteria = [CriterionRow(**row) for row in report["evaluations"]["criteria"]]
        period = report["period"]
        if period["start"] is None:
            self.period_label = "every call of the campaign"
        else:
            zone = business_zone()
            self.period_label = (f"calls placed {period['start'].astimezone(zone):%Y-%m-%d %H:%M} to "
                                 f"{period['end'].astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})")

    async def _refresh(self) -> None:
        scope, start, end = self.scope, self.start or None, self.end or None

        def fetch() -> dict[str, Any]:
            with session_scope() as session:
                if scope == "all":
                    return service.calls_report(session=session, start=start, end=end)
                return service.campaign_report(session=session, campaign_id=int(scope), start=start, end=end)

        self.loading = True
        try:
            report = await anyio.to_thread.run_sync(fetch)
        except DomainError as exc:
            self.error = exc.message
            return
        finally:
            self.loading = False
        self.error = ""
        self._apply(report)

    @rx.event
    @authenticated
    async def load(self):
        with session_scope() as session:
            rows = session.exec(select(Campaign.id, Campaign.name).order_by(Campaign.id.desc())
                                .limit(MAX_CAMPAIGNS_LISTED)).all()
        self.campaigns = [Option(value="all", label="All calls"),
                          *[Option(value=str(i), label=f"{name} (#{i})") for i, name in rows]]
        wanted = self.router.url.query_parameters.get("campaign_id", "") if self.router else ""
        if wanted.isdecimal() and any(o.value == wanted for o in self.campaigns):
            self.scope, self.start, self.end = wanted, "", ""
        else:
            self.scope = "all"
            today = utcnow().astimezone(business_zone()).date()
            self.start, self.end = (today - timedelta(days=29)).isoformat(), today.isoformat()
        await self._refresh()

    @rx.event
    @authenticated
    async def set_scope(self, value: str):
        if value not in {o.value for o in self.campaigns}:
            return
        self.scope = value
        if value != "all":  # a campaign: all of it, unless a period is picked again
            self.start, self.end = "", ""
        await self._refresh()

    @rx.event
    def set_start(self, value: str):
        self.start = str(value or "")[:10]

    @rx.event
    def set_end(self, value: str):
        self.end = str(value or "")[:10]

    @rx.event
    @authenticated
    async def apply_period(self, form_data: dict):
        self.start, self.end = str(form_data.get("start", ""))[:10], str(form_data.get("end", ""))[:10]
        await self._refresh()
