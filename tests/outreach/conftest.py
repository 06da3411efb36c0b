"""Outreach tests reuse the campaign fixtures: the test database, no Redis, a fast simulated carrier."""

from tests.campaigns.conftest import ALL_DAYS, campaign_env, make_customers  # noqa: F401
