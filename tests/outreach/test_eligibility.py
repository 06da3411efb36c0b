"""One eligibility rule for calls and texts: consent, a valid number in an allowed country, the window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from sqlmodel import select

from navaia_app.campaigns import service
from navaia_app.campaigns.models import CampaignIn
from navaia_app.campaigns.schedule import CallingWindow
from navaia_app.core.db import session_scope
from navaia_app.core.errors import Conflict
from navaia_app.customers.models import Customer
from navaia_app.outreach import calls, dispatcher
from navaia_app.outreach.eligibility import check_eligibility
from navaia_app.outreach.models import CampaignCall

from .conftest import ALL_DAYS

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday


class Contact(NamedTuple):
    phone: str
    timezone: str | None = None
    do_not_call: bool = False
    sms_opt_out: bool = False


US = "+12125550100"
GB = "+442079460000"


def test_consent_depends_on_the_channel(set_env):
    set_env(ALLOWED_CALL_COUNTRIES="")
    assert check_eligibility(contact=Contact(US, do_not_call=True), now=NOW).reason == "do not call"
    assert check_eligibility(contact=Contact(US, do_not_call=True), channel="sms", now=NOW).ok  # texts: their own consent
    opted_out = check_eligibility(contact=Contact(US, sms_opt_out=True), channel="sms", now=NOW)
    assert (opted_out.verdict, opted_out.code) == ("never", "sms_opt_out")
    assert check_eligibility(contact=Contact(US, sms_opt_out=True), channel="call", now=NOW).ok
    with pytest.raises(ValueError):
        check_eligibility(contact=Contact(US), channel="fax", now=NOW)


@pytest.mark.parametrize("phone", ["", "12125550100", "+1212555", "+1 212 555 0100", "not a phone", None])
def test_a_number_that_is_not_valid_e164_is_never_called(phone, set_env):
    set_env(ALLOWED_CALL_COUNTRIES="")
    verdict = check_eligibility(contact=Contact(phone), now=NOW)
    assert (verdict.verdict, verdict.code, verdict.reason) == ("never", "invalid_number", "invalid number")


def test_allowed_countries_limit_calls_and_texts(set_env):
    set_env(ALLOWED_CALL_COUNTRIES="")
    assert check_eligibility(contact=Contact(GB), now=NOW).ok  # unset: every country (dev and test)
    set_env(ALLOWED_CALL_COUNTRIES="US,CA")
    for channel in ("call", "sms"):
        refused = check_eligibility(contact=Contact(GB), channel=channel, now=NOW)
        assert (refused.verdict, refused.code) == ("never", "country_not_allowed")
        assert "GB" in refused.reason and "ALLOWED_CALL_COUNTRIES" in refused.reason
        assert check_eligibility(contact=Contact(US), channel=channel, now=NOW).ok


def test_the_window_is_read_in_the_contacts_zone(set_env):
    set_env(ALLOWED_CALL_COUNTRIES="", BUSINESS_TIMEZONE="UTC")
    window = CallingWindow.of("09:00", "17:00", ["mon", "tue", "wed", "thu", "fri"])
    assert check_eligibility(contact=Contact(US, "Europe/London"), now=NOW, window=window).ok  # 15:00 there
    later = check_eligibility(contact=Contact(US, "Asia/Tokyo"), now=NOW, window=window)  # midnight there
    assert later.verdict == "later" and later.at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 09:00 Tokyo
    assert check_eligibility(contact=Contact(US), now=NOW, window=window).ok  # no zone: the business's
    never = check_eligibility(contact=Contact(US), now=NOW, window=CallingWindow.of("09:00", "17:00", []))
    assert (never.verdict, never.reason) == ("never", "no calling day in the window")


def test_snapshot_dispatcher_and_call_now_all_refuse_a_country_not_allowed(campaign_env, make_customers, set_env):
    set_env(ALLOWED_CALL_COUNTRIES="US")
    us, = make_customers(1)
    gb, = make_customers(1, prefix="+44207946")
    with session_scope() as session:
        cid = service.create_campaign(session=session, campaign_in=CampaignIn(
            name="Countries", calling_window_start="00:00", calling_window_end="00:00", calling_days=ALL_DAYS)).id
    with session_scope() as session:
        campaign = service.start_campaign(session=session, campaign_id=cid)
        assert campaign.snapshot["excluded"] == {"country_not_allowed": 1}
        skipped = session.exec(select(CampaignCall).where(CampaignCall.customer_id == gb)).one()
        assert skipped.status == "skipped" and "GB" in skipped.skip_reason
        with pytest.raises(Conflict, match="country not allowed"):
            calls.call_customer_now(session=session, customer_id=gb)
    # the rule changes before the dispatcher dials: it checks again, and skips with the reason
    set_env(ALLOWED_CALL_COUNTRIES="CA")
    dispatcher.run(slice_seconds=0.5, take_queued=True)
    with session_scope() as session:
        call = session.exec(select(CampaignCall).where(CampaignCall.customer_id == us)).one()
        assert (call.status, call.tries) == ("skipped", 0)
        assert "US is not in ALLOWED_CALL_COUNTRIES" in call.skip_reason
        assert session.get(Customer, us) is not None


def test_a_numbers_verdict_is_kept_across_channels_and_contacts(set_env, monkeypatch):
    """`numbers`: a number is parsed once however many channels and contacts ask; the answers are the same
    as without it."""
    from navaia_app.outreach import eligibility

    set_env(ALLOWED_CALL_COUNTRIES="US")
    contacts = [Contact(US), Contact(US, do_not_call=True), Contact(GB), Contact("+1212555"), Contact(US, sms_opt_out=True)]
    alone = [check_eligibility(contact=c, channel=ch, now=NOW) for c in contacts for ch in ("call", "sms")]
    parsed = []
    real = eligibility.phone_country
    monkeypatch.setattr(eligibility, "phone_country", lambda phone: parsed.append(phone) or real(phone))
    numbers: dict = {}
    together = [check_eligibility(contact=c, channel=ch, now=NOW, numbers=numbers) for c in contacts
                for ch in ("call", "sms")]
    assert together == alone
    assert sorted(parsed) == sorted([US, GB, "+1212555"])  # each number once
    assert numbers == {US: "US", GB: "GB", "+1212555": None}
