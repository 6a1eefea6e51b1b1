"""The four journeys of issue 10, keys only, in a real terminal (tmux, 80x24) running the installed
`ollama-tui` against the simulator. Each test counts the keys a user presses (F-keys, Enter,
arrows, Esc, Ctrl+… — not the text typed) against the journey's budget and checks what the user
sees and what was stored (history database, config file, the requests the server received).
The first reply with zero extra keys is test_first_reply.py."""

from __future__ import annotations

import base64
import re
import sqlite3
import tomllib
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui.simulator import Simulator

pytestmark = [needs_tmux, pytest.mark.timeout(180)]

CODE = "print('keys only')"


def reply(model: str, messages: list[dict]) -> str:
    """Each answer names its question (to tell sessions apart) and ends with a code block."""
    return f"Answer to {messages[-1]['content']}.\n\n```python\n{CODE}\n```\n"


@pytest.fixture
def sim():
    with Simulator(token_rate=0, pull_rate=300e6, pull_tick=0.02, reply=reply) as simulator:
        yield simulator


@contextmanager
def running(home: Path, *args: str, env: dict[str, str] | None = None):
    app = TmuxApp(list(args), home, env=env)
    try:
        yield app
    finally:
        app.close()


class Budget:
    """Counts the keys one step of a journey takes."""

    def __init__(self, app: TmuxApp) -> None:
        self.app = app
        self.spent: dict[str, int] = {}

    @contextmanager
    def step(self, name: str, limit: int):
        before = self.app.keys
        yield
        self.spent[name] = self.app.keys - before
        assert self.spent[name] <= limit, f"{name}: {self.spent[name]} keys, budget {limit}"


def db_rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / ".local/share/ollama-tui/history.sqlite3") as db:
        return db.execute(sql).fetchall()


def chat_requests(sim: Simulator) -> list[dict]:
    return [body for method, path, body in list(sim.requests) if path == "/api/chat" and body]


def finished(screen: str, count: int) -> bool:
    """`count` replies finished on screen (each ends with a stats line: "… tokens · …")."""
    return len(re.findall(r"\d+ tokens ·", screen)) >= count


# -- 1. Connect ---------------------------------------------------------------------------------

def test_connect_shows_server_version_and_what_is_loaded_with_no_key(tmp_path, sim):
    httpx.post(f"{sim.url}/api/generate", json={"model": "qwen3:8b", "prompt": "", "keep_alive": -1})
    assert sim.loaded() == ["qwen3:8b"]
    # NO_COLOR: the state is in words and symbols (● connected), never in colour alone.
    with running(tmp_path, "--host", sim.url, env={"NO_COLOR": "1"}) as app:
        screen = app.wait_for(lambda s: "loaded qwen3:8b" in s and "Ollama 0.33.0" in s)
        status = next(line for line in screen.splitlines() if "connected" in line)
        assert "● connected" in status and sim.url in status
        assert "Ask anything" in screen  # the prompt is there to type into
        assert app.keys == 0


# -- 2. Chat ------------------------------------------------------------------------------------

def test_chat_model_stop_regenerate_sessions_search_copy_export(tmp_path, sim):
    with running(tmp_path, "--host", sim.url) as app:
        budget = Budget(app)
        app.wait_for("Ollama 0.33.0")
        app.type("alpha question")
        app.press("Enter")
        app.wait_for(lambda s: finished(s, 1))

        with budget.step("change the session's model", 3):
            app.press("C-o")
            app.wait_for("Model for this session")
            app.type("qwen3")
            app.press("Enter")
            app.wait_for("model qwen3:8b")
        assert db_rows(tmp_path, "select model from sessions") == [("qwen3:8b",)]

        sim.set_model_rate("qwen3:8b", 5)  # slow enough to stop
        app.type("beta question")
        app.press("Enter")
        app.wait_for("streaming")
        with budget.step("stop a reply", 1):
            app.press("Escape")
            app.wait_for("stopped")
        app.wait_until(lambda: db_rows(tmp_path, "select status from messages order by id desc limit 1")
                       == [("stopped",)], "the stopped reply stored")

        sim.set_model_rate("qwen3:8b", 0)
        with budget.step("regenerate", 1):
            app.press("C-r")
            app.wait_for("Answer to beta question")
        app.wait_until(lambda: db_rows(tmp_path, "select status, branch > 0 from messages where role = "
                                       "'assistant' order by id")[-2:] == [("stopped", 1), ("complete", 0)],
                       "the regenerated reply stored, the stopped one kept as an earlier branch")

        with budget.step("copy a code block", 1):
            app.press("F5")
            app.wait_for("Copied the last code block")
        osc52 = b"\x1b]52;c;" + base64.b64encode(CODE.encode() + b"\n")
        app.wait_until(lambda: osc52 in app.bytes_written(), "OSC 52 with the code block")

        app.press("C-n")
        app.wait_gone("Answer to")  # an empty conversation
        app.type("gamma question")
        app.press("Enter")
        app.wait_for(lambda s: "Answer to gamma question" in s and finished(s, 1))

        with budget.step("switch session", 3):
            app.press("C-l", "Down", "Enter")  # the list opens on this session; the one below
            app.wait_for("Answer to beta question")
        assert "Answer to gamma question" not in app.screen()

        with budget.step("search history", 2):
            app.press("C-f")
            app.wait_for("Search all chats")
            app.type("gamma")
            app.wait_for("2 matches")  # the question and its answer
            app.press("Enter")
            app.wait_for("Answer to gamma question")

        with budget.step("export", 3):
            app.press("C-l", "e")
            app.wait_for("as MD to")
            app.press("Enter")
            app.wait_for("Exported to")
        exported = tmp_path / "gamma-question.md"
        app.wait_until(exported.exists, "the exported file")
        assert "Answer to gamma question" in exported.read_text()
    assert db_rows(tmp_path, "select title, model from sessions order by id") == [
        ("alpha question", "qwen3:8b"), ("gamma question", "llama3.2")]
    print("keys per step:", budget.spent)


