"""A webhook receiver of a test's or a script's own: a threaded HTTP server on a free loopback port that
records every request (headers, raw body, arrival time) and answers what the test tells it to."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.servers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    path: str


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 200  # what to answer; 0 = drop the connection without answering
    delay: float = 0.0  # seconds before answering
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()},
                                                      body=body, at=time.time(), path=self.path))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.status == 0:
                    self.close_connection = True
                    return
                self.send_response(receiver.status)
                self.send_header("content-type", "text/plain")
                payload = b"ok" if receiver.status < 300 else b"receiver says no"
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)
