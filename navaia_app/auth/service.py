"""Users, passwords, sessions and sign-in throttling: every auth rule lives here."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from pwdlib import PasswordHash
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, func, select

from navaia_app.audit import service as audit
from navaia_app.auth import permissions
from navaia_app.auth.models import ROLES, AuthSession, LoginThrottle, User
from navaia_app.core.db import add_unique, lock_until_commit, session_scope
from navaia_app.core.errors import (AuthenticationFailed, Conflict, NotFound, PermissionDenied, Throttled,
                                    ValidationFailed)
from navaia_app.core.logging import get_logger
from navaia_app.core.settings import get_settings
from navaia_app.core.types import utcnow
from navaia_app.core.validation import normalize_email, raise_first

log = get_logger(__name__)

MIN_PASSWORD, MAX_PASSWORD = 8, 128
GENERIC_LOGIN_ERROR = "Incorrect email or password."
# OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))

# Throttling: the Nth failure in a row locks (N = 5 per account, 20 per client) for FIRST_LOCK,
# each further failure doubles the lock, which never exceeds the cap.
ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_LOCK = 5, timedelta(minutes=5)
CLIENT_FREE_FAILURES, CLIENT_MAX_LOCK = 20, timedelta(minutes=30)
FIRST_LOCK = timedelta(seconds=30)
FAILURE_MEMORY = timedelta(hours=1)
TOUCH_EVERY = timedelta(seconds=60)


@lru_cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def validate_password(password: str, *, email: str = "", name: str = "") -> None:
    """Check a new password against the policy: 8 to 128 characters, not a common password, not the person's
    name or email. Raises ValidationFailed (field "password") saying which rule it breaks.
    """
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"Use at least {MIN_PASSWORD} characters.", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(f"Use at most {MAX_PASSWORD} characters.", field="password")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) <= 2:
        raise ValidationFailed("This password is too common; choose another.", field="password")
    local = email.split("@")[0].lower()
    if (local and len(local) >= 4 and lowered == local) or (name and lowered == name.replace(" ", "").lower()):
        raise ValidationFailed("The password must not be your name or email.", field="password")


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (a fresh salt each time), the only form in which a password is stored."""
    return HASHER.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users -------------------------------------------------------------------------------------


def user_count(*, session: Session) -> int:
    """How many user accounts exist (active or not)."""
    return session.exec(select(func.count()).select_from(User)).one()


def first_admin_setup_token() -> str:
    """The one-time token that lets the first administrator register in production.

    Derived from SECRET_KEY (so every web process prints the same one, and nothing needs storing) and
    printed in the server log at start while the users table is empty. It is worth nothing once any
    user exists: registration then needs ALLOW_SIGNUP, and even then gives the agent role."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"navaia:first-admin-setup:v1", hashlib.sha256).hexdigest()[:32]


def announce_first_admin_setup() -> None:
    """At start, in production with no user yet: log the one-time link that registers the first admin."""
    settings = get_settings()
    if not settings.is_prod:
        return
    try:
        with session_scope() as session:
            if user_count(session=session):
                return
    except sa.exc.SQLAlchemyError:  # not migrated yet, or the database is down: nothing to announce
        return
    link = f"{settings.public_base_url.rstrip('/')}/register?setup_token={first_admin_setup_token()}"
    log.warning("auth.first_admin_setup: this workspace has no user; open the link to register its first "
                "administrator (or run `python -m navaia_app.cli create-user --role admin`)", register_url=link)


def signup_mode(*, session: Session) -> str:
    """`open`: anyone may register (the first user of a dev database, or ALLOW_SIGNUP); `setup`: the users
    table is empty in production, so registering needs the setup token; `closed`."""
    if user_count(session=session) == 0:
        return "setup" if get_settings().is_prod else "open"
    return "open" if get_settings().allow_signup else "closed"


def signup_open(*, session: Session) -> bool:
    """Whether the register page lets someone create an account now (the first user, or ALLOW_SIGNUP)."""
    return signup_mode(session=session) != "closed"


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name is required.", field="name")
    if len(name) > 120:
        raise ValidationFailed("Name is too long (120 characters at most).", field="name")
    return name


def create_user(*, session: Session, email: str, password: str, name: str, role: str = "agent",
                actor: User | None = None) -> User:
    """Create a user with a hashed password and record `user.created` in the audit log (by `actor`, or by the
    new user when registering). Raises ValidationFailed with every field at fault (email, name, password, role)
    at once, and Conflict (field "email") when the email is taken, even by a concurrent insert.
    """
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for field, check in (
        ("email", lambda: normalize_email(email)),
        ("name", lambda: _clean_name(name)),
    ):
        try:
            clean[field] = check()
        except ValidationFailed as exc:
            errors[field] = exc.message
    try:
        validate_password(password, email=clean.get("email", ""), name=clean.get("name", ""))
    except ValidationFailed as exc:
        errors["password"] = exc.message
    if actor is not None:
        permissions.require(actor, "manage_users")
    if role not in ROLES:
        errors["role"] = f"Role must be one of: {', '.join(ROLES)}."
    raise_first(errors)
    if session.exec(select(User.id).where(User.email == clean["email"])).first() is not None:
        raise Conflict("A user with this email already exists.", field="email")
    user = User(email=clean["email"], name=clean["name"], password_hash=hash_password(password), role=role)
    add_unique(session, user, conflict="A user with this email already exists.", field="email")
    audit.record(session, action="user.created", actor=actor or user, target_type="user", target_id=user.id,
                 detail={"email": user.email, "role": role})
    log.info("user.created", user_id=user.id, role=role)
    return user


def register(*, session: Session, email: str, password: str, name: str, setup_token: str = "") -> User:
    """Self-registration: the first user of an empty database becomes admin (in production only with the
    setup token); later ones are agents, and only while ALLOW_SIGNUP is on.

    Check and insert are one step: the lock makes a second registration wait until the first commits, so
    two people racing on a fresh deployment cannot both become admin."""
    lock_until_commit(session, "users:register", sqlite_table="users")
    first = user_count(session=session) == 0
    if first and get_settings().is_prod:
        expected = first_admin_setup_token()
        if not hmac.compare_digest((setup_token or "").strip().encode(), expected.encode()):
            raise PermissionDenied("This workspace has no administrator yet: register with the setup token "
                                   "printed in the server log, or create one with the CLI.")
    if not first and not get_settings().allow_signup:
        raise PermissionDenied("Registration is closed. Ask an administrator to add you.")
    return create_user(session=session, email=email, password=password, name=name, role="admin" if first else "agent")


def list_users(*, session: Session, actor=None) -> list[User]:
    """Every user, by name (a business has a handful of staff accounts). Raises PermissionDenied unless the
    actor's role may manage users."""
    permissions.require(actor, "manage_users")
    return list(session.exec(select(User).order_by(User.name)))


