"""The small types the simulator's HTTP plumbing and its endpoints share.

An endpoint steers its answer by raising one of these exceptions; a request arrives as a
`Request`; a planned misbehaviour is a `Fault`. This module imports nothing of the simulator,
so the imports run one way: wire <- state <- http <- inference / registry <- ollama.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PRE_FAULTS = frozenset({"status", "slow_first_byte", "empty_body", "non_json"})
MID_FAULTS = frozenset({"error_mid_stream", "drop", "reset", "malformed_line", "truncated", "huge", "stall"})
HUGE_SIZE = 10 * 1024 * 1024  # the "huge" fault's default: a 10 MB line or body
FAULT_KINDS = PRE_FAULTS | MID_FAULTS


class Abort(Exception):
    """Close the connection now, sending nothing more (no chunked terminator)."""


class Reset(Abort):
    """Like Abort, but the connection is reset (RST) rather than closed."""


class Done(Exception):
    """The response is complete; unwind the endpoint."""


class Replaced(Exception):
    """Internal: a fault wrote the current stream line itself."""


class HTTPError(Exception):
    """Answer `status` with `{"error": message}` (only valid before anything was sent)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Fault:
    path: str
    kind: str
    status: int
    message: str
    after: int
    delay: float
    times: int | None
    size: int = HUGE_SIZE  # bytes of padding for "huge"


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any]
