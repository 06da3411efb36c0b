"""The table of roles x actions (navaia_app/auth/permissions.py), walked whole: every action through
its service with each role, and over HTTP with each role's bearer token. An action added to the table
without a walk here fails `test_every_action_is_walked`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from navaia_app.auth import permissions
from navaia_app.auth.models import User
from navaia_app.auth.permissions import AGENT_CAMPAIGN_LIMIT, PERMISSIONS
from navaia_app.core.db import session_scope
from navaia_app.core.errors import PermissionDenied
from navaia_app.customers.models import Customer, CustomerIn

ROOT = Path(__file__).resolve().parents[2]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DEAD_REDIS = "redis://127.0.0.1:6390/0"  # no dispatcher kick reaches a real Redis


# --- what each action is, concretely ----------------------------------------------------------------


_numbers = itertools.count()


def _customers(count: int) -> list[int]:
    from navaia_app.customers.service import create_customer

    with session_scope() as session:
        return [create_customer(session=session, customer_in=CustomerIn(
            name=f"Walk {n}", phone=f"+1212555{n:04d}", timezone="UTC")).id
            for n in (next(_numbers) for _ in range(count))]


def _draft_campaign(customer_ids: list[int]) -> int:
    from navaia_app.campaigns import service
    from navaia_app.campaigns.models import CampaignIn

    with session_scope() as session:
        return service.create_campaign(session=session, campaign_in=CampaignIn(
            name="Walk", customer_ids=customer_ids, calling_window_start="00:00", calling_window_end="00:00",
            calling_days=ALL_DAYS)).id


def _campaign_status(campaign_id: int) -> str:
    from navaia_app.campaigns.models import Campaign

    with session_scope() as session:
        return session.get(Campaign, campaign_id).status


def _customer_exists(customer_id: int) -> bool:
    with session_scope() as session:
        return session.get(Customer, customer_id) is not None


def _user_exists(email: str) -> bool:
    with session_scope() as session:
        return session.exec(select(User.id).where(User.email == email)).first() is not None


@dataclass
class Walk:
    """One way to do an action: make what it acts on, do it through the service / over HTTP, and tell
    whether it happened."""

    prepare: Callable[[], object]
    service: Callable[[object, User], None]
    http: Callable[[object, dict, object], object] | None  # (client, headers, prepared) -> response
    happened: Callable[[object], bool]


def _small_campaign():
    return _draft_campaign(_customers(AGENT_CAMPAIGN_LIMIT))


def _large_campaign():
    return _draft_campaign(_customers(AGENT_CAMPAIGN_LIMIT + 1))


def _start(campaign_id, user):
    from navaia_app.campaigns import service

    with session_scope() as session:
        service.start_campaign(session=session, campaign_id=campaign_id, actor=user)


def _delete_customer(customer_id, user):
    from navaia_app.customers import service

    with session_scope() as session:
        service.delete_customer(session=session, customer_id=customer_id, actor=user)


def _new_email():
    import uuid

    return f"new-{uuid.uuid4().hex[:8]}@example.com"


def _add_user(email, user):
    from navaia_app.auth import service

    with session_scope() as session:
        service.create_user(session=session, email=email, password="pale window orchard 77", name="New Person",
                            role="agent", actor=user)


def _view_system(seen: dict, user):
    from navaia_app.system import service

    with session_scope() as session:
        seen["status"] = service.system_status(session=session, viewer=user)


def _handoff_numbers() -> int:
    from navaia_app.handoff import service

    with session_scope() as session:
        return len(service.list_numbers(session=session))


HANDOFF_NUMBERS = [{"label": "Front desk", "phone": "+12125550199", "days": ["mon"], "start": "09:00", "end": "17:00"}]


def _replace_handoff_numbers(_prepared, user):
    from navaia_app.handoff import service
    from navaia_app.handoff.models import HandoffNumberIn

    with session_scope() as session:
        service.replace_numbers(session=session, actor=user, numbers=[HandoffNumberIn(**n) for n in HANDOFF_NUMBERS])



def _new_endpoint_url():
    import uuid

    return f"http://93.184.215.14/hooks-{uuid.uuid4().hex[:8]}"  # a public address literal: no DNS needed


def _add_endpoint(url, user):
    from navaia_app.webhooks_out import service

    with session_scope() as session:
        service.create_endpoint(session=session, actor=user, url=url, events=["ticket.created"])


def _endpoint_exists(url) -> bool:
    from navaia_app.webhooks_out.models import WebhookEndpoint

    with session_scope() as session:
        return session.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.url == url)).first() is not None


def _export(customer_id, user):
    from navaia_app.privacy import service

    with session_scope() as session:
        service.export_customer(session=session, actor=user, customer_id=customer_id)


def _exported(customer_id) -> bool:
    from navaia_app.audit.models import AuditEntry

    with session_scope() as session:
        return session.exec(select(AuditEntry.id).where(AuditEntry.action == "customer.exported",
                                                        AuditEntry.target_id == str(customer_id))).first() is not None


def _erase(customer_id, user):
    from navaia_app.privacy import service

    with session_scope() as session:
        service.erase_customer(session=session, actor=user, customer_id=customer_id)


def _erased(customer_id) -> bool:
    with session_scope() as session:
        return session.get(Customer, customer_id).erased_at is not None


def _reminder_lead():
    return 60 + next(_numbers)  # a lead time no other walk set, so "happened" sees this walk's own change


def _change_reminders(minutes, user):
    from navaia_app.reminders import service

    with session_scope() as session:
        service.update_reminder_settings(session=session, actor=user, changes={"sms_lead_minutes": minutes})


def _reminder_lead_is(minutes) -> bool:
    from navaia_app.reminders import service

    with session_scope() as session:
        return service.get_reminder_settings(session=session).sms_lead_minutes == minutes


# "action" or "action:what" (an action done by more than one service) -> its walk.
WALKS: dict[str, Walk] = {
    "start_campaign": Walk(
        _small_campaign, _start,
        lambda client, headers, cid: client.post(f"/api/v1/campaigns/{cid}/start", headers=headers),
        lambda cid: _campaign_status(cid) != "draft"),
    "start_large_campaign": Walk(
        _large_campaign, _start,
        lambda client, headers, cid: client.post(f"/api/v1/campaigns/{cid}/start", headers=headers),
        lambda cid: _campaign_status(cid) != "draft"),
    "delete_customer": Walk(
        lambda: _customers(1)[0], _delete_customer,
        lambda client, headers, cid: client.delete(f"/api/v1/customers/{cid}", headers=headers),
        lambda cid: not _customer_exists(cid)),
    "manage_users": Walk(
        _new_email, _add_user,
        lambda client, headers, email: client.post("/api/v1/users", headers=headers, json={
            "email": email, "password": "pale window orchard 77", "name": "New Person", "role": "agent"}),
        _user_exists),
    "change_settings:reminders": Walk(
        _reminder_lead, _change_reminders,
        lambda client, headers, minutes: client.put("/api/v1/settings/reminders", headers=headers,
                                                    json={"sms_lead_minutes": minutes}),
        _reminder_lead_is),
    # The System page has no REST route; its service is what the page calls.
    "view_system": Walk(dict, _view_system, None, lambda seen: "status" in seen),
    "change_settings:handoff": Walk(
        lambda: None, _replace_handoff_numbers,
        lambda client, headers, _p: client.put("/api/v1/settings/handoff", headers=headers,
                                               json={"numbers": HANDOFF_NUMBERS}),
        lambda _p: _handoff_numbers() > 0),
    "manage_webhook_endpoints": Walk(
        _new_endpoint_url, _add_endpoint,
        lambda client, headers, url: client.post("/api/v1/webhook-endpoints", headers=headers,
                                                 json={"url": url, "events": ["ticket.created"]}),
        _endpoint_exists),
    "export_customer": Walk(
        lambda: _customers(1)[0], _export,
        lambda client, headers, cid: client.get(f"/api/v1/customers/{cid}/export", headers=headers),
        _exported),
    "erase_customer": Walk(
        lambda: _customers(1)[0], _erase,
        lambda client, headers, cid: client.post(f"/api/v1/customers/{cid}/erase", headers=headers),
        _erased),
}

# Actions whose services other helpers are adding now (issue 10): the table defines them so those services
# can call require(); each gets its walk when its route lands. Listed with the route that will carry it.
PENDING_ROUTES = {
}


@pytest.fixture
def walk_env(app_env, set_env):
    set_env(REDIS_URL=DEAD_REDIS, TELEPHONY_PROVIDER="simulated")
    return app_env


def _action(key: str) -> str:
    return key.split(":")[0]


def test_every_action_is_walked():
    assert {_action(k) for k in [*WALKS, *PENDING_ROUTES]} == set(PERMISSIONS)
    assert not set(WALKS) & set(PENDING_ROUTES)


def test_pending_actions_still_have_no_route(api_client):
    """When a pending route lands, this fails until its walk is added above."""
    paths = api_client.get("/api/openapi.json").json()["paths"]
    landed = [key for key, (method, path) in PENDING_ROUTES.items() if method in paths.get(path, {})]
    assert landed == [], f"give these actions a walk in WALKS: {landed}"


@pytest.mark.parametrize("key", sorted(WALKS))
def test_walk_through_services(walk_env, make_user, key):
    walk, action = WALKS[key], _action(key)
    for role in ("agent", "admin"):
        user = make_user(role=role)
        prepared = walk.prepare()
        if role in PERMISSIONS[action].roles:
            walk.service(prepared, user)
            assert walk.happened(prepared), (action, role)
        else:
            with pytest.raises(PermissionDenied) as refused:
                walk.service(prepared, user)
            assert refused.value.message == PERMISSIONS[action].refusal
            assert not walk.happened(prepared), f"{action} by {role} was refused but happened"


@pytest.mark.parametrize("key", sorted(k for k, w in WALKS.items() if w.http is not None))
def test_walk_over_http(walk_env, api_client, make_user, login, key):
    walk, action = WALKS[key], _action(key)
    for role in ("agent", "admin"):
        headers = login(make_user(role=role).email)
        prepared = walk.prepare()
        response = walk.http(api_client, headers, prepared)
        if role in PERMISSIONS[action].roles:
            assert response.status_code < 300, (action, role, response.text)
            assert walk.happened(prepared)
        else:
            assert response.status_code == 403, (action, role, response.text)
            assert response.json()["detail"] == PERMISSIONS[action].refusal
            assert not walk.happened(prepared), f"{action} by {role} answered 403 but happened"


def test_agent_cannot_resume_a_large_campaign_an_admin_paused(walk_env, make_user):
    from navaia_app.campaigns import service

    admin, agent = make_user(role="admin"), make_user(role="agent")
    cid = _large_campaign()
    with session_scope() as session:
        service.start_campaign(session=session, campaign_id=cid, actor=admin)
        service.pause_campaign(session=session, campaign_id=cid, actor=admin)
    with pytest.raises(PermissionDenied), session_scope() as session:
        service.resume_campaign(session=session, campaign_id=cid, actor=agent)
    assert _campaign_status(cid) == "paused"


def test_agent_users_api_is_refused_whole(walk_env, api_client, make_user, login):
    agent = make_user(role="agent")
    headers = login(agent.email)
    assert api_client.get("/api/v1/users", headers=headers).status_code == 403
    assert api_client.patch(f"/api/v1/users/{agent.id}", json={"role": "admin"}, headers=headers).status_code == 403
    with session_scope() as session:
        assert session.get(User, agent.id).role == "agent"


def test_deactivated_admin_is_refused():
    admin = User(email="a@example.com", name="A", password_hash="x", role="admin", is_active=False)
    assert not permissions.allowed(admin, "delete_customer")


def test_unknown_action_is_a_programming_error():
    with pytest.raises(KeyError):
        permissions.require(None, "launch_rockets")


def test_readme_table_is_the_permissions_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- roles:begin -->\n(.*?)\n<!-- roles:end -->", readme, re.S)
    assert match, "README.md needs the roles table between <!-- roles:begin --> and <!-- roles:end -->"
    assert match.group(1).strip() == permissions.markdown_table(), \
        "README's roles table differs from navaia_app/auth/permissions.py: paste permissions.markdown_table()"


def test_the_page_refuses_an_agent_with_a_toast_that_says_why(walk_env, make_user):
    """The Customers page's delete runs the same service: an agent gets the refusal as a toast."""
    import navaia_app.navaia_app  # noqa: F401  (registers the pages' states)
    from navaia_app.auth import service as auth_service
    from navaia_app.customers.state import CustomersState

    agent = make_user(role="agent")
    with session_scope() as session:
        token = auth_service.start_session(session=session, user=agent, kind="web")
    customer_id = _customers(1)[0]

    class Page:  # the state's fields and helpers the handler uses, without a running app
        session_token = token
        delete_id, delete_name = customer_id, "Walk"
        reloads = 0
        _delete = CustomersState._delete

        def _reload(self):
            self.reloads += 1

    page = Page()
    answer = CustomersState.event_handlers["confirm_delete"].fn(page)
    assert PERMISSIONS["delete_customer"].refusal in str(answer) and "error" in str(answer)
    assert _customer_exists(customer_id) and page.reloads == 0


