"""ConfigStore on real files: load without failing, edits that keep comments, safe saves."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest

from tui.service.config import (
    Config,
    ConfigConflict,
    ConfigInvalid,
    ConfigStore,
    ConfigWriteError,
    backup_path,
    parse_key_path,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.toml"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "config.toml"
    target.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.fixture
def store(path: Path) -> ConfigStore:
    s = ConfigStore(path)
    assert s.load()[1] == []
    return s


def changed_lines(old: str, new: str) -> list[str]:
    return [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# ------------------------------------------------------------------ round trip


def test_set_and_save_changes_exactly_one_line(store: ConfigStore, path: Path) -> None:
    old = path.read_text(encoding="utf-8")
    assert store.set("presets.fast.temperature", 0.3) == []
    assert store.dirty
    store.save()
    new = path.read_text(encoding="utf-8")
    assert changed_lines(old, new) == ["-temperature = 0.7", "+temperature = 0.3"]
    assert len(old.splitlines()) == len(new.splitlines())
    assert [line for line in old.splitlines() if line.startswith("#") or not line.strip()] == \
           [line for line in new.splitlines() if line.startswith("#") or not line.strip()]
    assert store.config.presets["fast"].temperature == 0.3
    assert not store.dirty and not store.changed_on_disk()
    assert ConfigStore(path).load()[0].presets["fast"].temperature == 0.3


def test_new_keys_go_after_the_last_key_of_their_table(store: ConfigStore, path: Path) -> None:
    old = path.read_text(encoding="utf-8")
    assert store.set("presets.fast.seed", 42) == []
    assert store.set("server.headers.Authorization", "Bearer x") == []
    store.save()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("seed = 42") - 1] == "think = false"
    assert lines[lines.index("seed = 42") + 1] == ""
    assert lines[lines.index('Authorization = "Bearer x"') - 1] == '# Authorization = "Bearer <token>"'
    assert len(changed_lines(old, "\n".join(lines))) == 2


def test_set_creates_missing_tables(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("# mine\nversion = 1\n")
    store = ConfigStore(path)
    store.load()
    assert store.set("monitor.interval", 2.5) == []
    assert store.set('models."qwen2.5:7b".options.num_ctx', 8192) == []
    assert store.set("models.qwen2.5:7b.keep_alive", "1h") == []  # unquoted dotted name works too
    assert store.set("presets.fast.top_k", 10) == []  # the built-in presets are written out first
    store.save()
    config, issues = ConfigStore(path).load()
    assert issues == []
    assert config.monitor.interval == 2.5
    assert config.models["qwen2.5:7b"].options.num_ctx == 8192
    assert config.models["qwen2.5:7b"].keep_alive == "1h"
    assert config.presets["fast"].top_k == 10
    assert set(config.presets) == set(Config().presets)
    assert path.read_text().startswith("# mine\nversion = 1\n")


def test_invalid_set_changes_nothing(store: ConfigStore) -> None:
    before = store.document_text
    issues = store.set("presets.fast.temperature", 3.5)
    assert [str(i) for i in issues] == [f"line {_line(before, 'fast', 'temperature')}: "
                                        "presets.fast.temperature: 3.5 is out of range 0–2"]
    assert store.set("server.nope", 1)[0].message == "no such setting"
    assert store.set("chat.default_preset", "missing")[0].key == "chat.default_preset"
    assert store.set('server.headers."Bad Name"', "v")[0].message.endswith("not a valid HTTP header name")
    assert store.set("server.headers.X", "a\nb")[0].is_error
    assert store.set("not a [path", 1)[0].message.startswith("'not a [path' is not a key path")
    assert store.document_text == before and not store.dirty


def _line(text: str, preset: str, key: str) -> int:
    lines = text.splitlines()
    start = lines.index(f"[presets.{preset}]")
    return next(i for i in range(start, len(lines)) if lines[i].startswith(key)) + 1


def test_set_none_deletes(store: ConfigStore) -> None:
    assert store.set("presets.fast.num_predict", None) == []
    assert store.config.presets["fast"].num_predict is None
    assert "num_predict = 512" not in store.document_text


def test_inline_comment_survives_a_change(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[server]\nretries = 2  # why: flaky wifi\n')
    store = ConfigStore(path)
    store.load()
    store.set("server.retries", 5)
    assert store.document_text == '[server]\nretries = 5  # why: flaky wifi\n'


def test_key_paths() -> None:
    assert parse_key_path("presets.fast.temperature") == ("presets", "fast", "temperature")
    assert parse_key_path('models."llama3.2".options.top_k') == ("models", "llama3.2", "options", "top_k")
    assert parse_key_path("models.llama3.2:8b.options.top_k") == ("models", "llama3.2:8b", "options", "top_k")
    assert parse_key_path("models.hf.co/x/y:Q4.preset") == ("models", "hf.co/x/y:Q4", "preset")
    assert parse_key_path("models.llama3.2") == ("models", "llama3.2")
    assert parse_key_path(("models", "a.b", "preset")) == ("models", "a.b", "preset")
    with pytest.raises(ValueError):
        parse_key_path("server..host")


# ------------------------------------------------------------------ presets


def test_preset_add_duplicate_rename_delete(store: ConfigStore, path: Path) -> None:
    assert store.add_preset("mine", temperature=0.4, stop=["###"]) == []
    assert store.config.presets["mine"] == store.config.presets["mine"].__class__(temperature=0.4, stop=("###",))
    assert store.duplicate_preset("precise", "precise2") == []
    assert store.config.presets["precise2"] == store.config.presets["precise"]
    assert store.set("models.m.preset", "balanced") == []
    assert store.rename_preset("balanced", "everyday") == []
    assert "balanced" not in store.config.presets
    assert store.config.chat.default_preset == "everyday"
    assert store.config.models["m"].preset == "everyday"
    assert store.delete("presets.creative") == []
    store.save()
    config, issues = ConfigStore(path).load()
    assert issues == []
    assert list(config.presets) == ["fast", "everyday", "precise", "long_form", "mine", "precise2"]
    text = path.read_text()
    assert "# Everyday chat.\n[presets.everyday]" in text
    assert "Brainstorming" not in text  # the deleted preset's own comment went with it
    assert "\n\n\n" not in text
    assert "num_predict = -1\n\n[presets.mine]" in text  # new presets sit after the last one...
    assert "\n\n# Per-model overrides" in text  # ...and before the next section's comments


def test_preset_rules(store: ConfigStore) -> None:
    assert "already exists" in store.add_preset("fast")[0].message
    assert "letters, digits" in store.add_preset("has space")[0].message
    assert store.add_preset("x", temperature=9)[0].key == "presets.x.temperature"
    assert store.add_preset("x", nope=1)[0].message == "no such preset key"
    assert store.rename_preset("missing", "y")[0].message == "no such preset"
    assert "default_preset" in store.delete("presets.balanced")[0].message
    assert store.set("models.m.preset", "fast") == []
    assert 'models."m"' in store.delete("presets.fast")[0].message
    assert "fast" in store.config.presets and "x" not in store.config.presets


def test_delete_builtin_preset_when_file_has_no_presets(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("version = 1\n")
    store = ConfigStore(path)
    store.load()
    assert store.delete("presets.creative") == []
    assert set(store.config.presets) == set(Config().presets) - {"creative"}
    assert store.delete("presets.creative") == []  # already gone: nothing to do


def test_delete_model_override_table(store: ConfigStore) -> None:
    store.set('models."a.b".preset', "fast")
    store.set('models."a.b".options.top_k', 5)
    assert store.delete('models."a.b"') == []
    assert store.config.models == {}
    assert "a.b" not in store.document_text


# ------------------------------------------------------------------ loading problems


def test_missing_file_is_created_private_from_the_example(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    config, issues = ConfigStore(path).load()
    assert issues == [] and config == Config()
    assert path.read_text() == EXAMPLE.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(path.parent)) == ["config.toml"]


def test_syntax_error_reports_the_line_and_uses_defaults(path: Path) -> None:
    lines = path.read_text().splitlines()
    at = lines.index("[monitor]") + 2
    lines[at] = "interval = = 2"
    path.write_text("\n".join(lines) + "\n")
    before = snapshot(path)
    store = ConfigStore(path)
    config, issues = store.load()
    assert config == Config()
    assert len(issues) == 1 and issues[0].line == at + 1 and issues[0].column
    assert "syntax" in issues[0].message
    assert store.set("server.retries", 3)[0].is_error
    with pytest.raises(ConfigInvalid):
        store.save()
    assert snapshot(path) == before
    assert store.text == path.read_text()  # the raw editor gets the text to fix


@pytest.mark.parametrize(("text", "line"), [
    ("a = 1\n[server]\nretries = 2\nretries = 3\n", 4),  # a duplicate key
    ("[server]\n[server]\n", 2),  # a duplicate table
    ('[chat]\nsystem_prompt = "unterminated\n', 2),
    ("[chat]\n\n\nthink = tru\n", 4),
    ("x = [1,\n2,\n", 2),
])
def test_syntax_error_lines(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    config, issues = ConfigStore(path).load()
    assert [i.line for i in issues] == [line]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"[server]\nhost = '\xff\xfe'\n")
    config, issues = ConfigStore(path).load()
    assert config == Config()
    assert issues[0].line == 2 and "UTF-8" in issues[0].message


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "c.toml").mkdir()
    store = ConfigStore(tmp_path / "c.toml")
    config, issues = store.load()
    assert config == Config() and "directory" in issues[0].message
    with pytest.raises(ConfigInvalid):
        store.save()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(path: Path) -> None:
    path.chmod(0)
    config, issues = ConfigStore(path).load()
    assert config == Config() and "cannot read" in issues[0].message


def test_permission_denied(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    store = ConfigStore(path)
    config, issues = store.load()
    assert config == Config()
    assert str(issues[0]) == f"cannot read {path}: Permission denied"
    assert store.set("server.retries", 3)[0].is_error


def test_unknown_keys_survive_edits(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("future = 1\n[server]\nretries = 1\nshiny = true\n")
    store = ConfigStore(path)
    assert [i.severity for i in store.load()[1]] == ["warning", "warning"]
    store.set("server.retries", 2)
    store.save()  # warnings do not block saving
    assert path.read_text() == "future = 1\n[server]\nretries = 2\nshiny = true\n"


def test_cannot_create_uses_defaults(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config, issues = ConfigStore(blocker / "config.toml").load()  # parent is a file
    assert config == Config()
    assert issues[0].severity == "warning" and "cannot create" in issues[0].message


def test_bom_is_accepted_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf[server]\nretries = 1\n")
    store = ConfigStore(path)
    assert store.load()[0].server.retries == 1
    store.set("server.retries", 4)
    store.save()
    assert path.read_bytes() == b"\xef\xbb\xbf[server]\nretries = 4\n"


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"[server]\r\nretries = 1\r\n\r\n[ui]\r\ntheme = 'x'\r\n")
    store = ConfigStore(path)
    store.load()
    assert store.set("server.retries", 4) == []
    assert store.set("server.auto_start", True) == []
    assert store.add_preset("mine", top_k=3) == []
    store.save()
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.startswith(b"[server]\r\nretries = 4\r\nauto_start = true\r\n\r\n[ui]\r\ntheme = 'x'\r\n")
    assert raw.endswith(b"\r\n[presets.mine]\r\ntop_k = 3\r\n")


# ------------------------------------------------------------------ saving


def test_conflict_detection(store: ConfigStore, path: Path) -> None:
    store.set("server.retries", 4)
    path.write_text(path.read_text() + "\n# edited in vim\n")
    assert store.changed_on_disk()
    with pytest.raises(ConfigConflict):
        store.save()
    assert "# edited in vim" in path.read_text()
    store.save(force=True)
    assert "retries = 4" in path.read_text()
    assert "# edited in vim" in backup_path(path).read_text()  # the overwritten edit is kept
    assert not store.changed_on_disk()


def test_touch_without_change_is_not_a_conflict(store: ConfigStore, path: Path) -> None:
    os.utime(path, (1, 1))
    assert not store.changed_on_disk()


def test_deleted_file_counts_as_changed(store: ConfigStore, path: Path) -> None:
    path.unlink()
    assert store.changed_on_disk()


def test_backup_and_atomic_write(store: ConfigStore, path: Path) -> None:
    first = path.read_text()
    store.set("server.retries", 4)
    store.save()
    assert backup_path(path).read_text() == first
    second = path.read_text()
    store.set("server.retries", 5)
    store.save()
    assert backup_path(path).read_text() == second
    assert sorted(os.listdir(path.parent)) == ["config.toml", "config.toml.bak"]  # no temp files left


def test_a_failed_write_leaves_the_file_and_no_temp_files(store: ConfigStore, path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    before = path.read_bytes()

    def failing_replace(src: str, dst: str | Path) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    store.set("server.retries", 4)
    with pytest.raises(ConfigWriteError, match="No space left on device"):
        store.save()
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["config.toml", "config.toml.bak"]
    assert store.dirty  # the edit is still there to retry
    monkeypatch.setattr(os, "replace", real_replace)
    store.save()
    assert "retries = 4" in path.read_text()


def test_save_refuses_an_invalid_document(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nretries = 99\n")
    store = ConfigStore(path)
    store.load()
    store.set("ui.theme", "x")
    with pytest.raises(ConfigInvalid) as caught:
        store.save()
    assert caught.value.issues[0].key == "server.retries"
    store.set("server.retries", 3)
    store.save()
    assert path.read_text() == '[server]\nretries = 3\n\n[ui]\ntheme = "x"\n'


def test_file_mode_is_kept_and_tightened_for_headers(store: ConfigStore, path: Path) -> None:
    path.chmod(0o640)
    store.set("server.retries", 4)
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    store.set("server.headers.Authorization", "Bearer secret")
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_path(path).stat().st_mode) == 0o600
    assert "secret" not in repr(store)


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("[server]\nretries = 1\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    store = ConfigStore(link)
    store.load()
    store.set("server.retries", 2)
    store.save()
    assert link.is_symlink() and "retries = 2" in real.read_text()


def test_save_text(store: ConfigStore, path: Path) -> None:
    before = snapshot(path)
    issues = store.save_text("[server]\nretries = 99\n")
    assert issues[0].key == "server.retries" and snapshot(path) == before
    issues = store.save_text("[server\n")
    assert issues[0].line == 1 and snapshot(path) == before
    issues = store.save_text("[server]\nretries = 9\nnew_key = 1\n")
    assert [i.severity for i in issues] == ["warning"]
    assert path.read_text() == "[server]\nretries = 9\nnew_key = 1\n"
    assert store.config.server.retries == 9 and store.text == path.read_text()
    path.write_text("# changed\n")
    with pytest.raises(ConfigConflict):
        store.save_text("[server]\n")
    store.save_text("[server]\n", force=True)


def test_validate_text(store: ConfigStore) -> None:
    config, issues = store.validate_text("[ui]\ntheme = 'x'\n")
    assert config is not None and config.ui.theme == "x" and issues == []
    config, issues = store.validate_text("[ui\n")
    assert config is None and issues[0].line == 1


def test_export_import_reset(store: ConfigStore, path: Path, tmp_path: Path) -> None:
    store.set("server.retries", 7)
    exported = tmp_path / "exported.toml"
    store.export_to(exported)
    assert "retries = 7" in exported.read_text()
    assert "retries = 2" in path.read_text()  # export does not save

    bad = tmp_path / "bad.toml"
    bad.write_text("[monitor]\ninterval = 0\n")
    before = snapshot(path)
    assert store.import_from(bad)[0].key == "monitor.interval"
    assert snapshot(path) == before
    assert store.import_from(tmp_path / "missing.toml")[0].is_error

    assert store.import_from(exported) == []
    assert path.read_text() == exported.read_text()
    assert store.config.server.retries == 7

    store.reset_to_defaults()
    assert path.read_text() == EXAMPLE.read_text()
    assert store.config == Config()
    assert backup_path(path).read_text() == exported.read_text()


def test_export_with_headers_is_private(store: ConfigStore, tmp_path: Path) -> None:
    store.set("server.headers.Authorization", "Bearer s")
    store.export_to(tmp_path / "e.toml")
    assert stat.S_IMODE((tmp_path / "e.toml").stat().st_mode) == 0o600


def test_load_never_writes_an_existing_file(path: Path) -> None:
    path.write_text("[server]\nretries = 42\n")
    before = snapshot(path)
    ConfigStore(path).load()
    assert snapshot(path) == before
    assert sorted(os.listdir(path.parent)) == ["config.toml"]
