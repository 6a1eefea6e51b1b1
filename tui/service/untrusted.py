"""Text from a server (or a model) is untrusted: make it inert and bounded before it goes further.

The parsers that build typed results (`types.py`), the error hierarchy (`errors.py`) and the
version read all pass what the server said through here, so no widget has to remember to.
"""

from __future__ import annotations

from typing import Any

__all__ = ["inert", "inert_short", "inert_deep", "inert_json", "SHORT_LIMIT", "TEXT_LIMIT"]

# C0 controls (except tab and newline), DEL and the C1 range become visible symbols, so an
# escape sequence from a model (colours, OSC 52 clipboard writes, title changes, cursor moves)
# is shown as text and never acted on by the terminal.
_TABLE: dict[int, Any] = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x0D] = None  # a bare carriage return would only confuse layout: drop it
_TABLE[0x7F] = 0x2421  # ␡
# The C1 controls (NEL, CSI…) are shown by code point: a terminal may act on them, and a "�"
# would hide which one the server sent.
_TABLE.update({c: f"⟨U+{c:04X}⟩" for c in range(0x80, 0xA0)})
# Explicit bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI) are
# invisible and, in a terminal that does bidi, reorder the text around them (a "Trojan Source"
# line of code reads differently than it is): shown by code point instead. The marks (LRM, RLM,
# ALM) that ordinary right-to-left text uses are left alone.
_TABLE.update({c: f"⟨U+{c:04X}⟩" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
# U+0085 (NEL) is in the C1 range above; U+2028/U+2029 (line/paragraph separators) are not
# controls to a terminal and are left as they are.

#: Names, versions, digests, labels: a screen line at most.
SHORT_LIMIT = 512
#: Longer texts a server describes a model with (Modelfile, template, license, error bodies).
TEXT_LIMIT = 1_000_000


def inert(text: str) -> str:
    """`text` with every terminal control character (and explicit bidi control) replaced by a
    visible stand-in. Idempotent: inert text stays as it is."""
    return text.translate(_TABLE)


def inert_short(text: str, limit: int = SHORT_LIMIT) -> str:
    """`inert(text)` cut to `limit` characters (with "…" where it was cut)."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_TABLE)


def inert_deep(value: Any, limit: int = TEXT_LIMIT, depth: int = 8) -> Any:
    """A JSON value with every string (keys too) made inert and bounded; containers deeper than
    `depth` are dropped (None)."""
    if isinstance(value, str):
        return inert_short(value, limit)
    if isinstance(value, dict):
        if depth <= 0:
            return None
        return {inert_short(str(k)): inert_deep(v, limit, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if depth <= 0:
            return None
        return [inert_deep(v, limit, depth - 1) for v in value]
    return value


# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on (it escapes C0
# itself): DEL, the C1 range and the bidi controls above. They can only be inside JSON strings,
# where a \u escape is the same character to any parser.
_JSON_TABLE = {c: f"\\u{c:04x}"
               for c in (0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def inert_json(text: str) -> str:
    """JSON text made by json.dumps with every terminal control (C0 is escaped by json.dumps
    already; DEL, C1 and bidi controls here) written as a \\u escape: `cat file.json` runs
    nothing, and a parser reads back exactly the same data."""
    return text.translate(_JSON_TABLE)
