"""The simulator's "hostile" switch: a server that puts terminal escapes, bidi overrides and Rich
markup into every string it sends (stdlib only).

With `Simulator(hostile=True)` every string value of every JSON answer and NDJSON line (version,
model names, details, ps, show, pull status, error bodies) and every plain-text body ends with
`HOSTILE`. What the client sends back (a model name it was told, say) is cleaned of it again —
raw or as the client shows it (made inert) — so the hostile server still works as a server.
"""

from __future__ import annotations

from typing import Any

#: OSC 52 clipboard writes ended by ST and by BEL, OSC 0/2 title changes, a CSI clear and cursor
#: home, a right-to-left override, the same in 8-bit C1 form (CSI U+009B clear and home, an OSC
#: U+009D title change ended by ST U+009C: terminals that take 8-bit controls act on them), and
#: Rich markup that crashes a parser ([/]) or links.
HOSTILE = ("\x1b]52;c;ZWNobyBwd25lZAo=\x1b\\\x1b]52;c;ZWNobyBwd25lZAo=\x07\x1b]0;pwned-title\x07"
           "\x1b]2;pwned-title\x1b\\\x1b[2J\x1b[H\u202e\x9b2J\x9bH\x9d0;pwned-c1-title\x9c"
           "[/][bold][link=https://example.invalid]x")

# Fields the client reads as a fixed vocabulary or a time; spoiling them tests nothing more than
# a missing field does, and would stop the simulator's own flows (a pull ends on "success").
_KEEP_KEYS = frozenset({"role", "done_reason", "created_at", "modified_at", "expires_at", "format"})
_KEEP_VALUES = frozenset({"success", "assistant", ""})


def _shown(text: str) -> str:
    """`text` as a client that makes it inert would send it back (see tui.service.untrusted)."""
    from tui.service.untrusted import inert

    return inert(text)


def spoil(value: Any, key: str | None = None) -> Any:
    """`value` with HOSTILE appended to every string in it (keys left alone)."""
    if isinstance(value, str):
        return value if key in _KEEP_KEYS or value in _KEEP_VALUES else value + HOSTILE
    if isinstance(value, dict):
        return {k: spoil(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [spoil(v, key) for v in value]
    return value


def clean(value: Any) -> Any:
    """What a client sent, with HOSTILE (raw, or made inert, or cut short) taken out again."""
    if isinstance(value, str):
        for form in (HOSTILE, _shown(HOSTILE)):
            value = value.replace(form, "")
        return value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value
