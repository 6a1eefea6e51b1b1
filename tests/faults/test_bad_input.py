"""User input: a 1 MB paste, out-of-range options, an image path that is not UTF-8 → handled or
refused in plain words, never a traceback. Model output: a 10,000-line code block is shown
whole, as text. (Empty prompts: tests/ui/chat/test_chat_content.py; invalid model names:
tests/ui/models/test_models_pane_pulls.py; escapes in a real terminal: test_untrusted_output.py.)"""

from __future__ import annotations

import os
import re

from textual import events

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat_requests,
    messages,
    ready,
    replies,
    send,
    text,
    wait_idle,
)
from tui.simulator import Simulator
from tui.ui.chat.markdown_lines import MarkdownLines
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.session_options import SessionOptionsDialog
from tui.ui.widgets.dialogs import TextDialog


async def test_a_1_mb_paste_is_sent_and_stored_whole(make_app, tmp_path):
    big = ("lorem ipsum dolor sit amet " * 40 + "\n") * 970  # ~1 MB, ~1000 lines
    with Simulator(token_rate=0, reply="got it") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            prompt = app.query_one(PromptArea)
            app.post_message(events.Paste(big))  # as the driver delivers a bracketed paste
            await wait_for(pilot, lambda: prompt.text == big, timeout=20)
            await pilot.press("enter")
            await wait_idle(app, pilot, 1, timeout=30)
            assert replies(app)[0].content == "got it"
            assert chat_requests(sim)[-1]["messages"][-1]["content"] == big
            assert messages(tmp_path / "history.sqlite3")[0]["content"] == big
            assert app.query_one(PromptArea).text == ""


async def test_a_10000_line_code_block_is_shown_whole_and_as_text(make_app, tmp_path):
    lines = [f"v{i}=0" for i in range(10_000)]
    lines[10] = "x='[bold red]loud[/]'"
    lines[5000] = "y='\x1b]52;c;cHduZWQ=\x07\x1b[2J'"
    reply = "Here it is:\n\n```python\n" + "\n".join(lines) + "\n```\n\nTHE END"
    with Simulator(token_rate=0, reply=reply) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "a long one")
            await wait_idle(app, pilot, 1, timeout=90)  # ~40,000 tokens: seconds, more on a busy runner
            shown = [line.strip() for line in replies(app)[0].query_one(".body", MarkdownLines).plain_lines()]
            code = [line for line in shown if re.fullmatch(r"v\d+=0", line)]
            assert len(code) == 9_998 and code[0] == "v0=0" and code[-1] == "v9999=0"
            assert "x='[bold red]loud[/]'" in shown
            assert "y='␛]52;c;cHduZWQ=␇␛[2J'" in shown
            assert shown[-1] == "THE END"
            await pilot.press("end")
            await wait_for(pilot, lambda: "THE END" in text(app))
            assert app.clipboard == ""
        assert messages(tmp_path / "history.sqlite3")[-1]["content"] == reply


async def test_out_of_range_options_are_refused_with_the_range(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog) and app.screen.query("Input"))
            app.screen.query_one("Input").value = "temperature=9 num_ctx=-5 top_k=abc"
            await pilot.press("enter")
            await wait_for(pilot, lambda: "temperature" in text(app) and "out of range" in text(app))
            assert isinstance(app.screen, SessionOptionsDialog)  # still open, nothing applied
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            assert pane.session.options == {}
            await send(app, pilot, "hi", replies_count=1)
            assert chat_requests(sim)[-1].get("options", {}).get("temperature") != 9


async def test_an_image_path_that_is_not_utf8_is_attached_and_sent(make_app, tmp_path):
    folder = os.fsencode(tmp_path)
    with open(os.path.join(folder, b"caf\xe9.png"), "wb") as f:  # Latin-1 "café", invalid UTF-8
        f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    path = os.fsdecode(os.path.join(folder, b"caf\xe9.png"))  # lone surrogate, as listdir gives it
    with Simulator(token_rate=0, reply="a tiny image") as sim:
        app = make_app(sim.url, default_model="llava:7b")
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await pilot.press("f8")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
            app.screen.query_one("Input").value = path
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(pane.attachments) == 1)
            assert pane.attachments[0][0] == "caf\ufffd.png"
            await send(app, pilot, "what is this?", replies_count=1)
            assert replies(app)[0].content == "a tiny image"
            assert chat_requests(sim)[-1]["messages"][-1]["images"]
            await wait_for(pilot, lambda: "caf\ufffd.png" in text(app))
            # and a path that does not exist is refused in the dialog, in words
            await pilot.press("f8")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
            app.screen.query_one("Input").value = os.fsdecode(os.path.join(folder, b"gone\xff.png"))
            await pilot.press("enter")
            await wait_for(pilot, lambda: "No such file or directory" in text(app))
            await pilot.press("escape")
