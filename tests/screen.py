"""What is on a Pilot-driven app's screen, as plain text (what a user would read)."""

from __future__ import annotations


def screen_text(app) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)
