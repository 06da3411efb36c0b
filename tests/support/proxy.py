"""What Caddy does in production (Caddyfile, docker-compose.yml), small enough for a test to steer.

`FrontProxy` serves the exported frontend (`reflex export --frontend-only`) from a folder and forwards
/api/*, /_event (the websocket), /_upload and /ping to one of several backend-only web processes.
Like Caddy's `lb_policy cookie` it keeps every client on one backend (here: the *active* one) and, when
that backend refuses connections (killed, restarting), it fails over to the next one that answers, as
Caddy's passive health checks do. A test can also move everybody on purpose with `use(i)`, which drops
the open websockets so that browsers reconnect, the way a deploy or a scale-down does.

It runs an aiohttp server on an event loop in a thread of its own, so a synchronous test (Playwright's
sync API) can drive it. Loopback only.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from pathlib import Path

from tests.support.servers import ROOT, free_port

# The Caddyfile's `@backend path /api/* /_event /_event/* /_upload /_upload/* /ping`.
BACKEND_EXACT = ("/_event", "/_upload", "/ping")
BACKEND_PREFIXES = ("/api/", "/_event/", "/_upload/")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host"}


def caddy_headers(caddyfile: Path = ROOT / "Caddyfile") -> list[tuple[str, str | None, bool]]:
    """The Caddyfile's `header { ... }` block as (name, value or None to remove, only if missing): the proxy
    applies exactly what Caddy is told to, so the two cannot drift apart."""
    text = caddyfile.read_text()
    block = re.search(r"^\s*header \{\n(.*?)^\s*\}", text, re.S | re.M)
    rules = []
    for line in (block.group(1).splitlines() if block else []):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            rules.append((line[1:], None, False))
            continue
        name, _, value = line.partition(" ")
        only_if_missing = name.startswith("?")
        rules.append((name.lstrip("?"), value.strip().strip('"'), only_if_missing))
    return rules


def _apply_caddy_headers(headers) -> None:
    for name, value, only_if_missing in caddy_headers():
        if value is None:
            headers.popall(name, None)
        elif not (only_if_missing and name in headers):
            headers[name] = value


class FrontProxy:
    def __init__(self, backends: list[str], *, static_root: Path | None = None, port: int | None = None):
        self.backends = [b.rstrip("/") for b in backends]
        self.static_root = static_root.resolve() if static_root else None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.active = 0
        self.http_served: Counter[str] = Counter()  # backend -> HTTP requests forwarded
        self.ws_opened: Counter[str] = Counter()  # backend -> websockets opened
        self.failovers: list[tuple[str, str]] = []  # (from, to)
        self._sockets: set = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ----- control, from any thread -------------------------------------------------------------
    def start(self) -> FrontProxy:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._setup())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._teardown())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="front-proxy", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
        self._loop = self._thread = None

    def use(self, index: int, *, drop_websockets: bool = True) -> None:
        """Send every new request to backend `index`; drop open websockets so clients reconnect there."""
        self.active = index
        if drop_websockets:
            self.drop_websockets()

    def drop_websockets(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop).result(timeout=10)

    @property
    def open_websockets(self) -> int:
        return len(self._sockets)

    # ----- the server ---------------------------------------------------------------------------
    async def _setup(self) -> None:
        import aiohttp
        from aiohttp import web

        self._client = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60))
        @web.middleware
        async def security_headers(request, handler):
            response = await handler(request)
            if not isinstance(response, web.WebSocketResponse):
                _apply_caddy_headers(response.headers)
            return response

        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[security_headers])
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _teardown(self) -> None:
        await self._drop_all()
        await self._runner.cleanup()
        await self._client.close()

    async def _drop_all(self) -> None:
        for pair in list(self._sockets):
            for ws in pair:
                await ws.close()
        self._sockets.clear()

    def _order(self) -> list[int]:
        """The active backend first, then the others: where a request goes, and where it fails over."""
        n = len(self.backends)
        return [(self.active + k) % n for k in range(n)]

    def _switch_after_failure(self, index: int) -> None:
        if index != self.active:
            self.failovers.append((self.backends[self.active], self.backends[index]))
            self.active = index

    async def _handle(self, request):
        if request.path in BACKEND_EXACT or request.path.startswith(BACKEND_PREFIXES):
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await self._websocket(request)
            return await self._forward(request)
        return await self._static(request)

    async def _forward(self, request):
        import aiohttp
        from aiohttp import web

        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        headers["X-Forwarded-Host"] = request.host
        headers["X-Forwarded-Proto"] = "http"
        for index in self._order():
            backend = self.backends[index]
            try:
                async with self._client.request(request.method, backend + request.path_qs, headers=headers,
                                                data=body, allow_redirects=False) as upstream:
                    payload = await upstream.read()
                    response = web.Response(status=upstream.status, body=payload)
                    for key, value in upstream.headers.items():
                        if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                            response.headers.add(key, value)
            except aiohttp.ClientConnectorError:
                continue  # never reached the backend: safe to try the next one, whatever the method
            self._switch_after_failure(index)
            self.http_served[backend] += 1
            return response
        return web.Response(status=502, text="no backend answered")

    async def _websocket(self, request):
        import aiohttp
        from aiohttp import web

        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("cookie", "origin", "user-agent", "accept-language")}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        # Reflex offers its version as the websocket subprotocol: pass the offer on, answer what the backend chose.
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        upstream = None
        for index in self._order():
            backend = self.backends[index]
            try:
                upstream = await self._client.ws_connect(backend.replace("http", "ws", 1) + request.path_qs,
                                                         headers=headers, protocols=offered, autoping=False,
                                                         max_msg_size=0)
            except (aiohttp.ClientConnectorError, aiohttp.WSServerHandshakeError):
                continue
            self._switch_after_failure(index)
            self.ws_opened[backend] += 1
            break
        if upstream is None:
            return web.Response(status=502, text="no backend answered")
        client = web.WebSocketResponse(protocols=(upstream.protocol,) if upstream.protocol else (), autoping=False,
                                       max_msg_size=0)
        await client.prepare(request)
        pair = (client, upstream)
        self._sockets.add(pair)

        async def pump(source, sink) -> None:
            async for message in source:
                if sink.closed:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type == aiohttp.WSMsgType.PONG:
                    await sink.pong(message.data)
                else:
                    break

        tasks = [asyncio.ensure_future(pump(client, upstream)), asyncio.ensure_future(pump(upstream, client))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except Exception:  # noqa: BLE001 - either side vanished: close both
            pass
        finally:
            for task in tasks:
                task.cancel()
            self._sockets.discard(pair)
            await upstream.close()
            await client.close()
        return client

    async def _static(self, request):
        """Caddy's `try_files {path} {path}.html {path}/index.html /__spa-fallback.html` + `file_server`."""
        from aiohttp import web

        if self.static_root is None:
            return web.Response(status=404)
        relative = request.path.lstrip("/")
        for candidate in (relative, f"{relative}.html", f"{relative}/index.html".lstrip("/"), "__spa-fallback.html"):
            path = (self.static_root / candidate).resolve()
            if path.is_file() and (path == self.static_root or self.static_root in path.parents):
                return web.FileResponse(path)
        return web.Response(status=404)


