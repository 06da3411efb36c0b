"""Pages whose feature lands in a later release say so plainly (no fake data)."""

from __future__ import annotations

import reflex as rx

from navaia_app.ui.layout import empty_state

COMING: dict[str, tuple[str, str, str]] = {}


def coming_page(key: str):
    icon, title, text = COMING[key]
    return lambda: rx.box(empty_state(icon, title, text), width="100%")
