"""The browser call: the official @elevenlabs/react SDK behind a small React component (agent_call.jsx)."""

from __future__ import annotations

import reflex as rx
from reflex_base.event import passthrough_event_spec

ELEVENLABS_REACT = "@elevenlabs/react@1.15.2"
SESSION_URL = "/api/voice-agent/session"


class AgentCall(rx.Component):
    """Start/end button and call state; reports the state and the ElevenLabs conversation id."""

    library = rx.asset("agent_call.jsx", shared=True).importable_path
    tag = "NavaiaAgentCall"
    lib_dependencies: list[str] = [ELEVENLABS_REACT]

    session_url: rx.Var[str]
    worklet_paths: rx.Var[dict[str, str]]
    on_phase: rx.EventHandler[passthrough_event_spec(str)]
    on_conversation: rx.EventHandler[passthrough_event_spec(str)]


# The SDK's audio worklets, served from our own origin: the app's Content-Security-Policy allows scripts
# from 'self' only, so the SDK's default (blob: URLs) would be refused.
WORKLET_PATHS = {"rawAudioProcessor": str(rx.asset("el_raw_audio_processor.js", shared=True)),
                 "audioConcatProcessor": str(rx.asset("el_audio_concat_processor.js", shared=True))}


def agent_call(**props) -> rx.Component:
    return AgentCall.create(worklet_paths=WORKLET_PATHS, **props)