# Every operation of these, whatever its method, is an admin's (the contract's list); settings are read by all.
ADMIN_ONLY_PATHS = ("/api/v1/users", "/api/v1/webhook-endpoints")
ADMIN_ONLY_SUFFIXES = ("/export", "/erase")


def _admin_only(path: str, method: str) -> bool:
    if path.startswith(ADMIN_ONLY_PATHS) or path.endswith(ADMIN_ONLY_SUFFIXES):
        return True
    return path.startswith("/api/v1/settings/") and method != "get"


def test_every_admin_route_refuses_an_agent(walk_env, api_client, make_user, login):
    """A sweep of the OpenAPI schema: an agent's token gets 403 on every admin-only operation (422 only where
    the body is checked first, which changes nothing either), never a 2xx and never a 404 that would tell
    which records exist. The walks above prove the same services refuse; this proves no route skips them."""
    admin, agent = login(make_user(role="admin").email), login(make_user(role="agent").email)
    customer_id = _customers(1)[0]
    ids = {"customer_id": customer_id, "user_id": 1, "endpoint_id": 1, "delivery_id": 1}
    endpoint = api_client.post("/api/v1/webhook-endpoints", headers=admin,
                               json={"url": "https://hooks.example.com/in", "events": ["ticket.created"]})
    if endpoint.status_code == 201:
        ids["endpoint_id"] = endpoint.json()["id"]
    paths = api_client.get("/api/openapi.json").json()["paths"]
    swept = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete") or not _admin_only(path, method):
                continue
            url = path.format(**ids)
            has_body = "requestBody" in operation
            response = api_client.request(method.upper(), url, headers=agent, json={} if has_body else None)
            allowed = {403, 422} if has_body else {403}
            assert response.status_code in allowed, (method, path, response.status_code, response.text[:200])
            swept.append(f"{method} {path}")
    assert "post /api/v1/users" in swept and len(swept) >= 5, swept
    with session_scope() as session:
        assert session.get(Customer, customer_id) is not None
