"""The audit log: one function writes an entry inside the caller's transaction; admins read it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from navaia_app.audit.models import AuditEntry

SENSITIVE = ("password", "token", "secret", "phone")


def _clean(detail: dict[str, Any] | None) -> dict[str, Any]:
    """Secrets and full phone numbers never enter the audit log."""
    out = {}
    for key, value in (detail or {}).items():
        if any(word in key.lower() for word in SENSITIVE):
            continue
        out[key] = value if isinstance(value, (int, float, bool)) or value is None else str(value)[:300]
    return out


def record(session: Session, *, action: str, actor=None, target_type: str = "", target_id: Any = "",
           detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit entry in the caller's transaction (it commits or rolls back with the change it describes);
    secrets and phone numbers in `detail` are dropped, never stored.
    """
    entry = AuditEntry(action=action, actor_id=getattr(actor, "id", None), actor_email=getattr(actor, "email", "") or "",
                       target_type=target_type, target_id=str(target_id or ""), detail=_clean(detail))
    session.add(entry)
    return entry


def list_entries(*, session: Session, action: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first, and the total, optionally of one action. Unguarded: people
    read it through `system.service.audit_log`, which checks who may (auth writes here, so audit cannot
    ask auth)."""
    conditions = [AuditEntry.action == action] if action else []
    items = list(session.exec(select(AuditEntry).where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .limit(max(1, min(limit, 200))).offset(max(0, offset))))
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*conditions)).one()
    return items, total


def actions(*, session: Session) -> list[str]:
    """The distinct actions the audit log holds, for its filter."""
    return list(session.exec(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
