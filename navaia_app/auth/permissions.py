"""Who may do what: the one table of actions x roles, and `require`, which every guarded service calls.

The services call `require(actor, action)` themselves, so the web pages, the REST API, the agent's
tools and the jobs obey the same table; a page or a route may also ask `allowed(...)` to hide a
button, never instead of the service's check. `actor` is the signed-in user; None means the
application itself acting with no user behind it (the CLI, a job, the demo seed), which no HTTP
route or page event can be: every one of them passes its user.

The README's role table is generated from PERMISSIONS (`markdown_table()`), and a test fails when
the two differ; another test walks every action through the services and over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from navaia_app.auth.models import ROLES
from navaia_app.core.errors import PermissionDenied

# An agent may start a campaign that calls at most this many customers; a larger one is an admin's call.
AGENT_CAMPAIGN_LIMIT = 50


@dataclass(frozen=True)
class Permission:
    action: str
    roles: frozenset[str]
    what: str  # what the action is, for the README table and the refusal
    refusal: str  # the sentence someone without the role reads


def _p(action: str, roles: tuple[str, ...], what: str, refusal: str) -> Permission:
    return Permission(action, frozenset(roles), what, refusal)


_ADMIN_ONLY = "Only an administrator can"

PERMISSIONS: dict[str, Permission] = {p.action: p for p in (
    _p("start_campaign", ("admin", "agent"), f"start a campaign of up to {AGENT_CAMPAIGN_LIMIT} customers",
       "You cannot start campaigns."),
    _p("start_large_campaign", ("admin",), f"start a campaign of more than {AGENT_CAMPAIGN_LIMIT} customers",
       f"{_ADMIN_ONLY} start a campaign that calls more than {AGENT_CAMPAIGN_LIMIT} customers."),
    _p("delete_customer", ("admin",), "delete a customer", f"{_ADMIN_ONLY} delete a customer."),
    _p("export_customer", ("admin",), "export everything held about a customer",
       f"{_ADMIN_ONLY} export a customer's data."),
    _p("erase_customer", ("admin",), "erase a customer", f"{_ADMIN_ONLY} erase a customer."),
    _p("change_settings", ("admin",), "change settings (reminders and other business settings)",
       f"{_ADMIN_ONLY} change settings."),
    _p("manage_users", ("admin",), "add users, change their role, deactivate them",
       f"{_ADMIN_ONLY} manage users."),
    _p("manage_webhook_endpoints", ("admin",), "add, list and delete outgoing webhook endpoints",
       f"{_ADMIN_ONLY} manage webhook endpoints."),
    _p("view_system", ("admin",), "see the System page (queues, workers, failed jobs, audit log) and re-run jobs",
       f"{_ADMIN_ONLY} see the system status."),
)}


def _role_of(actor) -> str | None:
    return getattr(actor, "role", None)


def allowed(actor, action: str) -> bool:
    """Whether `actor` may do `action` (None, the application itself, may do everything)."""
    permission = PERMISSIONS.get(action)
    if permission is None:
        raise KeyError(f"unknown action {action!r}: add it to navaia_app.auth.permissions.PERMISSIONS")
    if actor is None:
        return True
    return bool(getattr(actor, "is_active", True)) and _role_of(actor) in permission.roles


def require(actor, action: str) -> None:
    """Raise PermissionDenied (403 on the API, a toast on the page) unless `actor` may do `action`."""
    if not allowed(actor, action):
        raise PermissionDenied(PERMISSIONS[action].refusal)


def campaign_start_action(customers: int) -> str:
    """The action that starting a campaign calling `customers` customers needs."""
    return "start_large_campaign" if customers > AGENT_CAMPAIGN_LIMIT else "start_campaign"


def markdown_table() -> str:
    """The README's table of roles x actions (tests/auth/test_permissions.py keeps the README equal to it)."""
    lines = ["| action | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for permission in PERMISSIONS.values():
        marks = " | ".join("yes" if role in permission.roles else "no" for role in ROLES)
        lines.append(f"| {permission.what} (`{permission.action}`) | {marks} |")
    return "\n".join(lines)
