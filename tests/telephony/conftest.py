"""A local stand-in for Twilio and ElevenLabs, and the real API served on loopback for their callbacks.

The stand-in answers like Twilio (`POST /2010-04-01/Accounts/{sid}/Calls.json` -> a queued call)
and then behaves like Twilio would: it sends signed status callbacks (initiated, ringing,
in-progress, completed) to the app and fetches the TwiML for the answered call from /voice. It
also plays ElevenLabs' register-call and outbound-call endpoints. The app talks to it through the
real `twilio` library and httpx (TWILIO_API_BASE_URL / ELEVENLABS_API_BASE_URL).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789"
FROM_NUMBER = "+12125550100"
AGENT_ID = "agent_standin"
TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream '
         'url="wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_standin"/></Connect></Response>')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandIn:
    """What the fake providers were asked, and how they answer (per destination number)."""

    def __init__(self):
        self.calls: list[dict[str, list[str]]] = []
        self.register_calls: list[dict] = []
        self.outbound_calls: list[dict] = []
        self.voice_answers: list[str] = []
        self.callback_statuses: list[tuple[str, int]] = []
        self.errors_by_to: dict[str, list[tuple[int, int, str]]] = {}  # to -> [(http, code, message)] (popped)
        self.machine_numbers: set[str] = set()
        self.slow_human_numbers: set[str] = set()  # a person who answers after a long greeting of their own
        self.machine_ending = "machine_end_beep"
        self.amd_statuses: list[tuple[str, int, str]] = []  # (AnsweredBy, HTTP status, body) of AMD callbacks
        self.updates: list[tuple[str, dict[str, list[str]]]] = []  # (CallSid, form) of call updates we received
        self.durations: dict[str, int] = {}
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.url = ""

    def wait_idle(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(max(0.0, deadline - time.monotonic()))


def _signed_post(url: str, params: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)


def _play_call(standin: StandIn, sid: str, form: dict[str, list[str]]) -> None:
    """Twilio's side of one call: progress callbacks, the TwiML request when answered, the end."""
    to = form["To"][0]
    status_url, voice_url = form["StatusCallback"][0], form["Url"][0]
    base = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": form["From"][0], "To": to,
            "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
    machine = to in standin.machine_numbers
    async_amd = form.get("AsyncAmd") == ["true"]
    answered_by = (standin.machine_ending if async_amd else "machine_start") if machine else "human"

    def status(call_status: str, **extra: str) -> None:
        response = _signed_post(status_url, {**base, "CallStatus": call_status, **extra})
        with standin.lock:
            standin.callback_statuses.append((call_status, response.status_code))

    time.sleep(0.05)
    status("initiated")
    status("ringing")
    status("ringing")  # Twilio delivers at least once: a repeat must change nothing
    if async_amd:  # the call goes to the agent at once; detection reports later, on its own callback
        voice = _signed_post(voice_url, {**base, "CallStatus": "in-progress"})
        with standin.lock:
            standin.voice_answers.append(voice.text)
        status("in-progress")
        if to in standin.slow_human_numbers:
            time.sleep(0.3)  # a long "hello, this is ... speaking" before the human is told apart
        amd = _signed_post(form["AsyncAmdStatusCallback"][0], {**base, "AnsweredBy": answered_by,
                                                               "MachineDetectionDuration": "4200"})
        with standin.lock:
            standin.amd_statuses.append((answered_by, amd.status_code, amd.text))
        status("completed", CallDuration=str(standin.durations.get(to, 7)), AnsweredBy=answered_by)
        return
    voice = _signed_post(voice_url, {**base, "CallStatus": "in-progress", "AnsweredBy": answered_by})
    with standin.lock:
        standin.voice_answers.append(voice.text)
    if not machine:
        status("in-progress", AnsweredBy=answered_by)
    status("completed", CallDuration=str(standin.durations.get(to, 7)), AnsweredBy=answered_by)


def _handler(standin: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            path = urlsplit(self.path).path
            if path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json":
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401,
                                            "more_info": "https://www.twilio.com/docs/errors/20003"})
                form = parse_qs(raw)
                with standin.lock:
                    standin.calls.append(form)
                    planned = standin.errors_by_to.get(form["To"][0]) or []
                    error = planned.pop(0) if planned else None
                if error:
                    http, code, message = error
                    return self._json(http, {"code": code, "message": message, "status": http,
                                             "more_info": f"https://www.twilio.com/docs/errors/{code}"})
                sid = "CA" + uuid.uuid4().hex
                self._json(201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"][0],
                                 "from": form["From"][0], "status": "queued", "direction": "outbound-api",
                                 "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/"
                                                                    f"{sid}.json"})
                thread = threading.Thread(target=_play_call, args=(standin, sid, form), daemon=True)
                standin.threads.append(thread)
                thread.start()
                return None
            if path.startswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/") and path.endswith(".json"):
                sid = path.rsplit("/", 1)[1].removesuffix(".json")  # a live call changed: new TwiML or hung up
                with standin.lock:
                    standin.updates.append((sid, parse_qs(raw)))
                return self._json(200, {"sid": sid, "account_sid": ACCOUNT_SID, "status": "in-progress",
                                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json"})
            if path == "/v1/convai/twilio/register-call":
                body = json.loads(raw)
                with standin.lock:
                    standin.register_calls.append({"body": body, "key": self.headers.get("xi-api-key")})
                data = TWIML.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            if path == "/v1/convai/twilio/outbound-call":
                body = json.loads(raw)
                with standin.lock:
                    standin.outbound_calls.append({"body": body, "key": self.headers.get("xi-api-key")})
                return self._json(200, {"success": True, "message": "Call initiated",
                                        "conversation_id": "conv_" + uuid.uuid4().hex[:12],
                                        "callSid": "CA" + uuid.uuid4().hex})
            return self._json(404, {"detail": "not here"})

    return Handler


@pytest.fixture
def standin() -> Iterator[StandIn]:
    state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_api(app_env, set_env):
    """The real API (FastAPI app) served by uvicorn on loopback: PUBLIC_BASE_URL points at it."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    set_env(PUBLIC_BASE_URL=base, ALLOWED_ORIGINS=base)
    from navaia_app.api_app import create_api

    config = uvicorn.Config(create_api(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def twilio_env(app_env, set_env, standin):
    set_env(TELEPHONY_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=standin.url, TWILIO_CALLS_PER_SECOND="20",
            ELEVENLABS_API_BASE_URL=standin.url, ELEVENLABS_API_KEY="xi-test-key", ELEVENLABS_AGENT_ID=AGENT_ID,
            ELEVENLABS_AGENT_PHONE_NUMBER_ID="phnum_standin", REDIS_URL="redis://127.0.0.1:6390/0")
    return standin
