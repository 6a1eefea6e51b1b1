"""The tests' one way to wait for something, and one way to type.

- `wait_for(pilot, condition)`: let a Textual app run until `condition()` holds.
- `wait_until(predicate)`: the same on a bare event loop (services, no app).
- `wait_sync(predicate)`: the same from plain threads (the simulator's own tests, a process
  started by the test).

`toasts_up(app)` and `new_toast(pilot, app, up)` wait for a toast by identity: counting toasts
races their expiry (an older one timing out as the awaited one comes up leaves the count as it
was).

All three waits are bounded and fail the test loudly, naming the condition (`what`, else the
predicate), instead of hoping; each returns the predicate's first true value (a scan's result,
say). A predicate may also fail the test itself, at once (the process it waits on died).
(tests/e2e/tmux.py waits on a real terminal's screen: a different thing, kept there.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _met(predicate: Callable[[], T], deadline: float, timeout: float, what: str | None) -> T | None:
    value = predicate()
    if value:
        return value
    if time.monotonic() > deadline:
        raise AssertionError(f"condition not met within {timeout} s: {what or predicate}")
    return None


async def wait_until(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.005, *,
                     pause: Callable[[float], Awaitable[Any]] = asyncio.sleep, what: str | None = None) -> T:
    """Poll `predicate` on the event loop until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := _met(predicate, deadline, timeout, what)):
        await pause(interval)
    return value


async def wait_for(pilot: Any, condition: Callable[[], T], timeout: float = 10.0, *, what: str | None = None) -> T:
    """Let the app run (`pilot.pause`) until `condition()` holds; fail after `timeout` seconds."""
    return await wait_until(condition, timeout, 0.02, pause=pilot.pause, what=what)


def wait_sync(predicate: Callable[[], T], timeout: float = 3.0, interval: float = 0.002, *,
              what: str | None = None) -> T:
    """Poll `predicate` from a plain thread (sleeping) until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := _met(predicate, deadline, timeout, what)):
        time.sleep(interval)
    return value


async def type_text(pilot: Any, text: str) -> None:
    """Type `text` into the focused widget key by key: a newline as Ctrl+J (the chat prompt's
    newline; Enter would send), a space as "space"."""
    await pilot.press(*("ctrl+j" if ch == "\n" else "space" if ch == " " else ch for ch in text))


def toasts_up(app: Any) -> set[str]:
    """The identities of the toasts up now (take before the action whose toast is awaited)."""
    return {n.identity for n in app._notifications}


async def new_toast(pilot: Any, app: Any, up: set[str], containing: str = "", timeout: float = 10.0) -> str:
    """Wait for a toast that was not among `up` (and holds `containing`); its "title: message"."""
    def fresh() -> str | None:
        return next((f"{n.title}: {n.message}" for n in app._notifications
                     if n.identity not in up and containing in f"{n.title}: {n.message}"), None)

    return await wait_for(pilot, fresh, timeout, what=f"a new toast holding {containing!r}")
