"""A hostile server: terminal escapes (OSC 52 ended by BEL and by ST, OSC 0/2 titles, CSI
clears), a bidi override and Rich markup in every string field of every endpoint (the
simulator's `hostile` switch). What it says is made inert where it enters (the typed results,
the errors, the version) and is shown as text everywhere: no clipboard write, no title change,
no crash. (Model output in a real terminal: test_untrusted_output.py.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.faults.conftest import fast_reconnect, free_port
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, replies, send, text, toasts
from tests.ui.models.test_models_pane_support import open_models, row_for, row_text
from tests.waiting import type_text
from tui.service.ollama import OllamaClient, errors
from tui.service.untrusted import inert
from tui.simulator import Simulator
from tui.simulator.hostile import HOSTILE

SHOWN = inert(HOSTILE)  # what a user must read instead: ␛]52;c;…␇ … ⟨U+202E⟩[/][bold]…
RAW = ("\x1b", "\x07", "\u202e", "\x9b", "\x9c", "\x9d")  # C0 ESC/BEL, bidi, 8-bit CSI/ST/OSC


def strings(value: Any) -> list[str]:
    """Every string inside a typed result (dataclasses, mappings, sequences)."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in strings(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


def assert_inert(values: list[str]) -> None:
    assert values, "nothing to check"
    for value in values:
        assert not any(ch in value for ch in RAW), repr(value)


async def test_every_string_of_every_endpoint_is_inert_in_the_typed_results():
    with Simulator(token_rate=0, pull_rate=0, hostile=True) as sim:
        async with OllamaClient(sim.url, retries=0) as client:
            version = await client.version()
            assert version.startswith("0.33.0␛]52;c;") and len(version) <= 64  # bounded
            assert_inert([version])
            tags = await client.tags()
            assert len(tags) == 4 and all(SHOWN in m.name for m in tags)
            assert_inert(strings(tags))
            show = await client.show(tags[0].name)  # the name as shown: the server still finds it
            assert SHOWN in show.license and SHOWN in show.details.family
            assert_inert(strings(show))
            await client.chat_once(tags[0].name, [{"role": "user", "content": "hi"}])
            running = await client.ps()
            assert len(running) == 1 and SHOWN in running[0].name
            assert_inert(strings(running))
            events = [e async for e in client.pull("tinyllama")]
            assert any(SHOWN in e.status for e in events)
            assert_inert(strings(events))
            for call in (client.show("no-such-model"), client.delete("no-such-model")):
                with pytest.raises(errors.OllamaError) as failure:
                    await call
                assert SHOWN in failure.value.message
                assert_inert([failure.value.message, str(failure.value)])
            sim.inject("/api/tags", "status", status=500, message="boom")
            with pytest.raises(errors.ServerError) as failure:
                await client.tags()
            assert failure.value.message == "boom" + SHOWN


async def test_model_output_is_kept_as_the_model_wrote_it():
    """Replies are stored exactly (history keeps what was said); widgets and exports make them
    inert, as test_untrusted_output.py shows."""
    with Simulator(token_rate=0, reply="hi", hostile=True) as sim:
        async with OllamaClient(sim.url, retries=0) as client:
            name = (await client.tags())[0].name
            chunks = [c async for c in client.chat(name, [{"role": "user", "content": "x"}])]
    assert "".join(c.content for c in chunks).startswith("hi" + HOSTILE)


async def test_every_pane_and_dialog_shows_a_hostile_server_as_text(make_app):
    with Simulator(token_rate=0, pull_rate=0, reply="fine", hostile=True) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: "Ollama 0.33.0␛]52;c;" in text(app))
            # Chat: the model picker lists the server's names; a reply streams in.
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: "llama3.2:latest␛]52;c;ZWNob" in text(app))
            await pilot.press("enter")
            await send(app, pilot, "hello", replies_count=1)
            # (the reply wraps at this width: the C1 controls' symbols and the markup are on one line)
            await wait_for(pilot, lambda: "fine␛]52;c;" in text(app)
                           and "⟨U+009B⟩H⟨U+009D⟩0;pwned-c1-title⟨U+009C⟩[/][bold][link=https://example.inval" in text(app))
            assert replies(app)[0].status == "complete"
            # Models: table, details, loaded models, a pull that fails with the server's words.
            pane = await open_models(app, pilot)
            await wait_for(pilot, lambda: "[link=https://example.invalid]x" in text(app)
                           and "Loaded models 1" in text(app))
            await pilot.press("p")
            await type_text(pilot, "nope")
            await pilot.press("enter")
            await wait_for(pilot, lambda: row_for(pane, "nope") is not None
                           and "␛]52;c;" in row_text(row_for(pane, "nope")))
            # Monitor, Settings, Compare & bench.
            await pilot.press("f3")
            await wait_for(pilot, lambda: "1 model loaded" in text(app) and "llama3.2:latest␛]52" in text(app))
            await pilot.press("f4")
            await wait_for(pilot, lambda: "Sections" in text(app))
            await pilot.press("f10")
            await wait_for(pilot, lambda: "qwen3:8b␛]52;c;" in text(app))
            await pilot.press("f10")
            # The host dialog, fed markup.
            app.action_change_host()
            await wait_for(pilot, lambda: "Ollama host" in text(app))
            app.screen.query_one("Input").value = "x[/]"
            await pilot.press("enter")
            await wait_for(pilot, lambda: "invalid host 'x[/]'" in text(app))
            await pilot.press("escape")
            assert app.is_running and app.return_code is None
            assert not any(ch in text(app) for ch in RAW)
            assert app.clipboard == ""


