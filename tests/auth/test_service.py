"""Auth rules: registration, passwords, sign-in throttling and sessions (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

from navaia_app.auth import service
from navaia_app.auth.models import AuthSession, LoginThrottle, User
from navaia_app.core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    Throttled,
    ValidationFailed,
)
from navaia_app.core.types import utcnow
from tests.conftest import DEFAULT_PASSWORD


class Clock:
    """The service's clock, moved by hand."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(service, "utcnow", fake)
    return fake


def _users(session) -> list[User]:
    session.expire_all()
    return list(session.exec(select(User).order_by(User.id)))


def _create(session, email="ada@example.com", password=DEFAULT_PASSWORD, name="Ada Lovelace", role="agent"):
    user = service.create_user(session=session, email=email, password=password, name=name, role=role)
    session.commit()
    return user


def _throttle(session, key: str) -> LoginThrottle | None:
    session.expire_all()
    return session.get(LoginThrottle, key)


# --- registration -------------------------------------------------------------------------------


def test_first_user_becomes_admin_and_later_signup_is_closed(session):
    assert service.signup_open(session=session) is True
    first = service.register(session=session, email="first@example.com", password=DEFAULT_PASSWORD, name="First")
    session.commit()
    assert first.role == "admin"
    assert service.signup_open(session=session) is False

    with pytest.raises(PermissionDenied) as exc:
        service.register(session=session, email="second@example.com", password=DEFAULT_PASSWORD, name="Second")
    assert "closed" in exc.value.message.lower()
    session.rollback()
    assert [u.email for u in _users(session)] == ["first@example.com"]


def test_signup_allowed_by_setting_makes_agents(session, set_env):
    service.register(session=session, email="first@example.com", password=DEFAULT_PASSWORD, name="First")
    session.commit()
    set_env(ALLOW_SIGNUP="true")
    second = service.register(session=session, email="second@example.com", password=DEFAULT_PASSWORD,
                              name="Second")
    session.commit()
    assert second.role == "agent"
    assert [(u.email, u.role) for u in _users(session)] == [
        ("first@example.com", "admin"), ("second@example.com", "agent")]


# --- passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "abcdefgh" "ij",                              # lowercase only, no digit: fine
    "correct horse battery staple",               # a passphrase of lowercase words
    "eight ch",                                   # exactly the minimum
    ("lantern harbour " * 8),                     # exactly the maximum (128)
])
def test_passwords_without_composition_rules_are_accepted(session, password):
    user = _create(session, password=password)
    assert service.HASHER.verify(password, user.password_hash)


@pytest.mark.parametrize(("password", "expected"), [
    ("short7c", "at least 8"),
    ("x" * 129, "at most 128"),
    ("password123", "too common"),
    ("PassWord123", "too common"),                # the list is checked without regard to case
    ("qwertyuiop", "too common"),
    ("aaaaaaaaaaaa", "too common"),               # one repeated character
    ("adalovelace", "name or email"),             # the user's own name
])
def test_weak_passwords_are_refused_with_a_reason(session, password, expected):
    with pytest.raises(ValidationFailed) as exc:
        service.create_user(session=session, email="someone@example.com", password=password, name="Ada Lovelace")
    assert exc.value.field == "password"
    assert expected in exc.value.message
    session.rollback()
    assert _users(session) == []


def test_password_is_stored_as_argon2id_hash(session):
    user = _create(session)
    row = _users(session)[0]
    assert row.id == user.id
    assert row.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in row.password_hash
    assert service.HASHER.verify(DEFAULT_PASSWORD, row.password_hash)
    assert not service.HASHER.verify(DEFAULT_PASSWORD + "x", row.password_hash)


def test_duplicate_email_is_a_conflict_whatever_its_case(session):
    _create(session, email="ada@example.com")
    with pytest.raises(Conflict) as exc:
        service.create_user(session=session, email="  ADA@Example.COM ", password=DEFAULT_PASSWORD, name="Other")
    assert exc.value.field == "email"
    session.rollback()
    assert len(_users(session)) == 1


