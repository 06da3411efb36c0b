"""A minimal Reflex client for scripts: one websocket to `/_event`, events sent the way the browser sends
them, state updates collected. Enough to time a page event or to drive a form (sign in, register) without
a browser."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any


class PageEvents:
    def __init__(self, base_url: str, *, user_agent: str = "navaia-bench/1.0"):
        self.base_url = base_url
        self.user_agent = user_agent
        self.token = str(uuid.uuid4())
        self.updates: asyncio.Queue = asyncio.Queue()
        self.pongs: asyncio.Queue = asyncio.Queue()
        self.state: dict[str, Any] = {}  # every delta merged: the last value of each var

    @staticmethod
    def handler(state: str, name: str) -> str:
        """The full event name of `name` on the state class called `state` (e.g. "AuthState", "login")."""
        import navaia_app.navaia_app  # noqa: F401  (registers every state)
        from navaia_app.auth.state import AuthState

        todo = [AuthState]
        while todo:
            cls = todo.pop()
            if cls.__name__ == state:
                return f"{cls.get_full_name()}.{name}"
            todo.extend(cls.__subclasses__())
        raise LookupError(state)

    async def connect(self) -> None:
        import socketio
        from rxconfig import config

        self.namespace = config.get_event_namespace()
        self.sio = socketio.AsyncClient(reconnection=False)

        @self.sio.on("event", namespace=self.namespace)
        async def _update(data):
            for values in (data.get("delta") or {}).values() if isinstance(data, dict) else ():
                self.state.update(values)
            await self.updates.put(data)

        @self.sio.on("ping", namespace=self.namespace)  # Reflex answers a ping with a "ping" saying "pong"
        async def _pong(data):
            await self.pongs.put(data)

        await self.sio.connect(f"{self.base_url}?token={self.token}", socketio_path="/_event",
                               namespaces=[self.namespace], transports=["websocket"], wait_timeout=30,
                               headers={"User-Agent": self.user_agent})

    async def event(self, name: str, payload: dict[str, Any], *, path: str = "/", timeout: float = 30) -> None:
        """Send one event and wait for its last state update."""
        await self.sio.emit("event", {"name": name, "payload": payload, "token": self.token,
                                      "router_data": {"pathname": path, "query": {}, "asPath": path}},
                            namespace=self.namespace)
        while True:  # an event may send several updates; the last one is final
            update = await asyncio.wait_for(self.updates.get(), timeout)
            if not isinstance(update, dict) or update.get("final", True):
                return

    async def ping(self) -> float:
        started = time.perf_counter()
        await self.sio.emit("ping", namespace=self.namespace)
        await asyncio.wait_for(self.pongs.get(), 30)
        return time.perf_counter() - started

    def var(self, prefix: str) -> Any:
        """The last value of the state var whose delta key starts with `prefix` (Reflex suffixes names)."""
        for key, value in self.state.items():
            if key.startswith(prefix):
                return value
        return None

    async def close(self) -> None:
        await self.sio.disconnect()
