"""Several hosts in a real terminal (issue 16): a config of two hosts, the palette switches the
chat to the second, a prompt is sent there and its reply is read on the screen."""

from __future__ import annotations

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui.simulator import Simulator

pytestmark = [needs_tmux, pytest.mark.timeout(120)]


def chat_requests(sim: Simulator) -> list[dict]:
    return [body for method, path, body in list(sim.requests) if path == "/api/chat" and body]


def test_two_hosts_switch_by_palette_send_and_read_the_reply(tmp_path):
    with Simulator(token_rate=0, reply=lambda m, msgs: "reply from ONE") as one, \
            Simulator(token_rate=0, reply=lambda m, msgs: "reply from TWO") as two:
        config = tmp_path / ".config/ollama-tui/config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'[server]\nhost = "{one.url}"\n\n[hosts.one]\nurl = "{one.url}"\n\n'
                          f'[hosts.two]\nurl = "{two.url}"\n')
        app = TmuxApp([], tmp_path, width=100, height=30)
        try:
            app.wait_for(lambda s: "connected" in s and "Ollama 0.33.0" in s)
            assert "@ one" in app.screen()
            app.run_command("Chat on host: two")
            app.wait_for(lambda s: "@ two" in s and "connected" in s)
            app.type("hello there")
            app.press("Enter")
            screen = app.wait_for("reply from TWO")
            assert "reply from ONE" not in screen
            app.wait_until(lambda: len(chat_requests(two)) == 1, "the request at host two")
            assert chat_requests(one) == []
            assert chat_requests(two)[0]["messages"][-1]["content"] == "hello there"
        finally:
            app.close()
