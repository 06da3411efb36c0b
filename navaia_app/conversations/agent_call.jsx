// A browser call with the ElevenLabs voice agent (official @elevenlabs/react SDK), wrapped for Reflex.
// It asks our backend how to start (agent id, or a signed URL for a private agent), then reports the
// call's state ("connecting", "listening", "speaking", "ended", "error") and its conversation id.
import React, { useCallback, useEffect, useRef, useState } from "react";
import { ConversationProvider, useConversation } from "@elevenlabs/react";
import { Badge, Button, Flex, Text } from "@radix-ui/themes";

const LABELS = {
  idle: ["Ready", "gray"],
  connecting: ["Connecting…", "amber"],
  listening: ["Listening", "green"],
  speaking: ["Agent speaking", "indigo"],
  ended: ["Call ended", "gray"],
  error: ["Could not connect", "red"],
};

function CallPanel({ sessionUrl, workletPaths, onPhase, onConversation }) {
  const [phase, setPhase] = useState("idle");
  const [error, setError] = useState("");
  const phaseRef = useRef(phase);
  const report = useCallback((next) => {
    phaseRef.current = next;
    setPhase(next);
    if (onPhase) onPhase(next);
  }, [onPhase]);

  const conversation = useConversation({
    onConnect: ({ conversationId }) => {
      report("listening");
      if (onConversation) onConversation(conversationId || "");
    },
    onDisconnect: () => { if (phaseRef.current !== "error") report("ended"); },
    onError: (message) => { setError(String(message || "The call failed.")); report("error"); },
    onModeChange: ({ mode }) => {
      if (phaseRef.current === "listening" || phaseRef.current === "speaking") {
        report(mode === "speaking" ? "speaking" : "listening");
      }
    },
  });

  const start = useCallback(async () => {
    setError("");
    report("connecting");
    try {
      await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      setError("The browser did not allow the microphone. Allow it for this site and try again.");
      report("error");
      return;
    }
    try {
      const response = await fetch(sessionUrl, { credentials: "same-origin", cache: "no-store" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || "The call could not be prepared.");
      const options = body.signed_url
        ? { signedUrl: body.signed_url, connectionType: "websocket" }
        : { agentId: body.agent_id, connectionType: "webrtc" };
      conversation.startSession({ ...options, workletPaths, dynamicVariables: { channel: "browser" } });
    } catch (e) {
      setError(String(e.message || e));
      report("error");
    }
  }, [conversation, report, sessionUrl, workletPaths]);

  const stop = useCallback(() => conversation.endSession(), [conversation]);
  useEffect(() => () => { try { conversation.endSession(); } catch (e) { /* already over */ } }, []);

  const [label, color] = LABELS[phase] || LABELS.idle;
  const live = phase === "connecting" || phase === "listening" || phase === "speaking";
  return (
    <Flex direction="column" gap="3" align="center" style={{ width: "100%" }}>
      <Badge size="3" color={color} variant="soft" id="agent-call-state" data-phase={phase}>{label}</Badge>
      {live ? (
        <Button size="4" color="red" onClick={stop} id="agent-call-end">End call</Button>
      ) : (
        <Button size="4" onClick={start} id="agent-call-start">
          {phase === "ended" ? "Call again" : "Start call"}
        </Button>
      )}
      {error ? <Text color="red" size="2" role="alert">{error}</Text> : null}
    </Flex>
  );
}

export function NavaiaAgentCall(props) {
  return (
    <ConversationProvider>
      <CallPanel {...props} />
    </ConversationProvider>
  );
}