def test_create_user_reports_every_bad_field_and_writes_nothing(session):
    with pytest.raises(ValidationFailed) as exc:
        service.create_user(session=session, email="not-an-email", password="short", name="  ", role="owner")
    assert set(exc.value.errors) == {"email", "name", "password", "role"}
    session.rollback()
    assert _users(session) == []


def test_email_is_stored_normalised(session):
    user = _create(session, email="  Grace.Hopper@Example.COM ")
    assert user.email == "grace.hopper@example.com"


# --- sign-in ------------------------------------------------------------------------------------


def test_authenticate_success_records_the_login(session):
    _create(session)
    user = service.authenticate(session=session, email=" ADA@example.com", password=DEFAULT_PASSWORD, client="c1")
    session.commit()
    assert user.email == "ada@example.com"
    assert _users(session)[0].last_login_at is not None


def test_unknown_email_and_wrong_password_give_the_same_message(session):
    _create(session)
    messages = []
    for email, password in (("nobody@example.com", DEFAULT_PASSWORD), ("ada@example.com", "wrong password 1")):
        with pytest.raises(AuthenticationFailed) as exc:
            service.authenticate(session=session, email=email, password=password, client="c1")
        messages.append((exc.value.message, exc.value.status_code, exc.value.errors))
    assert messages[0] == messages[1] == (service.GENERIC_LOGIN_ERROR, 401, {})


def test_deactivated_user_cannot_sign_in(session):
    admin = _create(session, email="boss@example.com", role="admin")
    agent = _create(session)
    service.update_user(session=session, actor=admin, user_id=agent.id, is_active=False)
    session.commit()
    with pytest.raises(AuthenticationFailed) as exc:
        service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD)
    assert exc.value.message == service.GENERIC_LOGIN_ERROR


def _fail(session, email="ada@example.com", client="c1", password="wrong password 1"):
    with pytest.raises(AuthenticationFailed):
        service.authenticate(session=session, email=email, password=password, client=client)


def test_five_failures_lock_the_account_with_retry_after(session, clock):
    _create(session)
    for _ in range(5):
        _fail(session)
    row = _throttle(session, "acct:ada@example.com")
    assert row.failures == 5 and row.locked_until > clock.now

    # Locked: even the right password is refused, with how long to wait.
    with pytest.raises(Throttled) as exc:
        service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="c1")
    assert exc.value.status_code == 429
    assert 1 <= exc.value.retry_after <= 300
    assert str(exc.value.retry_after) in exc.value.message
    # ... and from another client too (the lock is on the account).
    with pytest.raises(Throttled):
        service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="c2")

    clock.advance(seconds=exc.value.retry_after)
    user = service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="c1")
    session.commit()
    assert user.email == "ada@example.com"
    assert _throttle(session, "acct:ada@example.com") is None  # success clears the account's failures


def test_account_lock_grows_but_never_exceeds_five_minutes(session, clock):
    _create(session)
    locks = []
    for _ in range(15):
        _fail(session)
        row = _throttle(session, "acct:ada@example.com")
        if row.locked_until is not None and row.locked_until > clock.now:
            locks.append(row.locked_until - clock.now)
            clock.advance(seconds=(row.locked_until - clock.now).total_seconds())
    assert len(locks) == 11  # the 5th to the 15th failure each lock
    assert locks == sorted(locks)
    assert locks[0] < timedelta(minutes=5)
    assert max(locks) == timedelta(minutes=5)


def test_a_lock_after_many_stored_failures_is_still_capped(session, clock):
    _create(session)
    session.add(LoginThrottle(key="acct:ada@example.com", failures=500, last_failure_at=clock.now))
    session.commit()
    _fail(session)
    row = _throttle(session, "acct:ada@example.com")
    assert row.failures == 501
    assert row.locked_until - clock.now == timedelta(minutes=5)


def test_success_clears_account_failures(session, clock):
    _create(session)
    for _ in range(4):
        _fail(session)
    service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="c1")
    session.commit()
    assert _throttle(session, "acct:ada@example.com") is None
    for _ in range(4):  # 8 failures in all, but never 5 in a row: no lock
        _fail(session)
    assert service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="c1")


def test_old_failures_are_forgotten(session, clock):
    _create(session)
    for _ in range(4):
        _fail(session)
    clock.advance(hours=2)
    _fail(session)
    row = _throttle(session, "acct:ada@example.com")
    assert row.failures == 1 and row.locked_until is None