def update_user(*, session: Session, actor: User, user_id: int, role: str | None = None,
                is_active: bool | None = None) -> User:
    """Change a user's role or active flag; deactivating revokes all the user's sessions; audited. Raises
    PermissionDenied unless the actor's role may manage users, NotFound for an unknown user, ValidationFailed
    when an admin would demote or deactivate themselves (someone must stay admin).
    """
    permissions.require(actor, "manage_users")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    if role is not None:
        if role not in ROLES:
            raise ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.", field="role")
        if user.id == actor.id and role != "admin":
            raise ValidationFailed("You cannot remove your own admin role.", field="role")
        if role != user.role:
            # a token taken before the change must not carry the new rights: every session signs in again
            revoke_all_sessions(session=session, user_id=user.id)
        user.role = role
    if is_active is not None:
        if user.id == actor.id and not is_active:
            raise ValidationFailed("You cannot deactivate yourself.", field="is_active")
        user.is_active = is_active
        if not is_active:
            revoke_all_sessions(session=session, user_id=user.id)
    session.add(user)
    session.flush()
    audit.record(session, action="user.updated", actor=actor, target_type="user", target_id=user.id,
                 detail={"role": user.role, "active": user.is_active})
    log.info("user.updated", user_id=user.id, actor_id=actor.id, role=user.role, active=user.is_active)
    return user


def change_password(*, session: Session, user: User, current: str, new: str) -> None:
    """Replace the user's password after checking the current one, and sign the user out everywhere (every
    session revoked); audited. Raises ValidationFailed (field "current_password" or "password").
    """
    if not HASHER.verify(current, user.password_hash):
        raise ValidationFailed("The current password is not right.", field="current_password")
    validate_password(new, email=user.email, name=user.name)
    user.password_hash = hash_password(new)
    session.add(user)
    revoke_all_sessions(session=session, user_id=user.id)
    audit.record(session, action="user.password_changed", actor=user, target_type="user", target_id=user.id)


# --- throttling --------------------------------------------------------------------------------


def _throttle_keys(email: str, client: str) -> list[tuple[str, int, timedelta]]:
    return [
        (f"acct:{email.strip().lower()[:254]}", ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_LOCK),
        (f"client:{client[:120]}", CLIENT_FREE_FAILURES, CLIENT_MAX_LOCK),
    ]


def _check_throttle(session: Session, keys, now: datetime) -> None:
    rows = session.exec(select(LoginThrottle).where(LoginThrottle.key.in_([k for k, _, _ in keys]))).all()
    for row in rows:
        if row.locked_until and row.locked_until > now:
            wait = math.ceil((row.locked_until - now).total_seconds())
            raise Throttled(f"Too many sign-in attempts. Try again in {wait} seconds.", retry_after=wait)


def lock_duration(failures: int, free: int, cap: timedelta) -> timedelta | None:
    """How long `failures` failures in a row lock a key: none before the `free`-th, then doubling, capped."""
    if failures < free:
        return None
    return min(FIRST_LOCK * 2 ** min(failures - free, 20), cap)


