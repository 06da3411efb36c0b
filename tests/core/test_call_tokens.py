"""Signed call tokens: round trip, forgery, expiry."""

from __future__ import annotations

import pytest

from navaia_app.core.call_tokens import issue_call_token, read_call_token
from navaia_app.core.errors import AuthenticationFailed


@pytest.fixture(autouse=True)
def _key(set_env):
    set_env(SECRET_KEY="k" * 40, APP_ENV="test")


def test_round_trip_keeps_the_claims():
    token = issue_call_token({"customer_id": 7, "booking_id": 3})
    assert read_call_token(token) == {"customer_id": 7, "booking_id": 3}


@pytest.mark.parametrize("bad", [None, "", "abc", "a.b.c", "!!!.???", "x" * 5000])
def test_malformed_tokens_are_refused(bad):
    with pytest.raises(AuthenticationFailed):
        read_call_token(bad)


def test_a_changed_claim_is_refused():
    token = issue_call_token({"customer_id": 7})
    other = issue_call_token({"customer_id": 8})
    forged = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(AuthenticationFailed):
        read_call_token(forged)


def test_another_secret_key_is_refused(set_env):
    token = issue_call_token({"customer_id": 7})
    set_env(SECRET_KEY="z" * 40)
    with pytest.raises(AuthenticationFailed):
        read_call_token(token)


def test_expired_tokens_are_refused():
    token = issue_call_token({"customer_id": 7}, ttl_seconds=60, now=1_000)
    assert read_call_token(token, now=1_059) == {"customer_id": 7}
    with pytest.raises(AuthenticationFailed):
        read_call_token(token, now=1_061)


def test_exp_is_reserved():
    with pytest.raises(ValueError):
        issue_call_token({"exp": 1})
