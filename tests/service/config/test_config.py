"""The config schema: defaults, ranges, validation messages, resolution helpers."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui.service.config import (
    DEFAULT_PRESETS,
    FIELDS,
    MODEL_FIELDS,
    PRESET_FIELDS,
    ChatConfig,
    Config,
    ConfigIssue,
    MonitorConfig,
    Preset,
    PullsConfig,
    ServerConfig,
    UIConfig,
    build_config,
    field_for,
    parse_go_duration,
    render_example_config,
)
from tui.service.config.toml_edit import analyse

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.toml"
SECTION_TYPES = {"server": ServerConfig, "chat": ChatConfig, "pulls": PullsConfig,
                 "monitor": MonitorConfig, "ui": UIConfig}


def load(text: str) -> tuple[Config, list[ConfigIssue]]:
    parsed = analyse(text)
    return parsed.config, parsed.issues


def only(issues: list[ConfigIssue]) -> ConfigIssue:
    assert len(issues) == 1, issues
    return issues[0]


# ------------------------------------------------------------------ the example file and schema


def test_example_file_is_generated_from_the_schema() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == render_example_config(), (
        "config.example.toml is stale: regenerate it with "
        "`uv run python -c 'from tui.service.config import render_example_config as r; "
        "open(\"config.example.toml\", \"w\").write(r())'`")


def test_example_loads_with_no_issues_and_equals_the_defaults() -> None:
    config, issues = load(EXAMPLE.read_text(encoding="utf-8"))
    assert issues == []
    assert config == Config()
    assert config.presets.keys() == {"fast", "creative", "balanced", "precise", "long_form"}


def test_every_key_in_the_example_has_a_comment_with_default_and_range() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    data = tomllib.loads("\n".join(lines))
    for section, specs in FIELDS.items():
        for spec in specs:
            if spec.key == "headers":
                assert "server" in data and "headers" in data["server"]
                continue
            assert spec.key in data[section], f"{section}.{spec.key} missing from the example"
            in_section = lines.index(f"[{section}]")
            at = next(i for i in range(in_section, len(lines)) if lines[i].startswith(f"{spec.key} = "))
            comment = []
            j = at - 1
            while lines[j].startswith("#"):
                comment.insert(0, lines[j])
                j -= 1
            text = " ".join(comment)
            assert "Default:" in text, (section, spec.key)
            if spec.describe_range():
                assert "Range:" in text, (section, spec.key)
    legend = "\n".join(lines)
    for spec in [*PRESET_FIELDS, *MODEL_FIELDS]:
        assert f"#   {spec.key} " in legend, spec.key


def test_dataclasses_follow_the_schema() -> None:
    for section, kind in SECTION_TYPES.items():
        names = [f.name for f in dataclasses.fields(kind)]
        assert names == [f.key for f in FIELDS[section]]
        defaults = kind()
        for spec in FIELDS[section]:
            assert getattr(defaults, spec.key) == spec.default
            value, problem = spec.check(spec.default)
            assert problem is None, (section, spec.key)
    assert [f.name for f in dataclasses.fields(Preset)] == [f.key for f in PRESET_FIELDS]


def test_shipped_presets_are_valid_and_complete() -> None:
    for name, preset in DEFAULT_PRESETS.items():
        for key, value in preset.values().items():
            checked, problem = field_for(("presets", name, key)).check(value)
            assert problem is None and checked == value, (name, key)
    assert Config().chat.default_preset in DEFAULT_PRESETS


# ------------------------------------------------------------------ ranges and types


def _numeric(specs: Any) -> list[Any]:
    return [s for s in specs if s.type in ("int", "float") and s.min is not None and s.max is not None]


SECTION_NUMBERS = [(section, spec) for section, specs in FIELDS.items() for spec in _numeric(specs)]


@pytest.mark.parametrize(("section", "spec"), SECTION_NUMBERS, ids=lambda v: getattr(v, "key", v))
def test_section_ranges(section: str, spec: Any) -> None:
    for ok in (spec.min, spec.max):
        config, issues = load(f"[{section}]\n{spec.key} = {ok!r}\n")
        assert issues == []
        assert getattr(getattr(config, section), spec.key) == ok
    step = 1 if spec.type == "int" else 0.25
    for bad in (spec.min - step, spec.max + step):
        config, issues = load(f"# comment\n[{section}]\n{spec.key} = {bad!r}\n")
        issue = only(issues)
        assert issue.key == f"{section}.{spec.key}"
        assert issue.line == 3
        assert "out of range" in issue.message
        assert getattr(getattr(config, section), spec.key) == spec.default


@pytest.mark.parametrize("spec", _numeric(PRESET_FIELDS), ids=lambda s: s.key)
def test_preset_ranges(spec: Any) -> None:
    for ok in (spec.min, spec.max):
        config, issues = load(f"[presets.balanced]\n{spec.key} = {ok!r}\n")
        assert issues == []
        assert getattr(config.presets["balanced"], spec.key) == ok
    step = 1 if spec.type == "int" else 0.5
    config, issues = load(f"[presets.balanced]\nseed = 7\n{spec.key} = {spec.max + step!r}\n")
    issue = only(issues)
    assert str(issue) == f"line 3: presets.balanced.{spec.key}: {spec.max + step!r} is out of range " \
                         f"{spec.describe_range()}".replace(".0 is", " is")
    preset = config.presets["balanced"]
    assert getattr(preset, spec.key) is None
    assert preset.seed == 7


def test_the_message_format_from_the_brief() -> None:
    text = "\n" * 11 + "[presets.fast]\ntemperature = 3.5\n[presets.balanced]\n"
    issue = only(load(text)[1])
    assert str(issue) == "line 13: presets.fast.temperature: 3.5 is out of range 0–2"


def test_num_predict_allows_minus_one_but_not_zero() -> None:
    assert load("[presets.x]\nnum_predict = -1\n[chat]\ndefault_preset = 'x'")[1] == []
    issue = only(load("[presets.x]\nnum_predict = 0\n[chat]\ndefault_preset = 'x'")[1])
    assert issue.message == "0 is out of range -1 or 1–131072"


@pytest.mark.parametrize(("text", "message"), [
    ('[server]\nretries = "2"', 'expected an integer, got "2"'),
    ("[server]\nretries = 2.5", "2.5 is not a whole number"),
    ("[server]\nretries = true", "expected an integer, got a boolean"),
    ("[server]\nconnect_timeout = nan", "nan is not a finite number"),
    ("[server]\nauto_start = 1", "expected a boolean (true or false), got an integer"),
    ("[ui]\ntheme = 3", "expected a string, got an integer"),
    ("[ui]\nlog_level = 'verbose'", '"verbose" is not one of: "debug", "info", "warning", "error"'),
    ("[presets.balanced]\nstop = 'x'", 'expected an array of strings, got "x"'),
    ("[presets.balanced]\nstop = ['a', 1]", "item 2 is an integer, expected a string"),
    ("[presets.balanced]\nformat = 'yaml'", '"yaml" is not one of: "", "json"'),
    ("[server]\nhost = 'ftp://x'", "not a usable server URL: scheme must be http or https, not 'ftp'"),
    ("[server]\nhost = 'http://u:pw@h:99999'", "not a usable server URL: Port out of range"),
])
def test_wrong_values(text: str, message: str) -> None:
    config, issues = load(text)
    assert message in only(issues).message
    assert only(issues).line == 2
    assert only(issues).is_error


def test_the_obsolete_newline_key_is_a_warning_naming_what_replaced_it() -> None:
    config, issues = load("[chat]\nnewline_key = 'ctrl+j'\n[keys]\nprompt_newline = 'enter'\nquit = 3")
    obsolete, wrong = issues
    assert (obsolete.key, obsolete.line, obsolete.severity) == ("chat.newline_key", 2, "warning")
    assert "[keys]" in obsolete.message and "prompt_newline" in obsolete.message
    assert (wrong.key, wrong.line, wrong.is_error) == ("keys.quit", 5, True)
    assert config.keys == {"prompt_newline": "enter"} and config.key_lines == {"prompt_newline": 4}


def test_log_level_key() -> None:
    assert Config().ui.log_level == "warning"
    config, issues = load("[ui]\nlog_level = 'debug'\n")
    assert issues == [] and config.ui.log_level == "debug"
    config, _issues = load("[ui]\nlog_level = 'verbose'\n")
    assert config.ui.log_level == "warning"  # a bad value: the default is used


def test_a_password_in_the_host_is_not_repeated() -> None:
    issue = only(load("[server]\nhost = 'http://me:hunter2@h:99999'\n")[1])
    assert "hunter2" not in str(issue)


def test_a_float_field_takes_an_integer() -> None:
    config, issues = load("[presets.balanced]\ntemperature = 1\n[monitor]\ncpu_warn = 80")
    assert issues == []
    assert config.presets["balanced"].temperature == 1.0 and isinstance(config.presets["balanced"].temperature, float)
    assert config.monitor.cpu_warn == 80.0


def test_a_section_that_is_not_a_table() -> None:
    config, issues = load("server = 3\n")
    assert only(issues).key == "server"
    assert "expected a table" in only(issues).message
    assert config.server == ServerConfig()


def test_bad_values_fall_back_alone() -> None:
    config, issues = load("[server]\nretries = 99\nconnect_timeout = 7\n")
    assert [i.key for i in issues] == ["server.retries"]
    assert config.server.retries == 2
    assert config.server.connect_timeout == 7.0


# ------------------------------------------------------------------ keep_alive


@pytest.mark.parametrize(("text", "seconds"), [
    ("5m", 300), ("1h30m", 5400), ("-1m", -60), (".5s", 0.5), ("1.5h", 5400), ("0", 0), ("-0", 0),
    ("300ms", 0.3), ("2us", 2e-6), ("2\u00b5s", 2e-6), ("10ns", 1e-8), ("1h1m1s", 3661), ("+5s", 5),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "300", "5d", "m", "1h5", ".s", "5 m", "-", "1e3s", "5M", "9999999999h"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


@pytest.mark.parametrize("value", ['"5m"', '"-1m"', '"0"', "300", "-1", "0", "1.5", '"1h30m"'])
def test_keep_alive_accepts(value: str) -> None:
    config, issues = load(f"[server]\nkeep_alive = {value}\n")
    assert issues == []
    assert config.server.keep_alive == tomllib.loads(f"v = {value}")["v"]


@pytest.mark.parametrize(("value", "message"), [
    ('"300"', 'needs a unit, e.g. "300s"'),
    ('"5d"', "is not a duration"),
    ("true", "expected seconds or a duration"),
    ("[1]", "expected seconds or a duration"),
])
def test_keep_alive_rejects(value: str, message: str) -> None:
    config, issues = load(f"[models.\"llama3.2\"]\nkeep_alive = {value}\n")
    issue = only(issues)
    assert issue.key == 'models."llama3.2".keep_alive'
    assert message in issue.message
    assert config.models["llama3.2"].keep_alive is None


# ------------------------------------------------------------------ unknown keys, version, presets


def test_unknown_keys_are_warnings_and_kept_out_of_the_config() -> None:
    config, issues = load("colour = 1\n[server]\nhots = 'x'\n[presets.balanced]\nmirostat = 1\n")
    assert [(i.key, i.line, i.severity) for i in issues] == [
        ("colour", 1, "warning"), ("server.hots", 3, "warning"), ("presets.balanced.mirostat", 5, "warning")]
    assert config.server == ServerConfig()


def test_future_version_is_a_warning_and_known_keys_still_apply() -> None:
    config, issues = load("version = 7\nnew_thing = 1\n[server]\nretries = 4\n")
    assert issues[0].key == "version" and issues[0].severity == "warning"
    assert "version 7" in issues[0].message
    assert config.server.retries == 4


def test_invalid_version_is_an_error() -> None:
    assert only(load("version = 'one'\n")[1]).is_error
    assert only(load("version = 0\n")[1]).is_error


def test_presets_table_replaces_the_builtin_ones() -> None:
    config, issues = load("[chat]\ndefault_preset = 'mine'\n[presets.mine]\ntemperature = 0.1\n")
    assert issues == []
    assert list(config.presets) == ["mine"]


def test_default_preset_must_exist() -> None:
    config, issues = load("[chat]\ndefault_preset = 'nope'\n")
    issue = only(issues)
    assert issue.key == "chat.default_preset" and issue.line == 2
    assert config.chat.default_preset == "balanced"
    config, issues = load("[presets.a]\ntemperature = 1\n")  # "balanced" no longer exists
    assert only(issues).key == "chat.default_preset"
    assert config.chat.default_preset == "a"


def test_model_override_preset_must_exist() -> None:
    config, issues = load('[models."m"]\npreset = "nope"\n')
    assert only(issues).key == "models.m.preset"
    assert config.models["m"].preset is None


def test_preset_that_is_not_a_table() -> None:
    config, issues = load("[presets]\nbalanced = {temperature = 0.5}\nfast = 3\n")
    assert only(issues).key == "presets.fast" and only(issues).line == 3
    assert list(config.presets) == ["balanced"]


# ------------------------------------------------------------------ secrets


def test_header_values_never_leak() -> None:
    secret = "Bearer TOPSECRET"
    config, issues = load(f'[server.headers]\nAuthorization = "{secret}"\n"Bad Name" = "{secret}"\n'
                          f'X-Multi = """{secret}\nline2"""\nX-Num = 3\n')
    assert config.server.headers == {"Authorization": secret}
    assert [i.key for i in issues] == ['server.headers."Bad Name"', "server.headers.X-Multi", "server.headers.X-Num"]
    for text in [repr(config), str(config), *map(str, issues), *map(repr, issues)]:
        assert "TOPSECRET" not in text
    config, issues = load(f'[server]\nheaders = "{secret}"\n')
    assert "TOPSECRET" not in str(issues)
    config, issues = load(f'[server.headers]\nAuthorization = Bearer {secret}\n')  # a syntax error
    assert "TOPSECRET" not in str(issues) and issues[0].line == 2


# ------------------------------------------------------------------ resolution helpers


def test_preset_to_options() -> None:
    preset = Preset(temperature=0.5, stop=("a",), format="json", think=False, num_predict=-1)
    assert preset.to_options() == {"temperature": 0.5, "num_predict": -1, "stop": ["a"]}
    assert Preset().to_options() == {}


def test_chat_settings_layers() -> None:
    config, issues = load(
        '[chat]\nsystem_prompt = "be brief"\n'
        '[presets.balanced]\ntemperature = 0.7\nnum_ctx = 4096\nformat = "json"\n'
        '[presets.code]\ntemperature = 0.1\nthink = false\n'
        '[models."qwen2.5:7b"]\npreset = "code"\nkeep_alive = -1\nsystem_prompt = "code only"\n'
        '[models."qwen2.5:7b".options]\nnum_ctx = 32768\n')
    assert issues == []
    plain = config.chat_settings("llama3.2")
    assert (plain.preset, plain.options, plain.think, plain.format, plain.system_prompt, plain.keep_alive) == (
        "balanced", {"temperature": 0.7, "num_ctx": 4096}, True, "json", "be brief", "5m")
    tuned = config.chat_settings("QWEN2.5:7b")
    assert (tuned.preset, tuned.options, tuned.think, tuned.format, tuned.system_prompt, tuned.keep_alive) == (
        "code", {"temperature": 0.1, "num_ctx": 32768}, False, None, "code only", -1)
    assert config.chat_settings("qwen2.5:7b", preset="balanced").options["num_ctx"] == 32768
    assert config.model_override("llama3.2:latest") == config.model_override("other")


# ------------------------------------------------------------------ the form helpers


def test_field_text_round_trip() -> None:
    temperature = field_for(("presets", "x", "temperature"))
    assert temperature.parse_text(" 0.25 ") == 0.25 and temperature.parse_text("") is None
    stop = field_for(("presets", "x", "stop"))
    assert stop.parse_text("a, b") == ["a", "b"]
    assert stop.parse_text(stop.format_value(("x,y", "z"))) == ["x,y", "z"]
    keep_alive = field_for(("server", "keep_alive"))
    assert keep_alive.parse_text("300") == 300 and keep_alive.parse_text("5m") == "5m"
    think = field_for(("chat", "think"))
    assert think.parse_text("off") is False and think.format_value(True) == "true"
    with pytest.raises(ValueError):
        field_for(("server", "retries")).parse_text("many")
    assert field_for(("models", "m", "system_prompt")).parse_text("") is None  # unset, not ""
    assert field_for(("chat", "system_prompt")).parse_text("") == ""
    seed = field_for(("presets", "x", "seed"))
    assert seed.check(2**64)[1] == f"{2**64} is too large"


def test_build_config_without_locations() -> None:
    config, issues = build_config({"server": {"retries": -1}})
    assert str(only(issues)) == "server.retries: -1 is out of range 0–10; using the default"
