"""Pilot's wait after each key press, robust to widgets removed while it waits.

`Pilot.press` (and click, resize…) waits until every widget of the screen has processed a
callback it posts to each. A widget removed after it accepted that callback (a details panel
rebuilt, a dialog closing) never runs it, and Pilot waits its full 30 s and fails with
`WaitForScreenTimeout` — a rare, load-dependent test failure with nothing wrong in the app.
This wait counts such a widget as done, and a real timeout names the widgets still waited on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.pilot import Pilot, WaitForScreenTimeout


def _gone(node: Any) -> bool:
    return bool(node._closing or node._closed or not node.is_attached)


async def wait_for_screen(self: Pilot, timeout: float = 30.0) -> bool:
    """As `Pilot._wait_for_screen` (textual/pilot.py), less the removed widgets."""
    try:
        screen = self.app.screen
    except Exception:
        return False
    pending: dict[int, Any] = {}
    settled = asyncio.Event()

    def done(key: int) -> None:
        pending.pop(key, None)
        if not pending:
            settled.set()

    for node in [self.app, *screen.walk_children(with_self=True)]:
        pending[id(node)] = node
        if not node.call_later(done, id(node)):
            pending.pop(id(node), None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending:
        if self.app._exception_event.is_set():
            return False
        for key in [key for key, node in pending.items() if _gone(node)]:
            pending.pop(key, None)
        if not pending:
            break
        if loop.time() > deadline:
            waiting = ", ".join(repr(node) for node in list(pending.values())[:5])
            raise WaitForScreenTimeout(f"Timed out while waiting for widgets to process pending messages: {waiting}")
        try:
            await asyncio.wait_for(settled.wait(), 0.1)
        except TimeoutError:
            pass
    return True


def install(monkeypatch: Any) -> None:
    monkeypatch.setattr(Pilot, "_wait_for_screen", wait_for_screen)
