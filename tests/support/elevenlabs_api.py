"""A local stand-in for ElevenLabs' conversation history API, whose post-call webhooks get lost.

It holds conversations the way ElevenLabs does and answers, like ElevenLabs, with the API key checked:

- GET /v1/convai/conversations?agent_id=&call_start_after_unix=&page_size=&cursor=
  -> {"conversations": [summary...], "has_more": bool, "next_cursor": str|null}, newest first
- GET /v1/convai/conversations/{conversation_id} -> the conversation (the same object a
  post_call_transcription webhook carries as `data`)

`post_call_webhooks(drop=...)` gives the webhooks ElevenLabs would have sent, minus the dropped ones:
the test delivers those to the app, and the backstop has to find the rest. `fail_with` makes the API
answer an error status. The app reaches it through httpx at ELEVENLABS_API_BASE_URL.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "xi-standin-key"
AGENT_ID = "agent_standin"


class ConversationHistory:
    def __init__(self) -> None:
        self.conversations: dict[str, dict] = {}  # id -> the webhook's `data` (with metadata.start_time_unix_secs)
        self.status: dict[str, str] = {}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.fail_with: int | None = None
        self.lock = threading.Lock()
        self.url = ""

    def add(self, data: dict, *, status: str = "done", started: int | None = None,
            agent_id: str = AGENT_ID) -> str:
        data = copy.deepcopy(data)
        data["agent_id"] = agent_id
        data["status"] = status
        data.setdefault("metadata", {})["start_time_unix_secs"] = started or int(time.time()) - 120
        with self.lock:
            self.conversations[data["conversation_id"]] = data
            self.status[data["conversation_id"]] = status
        return data["conversation_id"]

    def post_call_webhooks(self, *, drop: Callable[[str], bool]) -> list[dict]:
        """The post_call_transcription webhooks that reached us: every finished one that `drop` lets through."""
        return [{"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": copy.deepcopy(d)}
                for cid, d in self.conversations.items() if self.status[cid] == "done" and not drop(cid)]

    # --- what the HTTP handler answers ---

    def _summary(self, data: dict) -> dict:
        return {"agent_id": data["agent_id"], "conversation_id": data["conversation_id"],
                "start_time_unix_secs": data["metadata"]["start_time_unix_secs"], "call_duration_secs": 42,
                "message_count": len(data.get("transcript") or []), "status": data["status"],
                "call_successful": "success", "direction": "inbound"}

    def list_page(self, query: dict[str, list[str]]) -> dict:
        after = int(query.get("call_start_after_unix", ["0"])[0])
        agent = query.get("agent_id", [None])[0]
        size = min(int(query.get("page_size", ["30"])[0]), 100)
        offset = int(query.get("cursor", ["0"])[0])
        with self.lock:
            items = [d for d in self.conversations.values()
                     if d["metadata"]["start_time_unix_secs"] >= after and (agent is None or d["agent_id"] == agent)]
        items.sort(key=lambda d: -d["metadata"]["start_time_unix_secs"])
        page = items[offset:offset + size]
        more = offset + size < len(items)
        return {"conversations": [self._summary(d) for d in page], "has_more": more,
                "next_cursor": str(offset + size) if more else None}


def _handler(history: ConversationHistory):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:  # quiet
            pass

        def _json(self, status: int, doc: dict) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            with history.lock:
                history.requests.append((url.path, query))
            if self.headers.get("xi-api-key") != API_KEY:
                return self._json(401, {"detail": {"status": "invalid_api_key"}})
            if history.fail_with:
                return self._json(history.fail_with, {"detail": "stand-in failure"})
            if url.path == "/v1/convai/conversations":
                return self._json(200, history.list_page(query))
            match = re.fullmatch(r"/v1/convai/conversations/([^/]+)", url.path)
            if match and match.group(1) in history.conversations:
                return self._json(200, history.conversations[match.group(1)])
            return self._json(404, {"detail": "not found"})

    return Handler


def serve() -> Iterator[ConversationHistory]:
    """Run the stand-in on a free loopback port for the duration of a `with`-less generator (a fixture)."""
    history = ConversationHistory()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(history))
    history.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield history
    finally:
        server.shutdown()
        server.server_close()
