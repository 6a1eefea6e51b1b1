"""Scenario 9: a config that cannot be read, is invalid, or is from a future version → the app
starts on defaults, says what is wrong, and never writes to the file."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, replies, send, text, toasts
from tui.simulator import Simulator

BROKEN = b'# my notes\n[chat\ndefault_model = "qwen3:8b"\n'
FUTURE = b'version = 7\n# from a newer ollama-tui\n[chat]\ndefault_model = "qwen3:8b"\n[hologram]\nmode = 3\n'


def snapshot(path):
    return path.read_bytes() if path.is_file() else sorted(p.name for p in path.iterdir())


@pytest.mark.parametrize("case, shown", [
    ("unreadable", "is a directory, not a file"),
    ("invalid", "line 2"),
    ("future", "file is format version 7"),
])
async def test_9_a_bad_config_runs_on_defaults_says_so_and_stays_untouched(make_app, tmp_path, case, shown):
    path = tmp_path / "config.toml"
    if case == "unreadable":
        path.mkdir()
        (path / "inside").write_text("x")
    else:
        path.write_bytes(BROKEN if case == "invalid" else FUTURE)
    before = snapshot(path)
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=path)
        async with app.run_test(size=(100, 32), notifications=True) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: any(shown in t for t in toasts(app)))
            assert "Config problem" in text(app)
            expected_model = "qwen3:8b" if case == "future" else "llama3.2"  # known keys still apply
            assert app.config.chat.default_model == expected_model
            # something that saves the config: choosing a theme in the app
            app.theme = "ollama-light"
            await wait_for(pilot, lambda: any("Theme not saved" in t for t in toasts(app)))
            await send(app, pilot, "still fine?", replies_count=1)  # the app works
            assert replies(app)[0].content == "ok"
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("config")) == ["config.toml"]
