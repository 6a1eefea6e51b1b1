"""Model output is untrusted: make it inert before it reaches a terminal."""

from __future__ import annotations

# C0 controls (except tab and newline), DEL and the C1 range become visible symbols, so an
# escape sequence from a model (colours, OSC 52 clipboard writes, title changes, cursor moves)
# is shown as text and never acted on by the terminal.
_TABLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x0D] = None  # a bare carriage return would only confuse layout: drop it
_TABLE[0x7F] = 0x2421  # ␡
_TABLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})
# Explicit bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI) are
# invisible and, in a terminal that does bidi, reorder the text around them (a "Trojan Source"
# line of code reads differently than it is): shown by code point instead. The marks (LRM, RLM,
# ALM) that ordinary right-to-left text uses are left alone.
_TABLE.update({c: f"⟨U+{c:04X}⟩" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def inert(text: str) -> str:
    """`text` with every terminal control character (and explicit bidi control) replaced by a
    visible stand-in."""
    return text.translate(_TABLE)


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