def test_one_client_guessing_many_accounts_is_locked(session, clock):
    _create(session)
    for n in range(service.CLIENT_FREE_FAILURES):
        _fail(session, email=f"guess{n}@example.com", client="10.0.0.9")
    with pytest.raises(Throttled) as exc:
        service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD, client="10.0.0.9")
    assert exc.value.retry_after >= 1
    # Other clients are not affected, nor the account itself.
    assert service.authenticate(session=session, email="ada@example.com", password=DEFAULT_PASSWORD,
                                client="10.0.0.10")
    assert _throttle(session, "client:10.0.0.9").failures == service.CLIENT_FREE_FAILURES


# --- sessions -----------------------------------------------------------------------------------


def test_token_is_stored_only_as_a_hash(session):
    user = _create(session)
    token = service.start_session(session=session, user=user, kind="web", client="browser")
    session.commit()
    rows = list(session.exec(select(AuthSession)))
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(rows[0].model_dump())
    assert len(token) >= 40
    assert service.resolve_session(session=session, token=token).id == user.id


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 500])
def test_unknown_tokens_resolve_to_nobody(session, token):
    _create(session)
    assert service.resolve_session(session=session, token=token) is None


def test_revoked_session_resolves_to_nobody(session):
    user = _create(session)
    token = service.start_session(session=session, user=user)
    other = service.start_session(session=session, user=user)
    session.commit()
    service.end_session(session=session, token=token)
    session.commit()
    assert service.resolve_session(session=session, token=token) is None
    assert service.resolve_session(session=session, token=other).id == user.id
    revoked = session.exec(select(AuthSession).where(AuthSession.revoked_at.is_not(None))).all()
    assert len(revoked) == 1


def test_web_session_expires_when_idle(session, clock, app_env):
    user = _create(session)
    token = service.start_session(session=session, user=user, kind="web")
    api_token = service.start_session(session=session, user=user, kind="api")
    session.commit()
    clock.advance(minutes=app_env.session_idle_minutes - 1)
    assert service.resolve_session(session=session, token=token) is not None  # and that use counts
    clock.advance(minutes=app_env.session_idle_minutes - 1)
    assert service.resolve_session(session=session, token=token) is not None
    clock.advance(minutes=app_env.session_idle_minutes + 1)
    assert service.resolve_session(session=session, token=token) is None
    # API tokens have no idle limit, only their lifetime.
    assert service.resolve_session(session=session, token=api_token, kind="api") is not None


