"""The tests' one way to wait for something, and one way to type.

- `wait_for(pilot, condition)`: let a Textual app run until `condition()` holds.
- `wait_until(predicate)`: the same on a bare event loop (services, no app).
- `wait_sync(predicate)`: the same from plain threads (the simulator's own tests).

All three are bounded and fail the test loudly, naming the condition, instead of hoping.
(tests/e2e/tmux.py waits on a real terminal's screen: a different thing, kept there.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


def _met(predicate: Callable[[], Any], deadline: float, timeout: float) -> bool:
    if predicate():
        return True
    if time.monotonic() > deadline:
        raise AssertionError(f"condition not met within {timeout} s: {predicate}")
    return False


async def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005, *,
                     pause: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
    """Poll `predicate` on the event loop until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _met(predicate, deadline, timeout):
        await pause(interval)


async def wait_for(pilot: Any, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app run (`pilot.pause`) until `condition()` holds; fail after `timeout` seconds."""
    await wait_until(condition, timeout, 0.02, pause=pilot.pause)


def wait_sync(predicate: Callable[[], Any], timeout: float = 3.0, interval: float = 0.002) -> None:
    """Poll `predicate` from a plain thread (sleeping) until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not _met(predicate, deadline, timeout):
        time.sleep(interval)


async def type_text(pilot: Any, text: str) -> None:
    """Type `text` into the focused widget key by key: a newline as Ctrl+J (the chat prompt's
    newline; Enter would send), a space as "space"."""
    await pilot.press(*("ctrl+j" if ch == "\n" else "space" if ch == " " else ch for ch in text))
