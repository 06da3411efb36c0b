"""Pages whose feature lands in a later release say so plainly (no fake data)."""

from __future__ import annotations

import reflex as rx

from navaia_app.ui.layout import empty_state

COMING = {
    "tickets": ("ticket", "Tickets are coming next",
                "Creating, filtering and moving tickets through their workflow lands in the next release."),
    "bookings": ("calendar-days", "Bookings are coming next",
                 "The bookings list, the week calendar and free-slot booking land in the next release."),
    "campaigns": ("megaphone", "Campaigns are on the way",
                  "Outbound calling campaigns (paced, retried, inside calling windows) land in a later release."),
    "conversations": ("messages-square", "Conversations are on the way",
                      "Voice-agent calls with transcripts, audio and the review queue land in a later release."),
    "support_agent": ("headset", "Talk to your agent here soon",
                      "Browser calls with your ElevenLabs agent land with the call-automation release."),
    "playground": ("flask-conical", "The playground is on the way",
                   "Composing a call outcome and sending it through the signed webhook path lands with the "
                   "call-automation release."),
}


def coming_page(key: str):
    icon, title, text = COMING[key]
    return lambda: rx.box(empty_state(icon, title, text), width="100%")
