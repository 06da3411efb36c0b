from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from navaia_app.audit import service as audit
from navaia_app.auth.state import AuthState, actor, authenticated
from navaia_app.core.db import session_scope
from navaia_app.system import service
from navaia_app.system.service import FailedJob
from navaia_app.ui.actions import service_action
from navaia_app.ui.paging import PagedMixin


@dataclass
class AuditRow:
    at: str
    actor: str
    action: str
    target: str
    detail: str


@dataclass
class QueueRow:
    name: str
    waiting: int
    running: int
    failed: int


@dataclass
class WorkerRow:
    name: str
    state: str
    queues: str
    last_heartbeat: str


@dataclass
class SyncRow:
    at: str
    status: str
    listed: int
    missing: int
    recovered: int
    recovered_ids: str
    error: str


def _sync_row(run) -> SyncRow:
    return SyncRow(at=run.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"), status=run.status, listed=run.listed,
                   missing=run.missing, recovered=run.recovered, recovered_ids=", ".join(run.recovered_ids[:20]),
                   error=run.error or "")


class SystemState(PagedMixin, AuthState):
    redis_ok: bool = False
    queues: list[QueueRow] = []
    workers: list[WorkerRow] = []
    failed_jobs: list[FailedJob] = []
    inbox_pending: int = 0
    inbox_failed: int = 0
    inbox_processed: int = 0
    oldest_pending: str = ""
    audit_rows: list[AuditRow] = []
    audit_action: str = ""
    audit_actions: list[str] = []
    sync_every: str = ""
    sync_runs: list[SyncRow] = []

    def _load_status(self) -> None:
        with session_scope() as session:
            status = service.system_status(session=session, viewer=actor())
        self.redis_ok = status.redis_ok
        self.queues = [QueueRow(name=n, **counts) for n, counts in status.queues.items()]
        self.workers = [WorkerRow(**w) for w in status.workers]
        self.failed_jobs = status.failed_jobs
        self.inbox_pending = status.inbox.get("pending", 0)
        self.inbox_failed = status.inbox.get("failed", 0)
        self.inbox_processed = status.inbox.get("processed", 0)
        self.oldest_pending = status.oldest_pending.strftime("%Y-%m-%d %H:%M UTC") if status.oldest_pending else ""
        self.sync_every = f"every {status.sync_every_seconds} s" if status.sync_every_seconds else "off"
        self.sync_runs = [_sync_row(run) for run in status.sync_runs]

    def _load_audit(self) -> None:
        with session_scope() as session:
            items, self.total = service.audit_log(session=session, viewer=actor(), action=self.audit_action or None,
                                                   limit=self.page_size, offset=self.offset)
            self.audit_actions = audit.actions(session=session)
        self.audit_rows = [
            AuditRow(at=e.at.strftime("%Y-%m-%d %H:%M:%S"), actor=e.actor_email or "system", action=e.action,
                     target=f"{e.target_type} {e.target_id}".strip(),
                     detail=", ".join(f"{k}={v}" for k, v in e.detail.items()))
            for e in items
        ]

    def _reload(self) -> None:  # the pager's next/prev page the audit log (its service checks the admin)
        self._load_audit()

    @rx.event
    @authenticated
    def load(self):
        """Administrators see the status and the audit log; anyone else sees "Administrators only" (a
        page, not an error)."""
        if actor().role != "admin":
            return
        self._load_status()
        self._load_audit()

    @rx.event
    @authenticated(admin=True, touch=False)
    def refresh(self, _tick: str = ""):
        self._load_status()

    @rx.event
    @authenticated(admin=True)
    def filter_action(self, action: str):
        self.audit_action = "" if action == "all" else action
        self.page = 1
        self._load_audit()

    @rx.event
    @authenticated(admin=True)
    def requeue(self, job_id: str):
        return service_action(lambda s: service.requeue_failed_job(session=s, viewer=actor(), job_id=job_id),
                              then=self._load_status, done="Queued again.")
