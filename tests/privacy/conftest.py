"""The privacy tests reuse the call-automation fixtures: signed post-call webhooks run inline."""

from tests.conversations.conftest import call_env, deliver, post_webhook  # noqa: F401 (fixtures)
