"""Property tests: no input makes load() fail or touch the file, every issue says where it is,
and any sequence of valid edits saves to a file that reloads to the same values."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tui.service.config import FIELDS, PRESET_FIELDS, ConfigStore, Field

EXAMPLE = (Path(__file__).resolve().parents[3] / "config.example.toml").read_text(encoding="utf-8")
EXAMPLES = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "100"))  # raise it for a longer hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN_KEYS = sorted({"version", "server", "chat", "presets", "models", "pulls", "monitor", "ui",
                     "headers", "options", "fast", "balanced", "llama3.2", "Authorization",
                     *(f.key for fs in FIELDS.values() for f in fs), *(f.key for f in PRESET_FIELDS)})
keys = st.sampled_from(KNOWN_KEYS) | st.text(min_size=1, max_size=8)
scalars = (st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats() | st.booleans()
           | st.text(max_size=20) | st.sampled_from(["5m", "300", "-1m", "json", "ctrl+j", "balanced"])
           | st.datetimes())
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(keys, children, max_size=4), max_leaves=12)
documents = st.dictionaries(keys, values | st.dictionaries(keys, values, max_size=6), max_size=8)


def load_file(raw: bytes) -> tuple[ConfigStore, list[Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(raw)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        store = ConfigStore(path)
        config, issues = store.load()
        assert path.read_bytes() == raw
        assert path.stat().st_mtime_ns == 1_000_000_000
        assert os.listdir(folder) == ["config.toml"]
        assert config is store.config and issues is store.issues
        for issue in issues:
            # Every error says where; only a whole-file warning ("cannot be edited here") may not.
            assert issue.line is not None or issue.key or not issue.is_error, issue
            assert issue.line is None or issue.line >= 1
            str(issue)
        return store, issues


@FUZZ
@given(st.binary(max_size=600) | st.builds(lambda a, b: EXAMPLE.encode()[: len(a) * 7] + b,
                                          st.binary(max_size=300), st.binary(max_size=40)))
def test_any_bytes(raw: bytes) -> None:
    load_file(raw)


@FUZZ
@given(documents)
def test_any_toml_document(doc: dict[str, Any]) -> None:
    try:
        text = tomlkit.dumps(doc)
    except Exception:  # noqa: BLE001 — tomlkit cannot write some of these (e.g. odd datetimes)
        assume(False)
    store, issues = load_file(text.encode())
    for issue in issues:
        if "syntax" not in issue.message:
            assert issue.key, issue  # a value problem always names its key...
            assert issue.line is not None, (issue, text)  # ...and the scanner finds its line


def _mutate(text: str, ops: list[tuple[int, int, str]]) -> str:
    for kind, at, piece in ops:
        lines = text.split("\n")
        i = at % (len(lines) or 1)
        if kind == 0:
            text = text[:at % (len(text) + 1)] + piece + text[at % (len(text) + 1) + len(piece):]
        elif kind == 1:
            text = text[:at % (len(text) + 1)] + piece + text[at % (len(text) + 1):]
        elif kind == 2:
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif kind == 3:
            lines[i] = piece
            text = "\n".join(lines)
        else:
            del lines[i]
            text = "\n".join(lines)
    return text


PIECES = st.sampled_from(["=", "[", "]", '"', "'", '"""', "#", "\n", " ", "0", "-1", "1e999", "[x]",
                          "[[presets]]", "[presets.fast]", "temperature = 9", 'keep_alive = "300"',
                          "version = 2", "{", "}", ",", "\\", "\x00", "é"]) | st.text(max_size=6)
MUTATIONS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10**6), PIECES), min_size=1, max_size=4)


@FUZZ
@given(MUTATIONS)
def test_mutated_example(ops: list[tuple[int, int, str]]) -> None:
    text = _mutate(EXAMPLE, ops)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from st.text
        raw = text.encode("utf-8", "surrogatepass")
    store, issues = load_file(raw)
    if store.config is not None and not any(i.is_error for i in issues) and store.dirty is False:
        assert store.text == text


def _valid_value(spec: Field) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "int":
        low = spec.min if spec.min is not None else -(2**31)
        high = spec.max if spec.max is not None else 2**31
        return st.integers(int(low), int(high))
    if spec.type == "float":
        return st.floats(spec.min, spec.max, allow_nan=False).filter(math.isfinite)
    if spec.type == "str_list":
        return st.lists(st.text(max_size=5), max_size=3)
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.type == "duration":
        return st.sampled_from(["5m", "1h30m", "-1m", "0", 300, -1, 0.5])
    return st.text(max_size=12).filter(lambda s: "\r" not in s)


EDITABLE = [(("presets", name, f.key), f) for name in ("fast", "long_form", "new_one") for f in PRESET_FIELDS]
EDITABLE += [((section, f.key), f) for section, fs in FIELDS.items() for f in fs
             if f.key not in ("headers", "default_preset", "host", "prometheus")]  # URLs: validated
EDITS = st.lists(st.sampled_from(EDITABLE).flatmap(
    lambda pair: st.tuples(st.just(pair[0]), _valid_value(pair[1]))), min_size=1, max_size=6)


@settings(max_examples=max(EXAMPLES // 3, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_valid_edits_save_and_reload(edits: list[tuple[tuple[str, ...], Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(EXAMPLE, encoding="utf-8")
        store = ConfigStore(path)
        store.load()
        expected: dict[tuple[str, ...], Any] = {}
        for parts, value in edits:
            assert store.set(parts, value) == [], (parts, value)
            expected[parts] = value
        store.save()
        reloaded, issues = ConfigStore(path).load()
        assert issues == []
        for parts, value in expected.items():
            if parts[0] == "presets":
                got = getattr(reloaded.presets[parts[1]], parts[2])
            else:
                got = getattr(getattr(reloaded, parts[0]), parts[1])
            assert got == (tuple(value) if isinstance(value, list) else value), (parts, got, value)
        comments = [line for line in EXAMPLE.splitlines() if line.startswith("#")]
        saved = iter(path.read_text(encoding="utf-8").splitlines())
        assert all(any(line == c for line in saved) for c in comments)  # every comment, in order


@settings(max_examples=max(EXAMPLES // 4, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, EDITS)
def test_edits_on_any_document_apply_exactly_or_change_nothing(doc: dict[str, Any], edits: list[Any]) -> None:
    try:
        text = tomlkit.dumps(doc)
    except Exception:  # noqa: BLE001
        assume(False)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, encoding="utf-8")
        store = ConfigStore(path)
        store.load()
        for parts, value in edits:
            before = store.document_text
            issues = store.set(parts, value)
            if issues:
                assert store.document_text == before
                continue
            after = ConfigStore(path).validate_text(store.document_text)[0]
            assert after is not None
            if parts[0] == "presets":
                got = getattr(after.presets[parts[1]], parts[2])
            else:
                got = getattr(getattr(after, parts[0]), parts[1])
            assert got == (tuple(value) if isinstance(value, list) else value), (parts, value, store.document_text)