def export_frontend(public_url: str, *, workdir: Path | None = None, timeout: float = 600) -> Path:
    """`reflex export --frontend-only` as the Dockerfile's build stage runs it, with the browser's API URL
    baked in as `public_url` (the proxy's origin). Builds in a web folder of its own (default .web-proxy),
    so the bundle that `reflex run` serves from .web for the other browser tests is left alone. Hold the
    build lock (tests/e2e/conftest.py `build_lock`) around it. Returns the folder of static files."""
    import subprocess
    import sys

    from tests.support.servers import ROOT, app_env

    workdir = workdir or ROOT / ".web-proxy"
    env = app_env("sqlite:///:memory:", "redis://127.0.0.1:1/0", APP_ENV="dev", PUBLIC_BASE_URL=public_url,
                  REFLEX_API_URL=public_url, ALLOWED_ORIGINS=public_url, REFLEX_WEB_WORKDIR=str(workdir))
    env.pop("REFLEX_REDIS_URL", None)
    env.pop("PORT", None)
    reflex = Path(sys.executable).with_name("reflex")
    result = subprocess.run([str(reflex if reflex.exists() else "reflex"), "export", "--frontend-only", "--no-zip",
                             "--env", "prod", "--loglevel", "warning"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    client = workdir / "build" / "client"
    if result.returncode != 0 or not (client / "index.html").is_file():
        raise RuntimeError(f"reflex export failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if public_url not in (workdir / "env.json").read_text():
        raise RuntimeError(f"the bundle does not point at {public_url}")
    return client