# -- 3. GPU load while a reply streams -------------------------------------------------------------

def test_gpu_load_visible_while_a_reply_streams(tmp_path):
    # --demo: the app's own simulator and its simulated GPU (a real box shows its NVIDIA GPUs).
    with running(tmp_path, "--demo") as app:
        app.wait_for("Ollama 0.33.0")
        app.type("Explain the resource strip")
        app.press("Enter")
        keys = app.keys
        screen = app.wait_for(lambda s: "streaming" in s and "VRAM" in s)
        strip = next(line for line in screen.splitlines() if "VRAM" in line)
        assert re.search(r"GPU\S* \d+%", strip) and "CPU" in strip and "RAM" in strip, strip
        assert app.keys == keys  # the strip: zero keys

        app.press("F3")  # the full Monitor pane one key away …
        screen = app.wait_for("Util")
        assert "VRAM" in screen
        app.press("F1")  # … and back
        app.wait_for("Ask anything")
        assert app.keys - keys == 2


# -- 4. Pull a model --------------------------------------------------------------------------------

def test_pull_a_model_in_three_keys(tmp_path, sim):
    with running(tmp_path, "--host", sim.url) as app:
        budget = Budget(app)
        app.wait_for("Ollama 0.33.0")
        with budget.step("pull a model", 3):
            app.press("F2")
            app.wait_for("Loaded models")
            app.press("p")
            app.wait_for("Pull a model")
            app.type("tinyllama")
            app.press("Enter")
        app.wait_until(lambda: "tinyllama:latest" in sim.installed(), "the pull finished on the server")
        app.wait_for("tinyllama:latest")


# -- 5. Tune a preset ---------------------------------------------------------------------------------

def test_tune_a_preset_and_the_next_reply_uses_it(tmp_path, sim):
    config = tmp_path / ".config/ollama-tui/config.toml"
    with running(tmp_path, "--host", sim.url) as app:
        budget = Budget(app)
        app.wait_for("Ollama 0.33.0")
        assert "temp 0.7 · ctx 4096" in app.wait_for("preset balanced")
        with budget.step("tune a preset", 6):
            app.press("F4")  # the list opens on the chat's preset
            app.wait_for("[presets.balanced]")
            app.press("Enter")  # pick it: the cursor is on temperature
            app.wait_for("Randomness")
            app.type("0.3")
            app.press("Down")  # num_ctx
            app.wait_for("Context window")
            app.type("8192")
            app.press("F5")
            app.wait_for("Saved")
            app.press("F1")
            app.wait_for("temp 0.3 · ctx 8192")
        saved = tomllib.loads(config.read_text())["presets"]["balanced"]
        assert (saved["temperature"], saved["num_ctx"]) == (0.3, 8192)

        app.type("does it use them?")
        app.press("Enter")
        app.wait_for(lambda s: finished(s, 1))
        options = chat_requests(sim)[-1]["options"]
        assert (options["temperature"], options["num_ctx"]) == (0.3, 8192)
        assert "ctx 88/8192" in app.screen() or "/8192" in app.screen()
    print("keys per step:", budget.spent)