def _record_failure(session: Session, keys, now: datetime) -> None:
    """Count one more failure on each key, atomically: one INSERT ... ON CONFLICT DO UPDATE ... RETURNING a
    key, so concurrent failures all count (a read-modify-write lost some of them under load)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = LoginThrottle.__table__
    for key, free, cap in keys:
        stmt = insert(table).values(key=key, failures=1, last_failure_at=now, locked_until=None)
        forgotten = table.c.last_failure_at < now - FAILURE_MEMORY  # a quiet hour starts the count again
        stmt = stmt.on_conflict_do_update(index_elements=[table.c.key], set_={
            "failures": sa.case((forgotten, 1), else_=table.c.failures + 1),
            "last_failure_at": now,
        }).returning(table.c.failures)
        failures = session.execute(stmt).scalar_one()
        lock = lock_duration(failures, free, cap)
        if lock is not None:
            until = now + lock
            session.execute(sa.update(table).where(table.c.key == key).values(locked_until=sa.case(
                (sa.or_(table.c.locked_until.is_(None), table.c.locked_until < until), until),
                else_=table.c.locked_until)))


def _clear_failures(session: Session, key: str) -> None:
    session.exec(sa.delete(LoginThrottle).where(LoginThrottle.key == key))


def authenticate(*, session: Session, email: str, password: str, client: str = "unknown") -> User:
    """Check credentials with the same error whether the email exists or not, throttled."""
    now = utcnow()
    keys = _throttle_keys(email or "", client)
    _check_throttle(session, keys, now)
    email_key = (email or "").strip().lower()
    user = session.exec(select(User).where(User.email == email_key)).first() if email_key else None
    password = (password or "")[:MAX_PASSWORD * 4]
    if user is None:
        HASHER.verify(password, _DUMMY_HASH)  # same cost as a real check, so timing tells nothing
        ok = False
    else:
        ok = HASHER.verify(password, user.password_hash) and user.is_active
    if not ok:
        _record_failure(session, keys, now)
        audit.record(session, action="auth.sign_in_failed", target_type="user", target_id=user.id if user else "",
                     detail={"email": email_key[:254], "client": client[:60]})
        session.commit()  # the failure must count even though we raise
        log.info("auth.login_failed", known_account=user is not None)
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    _clear_failures(session, keys[0][0])
    user.last_login_at = now
    session.add(user)
    audit.record(session, action="auth.signed_in", actor=user, target_type="user", target_id=user.id,
                 detail={"client": client[:60]})
    return user


# --- sessions ----------------------------------------------------------------------------------


def agent_hash(user_agent: str | None) -> str:
    """The SHA-256 of a browser's user agent, as stored with a session (the user agent itself is never stored)."""
    return hashlib.sha256((user_agent or "").encode("utf-8", "replace")).hexdigest()


def start_session(*, session: Session, user: User, kind: str = "web", client: str = "",
                  replaces: str | None = None, user_agent: str | None = None) -> str:
    """A new random token for this sign-in (the one it replaces is revoked); returns the token.

    A web session is bound to `user_agent` (its hash): resolve_session refuses the token from another."""
    settings = get_settings()
    if replaces:
        end_session(session=session, token=replaces)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = timedelta(hours=settings.api_token_hours if kind == "api" else settings.session_absolute_hours)
    bound = agent_hash(user_agent) if kind == "web" and user_agent is not None else ""
    session.add(AuthSession(token_hash=_token_hash(token), user_id=user.id, kind=kind, created_at=now,
                            last_seen_at=now, expires_at=now + lifetime, client=client[:120], agent_hash=bound))
    session.flush()
    log.info("auth.session_started", user_id=user.id, kind=kind)
    return token


def resolve_session(*, session: Session, token: str | None, kind: str | None = None,
                    touch: bool = True, user_agent: str | None = None) -> User | None:
    """The active user behind a token, or None when it is unknown, revoked, idle or expired, or when a web
    session bound to one browser (its User-Agent hash) is presented with another `user_agent`."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None or (kind and row.kind != kind):
        return None
    now = utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if row.expires_at <= now or (row.kind == "web" and now - row.last_seen_at > idle):
        return None
    if row.agent_hash and not hmac.compare_digest(row.agent_hash, agent_hash(user_agent)):
        log.warning("auth.session_agent_mismatch", user_id=row.user_id)
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Background polling (touch=False) must not keep an idle session alive.
    if touch and now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return user


def end_session(*, session: Session, token: str | None) -> None:
    """Revoke the session behind `token` (sign out); a missing, unknown or already revoked token is a no-op."""
    if not token:
        return
    session.exec(
        sa.update(AuthSession)
        .where(AuthSession.token_hash == _token_hash(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(*, session: Session, user_id: int) -> None:
    """Revoke every open session of a user (web and API tokens), e.g. after a password change."""
    session.exec(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
