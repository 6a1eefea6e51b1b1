"""The fleet section in a real terminal: a config file in HOME with two [hosts] (one with a
dcgm-exporter), the Monitor shows both rows and the remote GPU's figures."""

from __future__ import annotations

import re

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui.simulator import Simulator
from tui.simulator.exporter import Exporter


@needs_tmux
def test_two_hosts_rows_and_a_remote_gpu_in_the_monitor(tmp_path):
    with Simulator(token_rate=0, version="0.9.1") as ws, Simulator(token_rate=0) as rack, \
            Exporter(gpus=1, hostname="ws") as dcgm:
        dcgm.state.gpus[0].util, dcgm.state.gpus[0].used_mib = 93.0, 40_000
        config = tmp_path / ".config" / "ollama-tui" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'[hosts.ws]\nurl = "{ws.url}"\nmetrics = ["{dcgm.url}/metrics"]\n\n'
                          f'[hosts.rack]\nurl = "{rack.url}"\n')
        app = TmuxApp(["--host", rack.url], tmp_path, width=120, height=40)
        try:
            app.wait_for("connected")
            app.press("F3")
            screen = app.wait_for(lambda s: "Fleet · 2 hosts · 2 up" in s and "93%" in s)
            assert re.search(r"● ws\s+up\s+Ollama 0\.9\.1", screen)
            assert re.search(r"● rack\s+up\s+Ollama 0\.33\.0", screen)
            gpu = next(line for line in screen.splitlines() if "GPU 0" in line and "93%" in line)
            assert "VRAM 39.1 / 79.6 GiB" in gpu and "NVIDIA H100 80GB HBM3" in gpu
        finally:
            app.close()
