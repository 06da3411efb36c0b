"""A local stand-in for ElevenLabs in the browser tests (the app's ELEVENLABS_API_BASE_URL points here).

    python tests/e2e/fake_elevenlabs.py --port PORT

- GET /v1/convai/conversation/get-signed-url?agent_id=...  (xi-api-key checked): a ws:// URL to this server.
- WS  /v1/convai/conversation: the agent's side of a call, in ElevenLabs' protocol: the initiation
  metadata, one spoken reply (audio), then after a few seconds it hangs up (close code 1000).
- After each call it sends the signed post-call webhook (a raise_ticket outcome) to the URL that
  POST /_control/webhook {"url": ..., "secret": ...} gave it, as ElevenLabs does; with "drop": true
  in that body it loses them instead (as a disabled ElevenLabs webhook would).
- GET /v1/convai/conversations (list, newest first, `call_start_after_unix`) and
  GET /v1/convai/conversations/{id}: the finished calls, for the app's lost-webhook backstop.
Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid

from aiohttp import ClientSession, WSMsgType, web

API_KEY = "e2e-api-key"
CALL_SECONDS = 4.0
state: dict = {"webhook": None, "calls": [], "history": {}}


async def signed_url(request: web.Request) -> web.Response:
    if request.headers.get("xi-api-key") != API_KEY:
        return web.json_response({"detail": {"status": "invalid_api_key"}}, status=401)
    agent_id = request.query.get("agent_id", "")
    host = request.host
    return web.json_response({"signed_url": f"ws://{host}/v1/convai/conversation?agent_id={agent_id}"
                                            f"&conversation_signature=e2e"})


async def control_webhook(request: web.Request) -> web.Response:
    state["webhook"] = await request.json()
    return web.json_response({"ok": True})


async def calls(_request: web.Request) -> web.Response:
    return web.json_response(state["calls"])


async def post_call_webhook(conversation_id: str) -> None:
    doc = {
        "type": "post_call_transcription", "event_timestamp": int(time.time()),
        "data": {
            "agent_id": "agent_e2e", "conversation_id": conversation_id, "status": "done",
            "transcript": [
                {"role": "agent", "message": "Hello, this is Navaia. How can I help?", "time_in_call_secs": 0},
                {"role": "user", "message": "My card reader stopped working.", "time_in_call_secs": 2},
                {"role": "agent", "message": "I've opened a ticket for you.", "time_in_call_secs": 3},
            ],
            "metadata": {"start_time_unix_secs": int(time.time()) - 5, "call_duration_secs": 4},
            "analysis": {
                "call_successful": "success", "transcript_summary": "Browser call: the card reader stopped working.",
                "call_summary_title": "Card reader broken",
                "data_collection_results": {
                    "intent": {"value": "raise_ticket"}, "issue_summary": {"value": "Card reader stopped working"},
                    "priority": {"value": "high"}, "customer_phone": {"value": "+14155550142"},
                    "customer_name": {"value": "Browser Caller"},
                },
            },
            "conversation_initiation_client_data": {"dynamic_variables": {"channel": "browser"}},
        },
    }
    state["history"][conversation_id] = doc["data"]
    target = state["webhook"]
    if not target or target.get("drop"):
        return
    body = json.dumps(doc).encode()
    t = int(time.time())
    signature = hmac.new(target["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    async with ClientSession() as client:
        async with client.post(target["url"], data=body, headers={
                "Content-Type": "application/json", "ElevenLabs-Signature": f"t={t},v0={signature}"}) as response:
            state["calls"].append({"conversation_id": conversation_id, "webhook_status": response.status})


async def conversation(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("convai",), heartbeat=None)
    await ws.prepare(request)
    conversation_id = f"conv_browser_{uuid.uuid4().hex[:12]}"
    await ws.receive()  # conversation_initiation_client_data
    await ws.send_json({"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
        "conversation_id": conversation_id, "agent_output_audio_format": "pcm_16000",
        "user_input_audio_format": "pcm_16000"}})
    await asyncio.sleep(0.8)
    await ws.send_json({"type": "agent_response", "agent_response_event": {"agent_response": "Hello, this is Navaia."}})
    speech = base64.b64encode(b"\x00\x10" * 16000).decode()  # one second of quiet 16 kHz PCM
    await ws.send_json({"type": "audio", "audio_event": {"audio_base_64": speech, "event_id": 1}})
    deadline = time.monotonic() + CALL_SECONDS
    while time.monotonic() < deadline:  # the browser streams the microphone meanwhile
        try:
            message = await asyncio.wait_for(ws.receive(), timeout=0.25)
        except asyncio.TimeoutError:
            continue
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            break
    if not ws.closed:
        await ws.close(code=1000, message=b"The agent ended the call.")
    asyncio.get_running_loop().create_task(post_call_webhook(conversation_id))
    return ws


def _authorised(request: web.Request) -> bool:
    return request.headers.get("xi-api-key") == API_KEY


async def list_conversations(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"detail": {"status": "invalid_api_key"}}, status=401)
    after = int(request.query.get("call_start_after_unix", "0"))
    items = [{"agent_id": d["agent_id"], "conversation_id": d["conversation_id"], "status": d["status"],
              "start_time_unix_secs": d["metadata"]["start_time_unix_secs"], "call_duration_secs": 4,
              "message_count": len(d["transcript"]), "call_successful": "success"}
             for d in state["history"].values() if d["metadata"]["start_time_unix_secs"] >= after]
    items.sort(key=lambda item: -item["start_time_unix_secs"])
    return web.json_response({"conversations": items, "has_more": False, "next_cursor": None})


async def get_conversation(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"detail": {"status": "invalid_api_key"}}, status=401)
    data = state["history"].get(request.match_info["conversation_id"])
    return web.json_response(data) if data else web.json_response({"detail": "not found"}, status=404)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/v1/convai/conversation/get-signed-url", signed_url)
    app.router.add_get("/v1/convai/conversation", conversation)
    app.router.add_post("/_control/webhook", control_webhook)
    app.router.add_get("/_control/calls", calls)
    app.router.add_get("/v1/convai/conversations", list_conversations)
    app.router.add_get("/v1/convai/conversations/{conversation_id}", get_conversation)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