def test_background_polling_does_not_keep_an_idle_session_alive(session, clock, app_env):
    user = _create(session)
    token = service.start_session(session=session, user=user, kind="web")
    session.commit()
    for _ in range(3):  # an open page polls for changes long after the person left
        clock.advance(minutes=app_env.session_idle_minutes // 2)
        assert service.resolve_session(session=session, token=token, touch=False) is not None or _ is 2
    assert service.resolve_session(session=session, token=token, touch=False) is None
    assert service.resolve_session(session=session, token=token) is None


def test_session_expires_at_its_absolute_lifetime_however_active(session, clock, app_env):
    user = _create(session)
    token = service.start_session(session=session, user=user, kind="web")
    session.commit()
    lifetime = timedelta(hours=app_env.session_absolute_hours)
    elapsed = timedelta()
    while elapsed + timedelta(minutes=30) < lifetime:
        clock.advance(minutes=30)
        elapsed += timedelta(minutes=30)
        assert service.resolve_session(session=session, token=token) is not None
    clock.advance(minutes=30)
    assert service.resolve_session(session=session, token=token) is None


def test_api_token_expires_after_its_lifetime(session, clock, app_env):
    user = _create(session)
    token = service.start_session(session=session, user=user, kind="api")
    session.commit()
    clock.advance(hours=app_env.api_token_hours, seconds=-5)
    assert service.resolve_session(session=session, token=token, kind="api") is not None
    clock.advance(seconds=10)
    assert service.resolve_session(session=session, token=token, kind="api") is None


def test_token_of_another_kind_is_refused(session):
    user = _create(session)
    web = service.start_session(session=session, user=user, kind="web")
    session.commit()
    assert service.resolve_session(session=session, token=web, kind="api") is None
    assert service.resolve_session(session=session, token=web, kind="web") is not None


def test_login_rotates_the_session(session):
    user = _create(session)
    old = service.start_session(session=session, user=user)
    session.commit()
    new = service.start_session(session=session, user=user, replaces=old)
    session.commit()
    assert new != old
    assert service.resolve_session(session=session, token=old) is None
    assert service.resolve_session(session=session, token=new).id == user.id


def test_deactivated_user_sessions_resolve_to_nobody(session):
    admin = _create(session, email="boss@example.com", role="admin")
    agent = _create(session)
    token = service.start_session(session=session, user=agent)
    session.commit()
    service.update_user(session=session, actor=admin, user_id=agent.id, is_active=False)
    session.commit()
    assert service.resolve_session(session=session, token=token) is None
    rows = session.exec(select(AuthSession).where(AuthSession.user_id == agent.id)).all()
    assert [r.revoked_at is not None for r in rows] == [True]


def test_session_of_an_inactive_user_is_refused_even_if_not_revoked(session):
    agent = _create(session)
    token = service.start_session(session=session, user=agent)
    session.commit()
    agent.is_active = False
    session.add(agent)
    session.commit()
    assert service.resolve_session(session=session, token=token) is None


# --- user administration ------------------------------------------------------------------------


def test_only_admins_update_users(session):
    agent = _create(session)
    other = _create(session, email="other@example.com")
    with pytest.raises(PermissionDenied):
        service.update_user(session=session, actor=agent, user_id=other.id, role="admin")
    session.rollback()
    assert {u.email: u.role for u in _users(session)} == {"ada@example.com": "agent", "other@example.com": "agent"}


def test_admin_changes_role_and_activity(session):
    admin = _create(session, email="boss@example.com", role="admin")
    agent = _create(session)
    service.update_user(session=session, actor=admin, user_id=agent.id, role="admin")
    session.commit()
    assert {u.email: u.role for u in _users(session)}["ada@example.com"] == "admin"
    service.update_user(session=session, actor=admin, user_id=agent.id, is_active=False)
    service.update_user(session=session, actor=admin, user_id=agent.id, is_active=True)
    session.commit()
    assert all(u.is_active for u in _users(session))


@pytest.mark.parametrize(("changes", "field"), [
    ({"role": "owner"}, "role"),
    ({"role": "agent"}, "role"),         # demoting oneself
    ({"is_active": False}, "is_active"),  # deactivating oneself
])
def test_admin_cannot_lock_themself_out_or_set_unknown_roles(session, changes, field):
    admin = _create(session, email="boss@example.com", role="admin")
    with pytest.raises(ValidationFailed) as exc:
        service.update_user(session=session, actor=admin, user_id=admin.id, **changes)
    assert exc.value.field == field
    session.rollback()
    row = _users(session)[0]
    assert (row.role, row.is_active) == ("admin", True)


def test_update_unknown_user_is_not_found(session):
    admin = _create(session, email="boss@example.com", role="admin")
    with pytest.raises(NotFound):
        service.update_user(session=session, actor=admin, user_id=admin.id + 100, role="agent")


def test_change_password(session):
    user = _create(session)
    token = service.start_session(session=session, user=user)
    session.commit()
    with pytest.raises(ValidationFailed) as exc:
        service.change_password(session=session, user=user, current="wrong password 1", new="brand new secret 9")
    assert exc.value.field == "current_password"
    with pytest.raises(ValidationFailed) as exc:
        service.change_password(session=session, user=user, current=DEFAULT_PASSWORD, new="password123")
    assert exc.value.field == "password"
    session.rollback()

    service.change_password(session=session, user=user, current=DEFAULT_PASSWORD, new="brand new secret 9")
    session.commit()
    assert service.resolve_session(session=session, token=token) is None  # other sessions end
    assert service.authenticate(session=session, email=user.email, password="brand new secret 9")
    with pytest.raises(AuthenticationFailed):
        service.authenticate(session=session, email=user.email, password=DEFAULT_PASSWORD)
