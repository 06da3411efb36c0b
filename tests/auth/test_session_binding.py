"""What a stolen session token is worth (issue 10, item 6), on SQLite and PostgreSQL.

Reflex's session cookie cannot be HttpOnly, so a script injected into the page could read it. A web
session is therefore bound to the browser's User-Agent (its hash), and a change of role ends every
session of that user, so a token taken before a promotion never carries the new rights."""

from __future__ import annotations

from navaia_app.auth import service
from tests.conftest import DEFAULT_PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def _user(session, email, role="agent"):
    user = service.create_user(session=session, email=email, password=DEFAULT_PASSWORD, name="Someone", role=role)
    session.commit()
    return user


def test_a_web_session_works_only_from_the_browser_it_was_started_in(session):
    user = _user(session, "ada@example.com")
    token = service.start_session(session=session, user=user, kind="web", user_agent=FIREFOX)
    session.commit()
    assert service.resolve_session(session=session, token=token, kind="web", user_agent=FIREFOX).id == user.id
    for other in ("curl/8.5.0", FIREFOX.replace("140", "141"), "", None):
        assert service.resolve_session(session=session, token=token, kind="web", user_agent=other) is None
    # a refusal does not end the session: its owner keeps working
    assert service.resolve_session(session=session, token=token, kind="web", user_agent=FIREFOX) is not None


def test_api_tokens_are_not_bound_to_a_user_agent(session):
    user = _user(session, "ada@example.com")
    token = service.start_session(session=session, user=user, kind="api", user_agent=FIREFOX)
    session.commit()
    assert service.resolve_session(session=session, token=token, kind="api", user_agent="curl/8.5.0") is not None


def test_a_change_of_role_ends_every_session_of_that_user(session):
    admin = _user(session, "boss@example.com", role="admin")
    agent = _user(session, "agent@example.com")
    before = service.start_session(session=session, user=agent, kind="web", user_agent=FIREFOX)
    api = service.start_session(session=session, user=agent, kind="api")
    admin_token = service.start_session(session=session, user=admin, kind="web", user_agent=FIREFOX)
    session.commit()

    service.update_user(session=session, actor=admin, user_id=agent.id, role="admin")
    session.commit()
    assert service.resolve_session(session=session, token=before, kind="web", user_agent=FIREFOX) is None
    assert service.resolve_session(session=session, token=api, kind="api") is None
    assert service.resolve_session(session=session, token=admin_token, kind="web", user_agent=FIREFOX) is not None

    # signing in again gives a fresh token with the new role
    fresh = service.start_session(session=session, user=agent, kind="web", user_agent=FIREFOX)
    session.commit()
    assert service.resolve_session(session=session, token=fresh, kind="web", user_agent=FIREFOX).role == "admin"


def test_an_update_that_keeps_the_role_keeps_the_sessions(session):
    admin = _user(session, "boss@example.com", role="admin")
    agent = _user(session, "agent@example.com")
    token = service.start_session(session=session, user=agent, kind="web", user_agent=FIREFOX)
    session.commit()
    service.update_user(session=session, actor=admin, user_id=agent.id, role="agent")
    session.commit()
    assert service.resolve_session(session=session, token=token, kind="web", user_agent=FIREFOX) is not None
