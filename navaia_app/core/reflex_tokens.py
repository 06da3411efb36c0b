"""Several web processes: a browser whose web process died keeps its Reflex state on the next one.

With REFLEX_REDIS_URL, Reflex 0.10's RedisTokenManager records in Redis which process holds each tab's
websocket (`token_manager_socket_record_<token>`, kept for `redis_token_expiration`, an hour by default)
and, when a tab connects with a token that has a record, treats it as a duplicated tab and hands it a
new token, i.e. a new, empty state. A process that exits cleanly deletes its records; one that is
killed (OOM, SIGKILL, a crashed container) cannot, so every browser it served reconnects to another
process, is taken for a duplicate and loses its page state (filters, open dialogs, paging) for an hour.

The fix: every process keeps one Redis connection named after its Reflex instance id (CLIENT SETNAME;
Redis drops it the moment the process dies, since the kernel closes its sockets). When a token's record
names an instance with no such connection, the record is a leftover of a dead process: it is deleted and
the tab keeps its token and state. A record of a live process is given up to a second to go away (that
process is still handling the tab's old socket, which a proxy just closed); if it stays, it is a real
duplicated tab and Reflex hands out a new token as before.
If Redis refuses CLIENT LIST (some managed services), Reflex's own behaviour applies unchanged.
"""

from __future__ import annotations

import asyncio
import pickle

import structlog

log = structlog.get_logger(__name__)

NAME_PREFIX = "navaia-reflex-"
KEEPALIVE_SECONDS = 5.0
HANDOVER_GRACE_SECONDS = 1.0


def _liveness_name(instance_id: str) -> str:
    return f"{NAME_PREFIX}{instance_id}"


async def _keep_named_connection(manager) -> None:
    """One connection of this process, named after its current instance id, kept open (and renamed if
    Reflex resets the id in a forked worker) for as long as the process lives."""
    from redis.asyncio import Redis

    kwargs = dict(manager.redis.get_connection_kwargs())
    client = None
    name = None
    try:
        while True:
            wanted = _liveness_name(manager.instance_id)
            try:
                if client is None or name != wanted:
                    if client is not None:
                        await client.aclose()
                    client = Redis(**{**kwargs, "client_name": wanted, "single_connection_client": True})
                    name = wanted
                await client.ping()  # reconnects (and names itself again) after a Redis restart
            except Exception as exc:  # noqa: BLE001 - Redis away: try again on the next beat
                log.debug("reflex_tokens.keepalive_failed", error=str(exc)[:200])
            await asyncio.sleep(KEEPALIVE_SECONDS)
    finally:
        if client is not None:
            await client.aclose()


async def _ensure_named_connection(manager) -> None:
    task = getattr(manager, "_navaia_liveness_task", None)
    if task is None or task.done():
        manager._navaia_liveness_task = asyncio.create_task(_keep_named_connection(manager))
        for _ in range(20):  # let the first PING name the connection before anyone asks for it
            await asyncio.sleep(0.01)
            if await _instance_alive(manager, manager.instance_id) is not False:
                break


async def _instance_alive(manager, instance_id: str) -> bool | None:
    """True/False when Redis says whether that instance's named connection is open; None if it cannot."""
    try:
        clients = await manager.redis.client_list()
    except Exception:  # noqa: BLE001 - CLIENT LIST refused or Redis away: unknown
        return None
    wanted = _liveness_name(instance_id)
    return any(c.get("name") == wanted for c in clients)


def install() -> None:
    """Wrap RedisTokenManager.link_token_to_sid (idempotent)."""
    from reflex.utils.token_manager import RedisTokenManager

    if getattr(RedisTokenManager, "_navaia_dead_owner_check", False):
        return
    original = RedisTokenManager.link_token_to_sid

    async def link_token_to_sid(self, token: str, sid: str) -> str | None:
        await _ensure_named_connection(self)
        record = self.token_to_socket.get(token)
        if record is None or record.sid != sid:
            try:
                key = self._get_redis_key(token)
                raw = await self.redis.get(key)
                owner = pickle.loads(raw).instance_id if raw is not None else None
                alive = await _instance_alive(self, owner) if owner not in (None, self.instance_id) else None
                if alive is False:
                    await self.redis.delete(key)
                    self.token_to_socket.pop(token, None)
                    log.info("reflex_tokens.adopted_from_dead_process", dead_instance=owner)
                elif alive:
                    # A live owner may just be dropping this tab's old socket (a proxy moved it over): its
                    # disconnect deletes the record in a moment. Give it that moment before Reflex decides
                    # that this is a duplicated tab.
                    for _ in range(int(HANDOVER_GRACE_SECONDS / 0.05)):
                        if not await self.redis.exists(key):
                            break
                        await asyncio.sleep(0.05)
            except Exception as exc:  # noqa: BLE001 - never worse than Reflex's own behaviour
                log.warning("reflex_tokens.check_failed", error=str(exc)[:200])
        return await original(self, token, sid)

    RedisTokenManager.link_token_to_sid = link_token_to_sid
    RedisTokenManager._navaia_dead_owner_check = True
