"""Prompt sets for benchmarks: the built-in short/long/code sets, a text file or a TOML list."""

from __future__ import annotations

import tomllib
from pathlib import Path

BUILTIN_SETS: dict[str, tuple[str, ...]] = {
    "short": (
        "Why is the sky blue? Answer in two sentences.",
        "Name three uses of a hash map.",
        "What is the capital of Australia?",
    ),
    "long": (
        "Write a detailed explanation of how a transformer language model turns a prompt into a "
        "reply: tokenisation, embeddings, attention, the key-value cache, sampling and why "
        "generation speed depends on memory bandwidth. Use headings and at least six paragraphs.",
        "Summarise the history of the Unix operating system from 1969 to today, covering its "
        "main branches, the people involved and the ideas that outlived it.",
    ),
    "code": (
        "Write a Python function that returns the n-th Fibonacci number iteratively, with a docstring and tests.",
        "Write a SQL query that lists the ten customers with the highest total order value in 2024.",
        "Explain what this does and fix the bug: `for i in range(len(xs)): xs.remove(xs[i])`",
    ),
}


class PromptSetError(ValueError):
    """A prompt file that cannot be used (missing, unreadable, empty, wrong shape)."""


def load_prompts(source: str | Path) -> list[str]:
    """The prompts of `source`: a built-in set name, a `.toml` file, or a text file.

    A text file holds one prompt per line (blank lines and lines starting with `#` are
    skipped). A TOML file holds `prompts = ["…", …]` or `[[prompts]]` tables with `text`.
    """
    if isinstance(source, str) and source in BUILTIN_SETS:
        return list(BUILTIN_SETS[source])
    path = Path(source).expanduser()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(BUILTIN_SETS)
        raise PromptSetError(f"no prompt file {str(path)!r} (built-in sets: {names})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptSetError(f"cannot read {str(path)!r}: {exc}") from None
    prompts = _from_toml(raw, path) if path.suffix.lower() == ".toml" else _from_lines(raw)
    if not prompts:
        raise PromptSetError(f"{str(path)!r} holds no prompts")
    return prompts


def _from_lines(raw: str) -> list[str]:
    lines = (line.strip() for line in raw.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _from_toml(raw: str, path: Path) -> list[str]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise PromptSetError(f"{str(path)!r} is not valid TOML: {exc}") from None
    items = data.get("prompts")
    if not isinstance(items, list):
        raise PromptSetError(f"{str(path)!r} needs a list `prompts = [\"…\"]` or [[prompts]] tables with `text`")
    prompts: list[str] = []
    for number, item in enumerate(items, 1):
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str):
            raise PromptSetError(f"{str(path)!r}: prompt {number} is not a string (or a table with `text`)")
        if text.strip():
            prompts.append(text.strip())
    return prompts
