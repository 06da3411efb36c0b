"""navaia_app/core/reflex_tokens.py: a tab whose web process died keeps its Reflex token (and so its state)
on the next process, while a real duplicated tab of a live process still gets a new one."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from navaia_app.core import reflex_tokens
from tests.support.servers import OwnRedis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis_url():
    server = OwnRedis().start()
    yield server.url
    server.remove()


async def _manager(url: str):
    from redis.asyncio import Redis
    from reflex.utils.token_manager import RedisTokenManager

    reflex_tokens.install()
    return RedisTokenManager(Redis.from_url(url))


async def _die(manager) -> None:
    """What SIGKILL does to a process: its connections close; its records stay in Redis."""
    for attribute in ("_navaia_liveness_task", "_socket_record_task", "_lost_and_found_task"):
        task = getattr(manager, attribute, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    await manager.redis.aclose()


async def test_a_tab_of_a_killed_process_keeps_its_token_on_the_next_one(redis_url):
    dead = await _manager(redis_url)
    assert await dead.link_token_to_sid("tab-1", "sid-on-a") is None
    await _die(dead)

    survivor = await _manager(redis_url)
    try:
        assert await survivor.link_token_to_sid("tab-1", "sid-on-b") is None  # same token: same state
        assert survivor.token_to_sid["tab-1"] == "sid-on-b"
    finally:
        await _die(survivor)


async def test_a_duplicated_tab_of_a_live_process_still_gets_a_new_token(redis_url):
    first, second = await _manager(redis_url), await _manager(redis_url)
    try:
        assert await first.link_token_to_sid("tab-1", "sid-1") is None
        new_token = await second.link_token_to_sid("tab-1", "sid-2")
        assert new_token and new_token != "tab-1"
    finally:
        await _die(first)
        await _die(second)


async def test_a_tab_moved_to_another_live_process_keeps_its_token(redis_url):
    """A proxy closes the tab's socket on process A and the browser reconnects to B at once, before A
    has handled the disconnect: B waits for A to drop its record instead of issuing a new token."""
    first, second = await _manager(redis_url), await _manager(redis_url)
    try:
        assert await first.link_token_to_sid("tab-1", "sid-on-a") is None

        async def a_handles_the_disconnect_late():
            await asyncio.sleep(0.3)
            await first.disconnect_token("tab-1", "sid-on-a")

        late = asyncio.create_task(a_handles_the_disconnect_late())
        assert await second.link_token_to_sid("tab-1", "sid-on-b") is None
        await late
    finally:
        await _die(first)
        await _die(second)