async def test_a_server_that_comes_back_with_markup_in_its_version_is_announced_as_text(make_app):
    port = free_port()
    app = make_app(f"http://127.0.0.1:{port}")
    async with app.run_test(size=(100, 30)) as pilot:
        fast_reconnect(app)
        await wait_for(pilot, lambda: "not reachable" in text(app))
        with Simulator(port=port, version="0.9 [/]\x1b]0;pwned\x07\u202e"):
            await wait_for(pilot, lambda: any("Connected to" in t for t in toasts(app)), timeout=15)
            back = next(t for t in toasts(app) if "Connected to" in t)
            assert back.endswith("(Ollama 0.9 [/]␛]0;pwned␇⟨U+202E⟩)")
            await wait_for(pilot, lambda: "Ollama 0.9 [/]␛]0;pwned␇" in text(app))  # the status line
            assert all(not n.markup for n in app._notifications)  # drawn as text, whatever it holds
            assert app.is_running


@needs_tmux
def test_a_hostile_server_in_a_real_terminal_leaves_clipboard_and_title_alone(tmp_path):
    with Simulator(token_rate=0, pull_rate=0, reply="fine", hostile=True) as sim:
        app = TmuxApp(["--host", sim.url], tmp_path, width=120, height=40)
        try:
            app._tmux("set-option", "-g", "set-clipboard", "on")  # tmux would take an OSC 52
            app._tmux("set-option", "-g", "allow-rename", "on")
            title = app._tmux("display-message", "-p", "#{pane_title}")
            app.wait_for("Ollama 0.33.0␛]52;c;")  # the status line, after the version read
            app.press("C-o")
            app.wait_for("qwen3:8b␛]52;c;")
            app.press("Enter")
            app.wait_gone("Model for this session")
            app.type("hello")
            app.press("Enter")
            app.wait_for("fine␛]52;c;", timeout=30)
            app.press("F2")
            app.wait_for(lambda s: "Loaded models 1" in s and "p Pull" in s)  # the table has the keys
            app.press("p")
            app.wait_for("Pull a model")  # keys typed before the dialog is up would go to the table
            app.type("nope")
            app.press("Enter")
            app.wait_for("error: ")
            app.press("F3")
            app.wait_for("1 model loaded")
            app.press("F10")
            app.wait_for("qwen3:8b␛]52;c;")  # the models listed: the screen is up and takes its keys
            app.press("F10")
            app.wait_gone("Saved runs")
            app.press("F1")
            app.run_command("Change host")
            app.wait_for("Ollama host")
            app.press("C-u")  # as one burst: the field's Ctrl+U runs before the next keys (key_order.py)
            app.type("x[/]")
            app.press("Enter")
            app.wait_for("invalid host 'x[/]'")
            app.press("Escape")
            written = app.bytes_written()
            for sequence in (b"\x1b]52;", b"\x1b]0;pwned", b"\x1b]2;pwned", b"\x1b[2J\x1b[H\xe2\x80\xae",
                             b"\xe2\x80\xae", b"\xc2\x9b", b"\xc2\x9d", b"\xc2\x9c"):  # C1 as UTF-8
                assert sequence not in written, sequence
            assert app._tmux("list-buffers").strip() == ""  # no clipboard write reached tmux
            assert app._tmux("display-message", "-p", "#{pane_title}") == title
            assert "EXITED" not in app.screen() and "Traceback" not in app.screen()
        finally:
            app.close()


def test_ollama_tui_bench_prints_a_hostile_server_as_text(tmp_path):
    """`ollama-tui bench`'s progress, table and errors on stdout/stderr: no escape reaches them."""
    import subprocess
    import sys

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Why is the sky blue?\n")
    with Simulator(token_rate=0, reply="ok", hostile=True) as sim:
        sim.inject("/api/tags", "status", status=500, message="boom", times=None)
        result = subprocess.run(
            [sys.executable, "-m", "tui", "bench", "--host", sim.url, "--models", "llama3.2",
             "--prompts", str(prompts), "--repeats", "1", "--db", str(tmp_path / "h.db")],
            check=False, capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "boom␛]52;c;" in out  # the server's words are there, as text
    assert not any(ch in out for ch in RAW), out


def test_ollama_tui_bench_success_prints_a_hostile_server_as_text(tmp_path):
    """The success path: the table on stdout, the progress (one run's hostile error among them)
    on stderr — the model name as the client lists it, the server's words as text, no escape."""
    import subprocess
    import sys

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Why is the sky blue?\n")
    name = "llama3.2:latest" + SHOWN  # the name as `ollama-tui` shows the server's list
    with Simulator(token_rate=0, reply="ok", hostile=True) as sim:
        # the unload before the cold run (its error ignored) and the cold run fail; the next run works
        sim.inject("/api/chat", "status", status=500, message="boom", times=2)
        result = subprocess.run(
            [sys.executable, "-m", "tui", "bench", "--host", sim.url, "--models", name,
             "--prompts", str(prompts), "--repeats", "1", "--db", str(tmp_path / "h.db")],
            check=False, capture_output=True, text=True, timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    table = result.stdout.splitlines()
    assert table[0].startswith("Model") and table[2].startswith(name + "  1  ")  # one good run, in the table
    assert f"[1/2] {name} · cold prompt 1 repeat 1: error: boom{SHOWN}" in result.stderr  # the failed run, as text
    assert "[2/2] " + name in result.stderr and "saved as run #1" in result.stderr
    for out in (result.stdout, result.stderr):
        assert not any(ch in out for ch in RAW), out
        assert "\u2028" not in out and "\u2029" not in out and "\x85" not in out
