"""Regenerate the README screenshots: each pane at 120x40, made by the app itself against the
built-in simulator (no Ollama needed).

    uv run python -m scripts.screenshots        # writes docs/screenshots/<pane>.svg
"""

from __future__ import annotations

import asyncio
import time
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

REPLY = """Here is a quick way to list the models you have installed:

```python
import httpx

for model in httpx.get("http://127.0.0.1:11434/api/tags").json()["models"]:
    print(model["name"], model["size"])
```

- `ollama list` does the same from the shell.
- **Models** (F2) shows them with sizes and capabilities.
"""


async def main() -> None:
    import os

    home = Path(tempfile.mkdtemp())
    os.environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"))
    from tui.app import OllamaTUI
    from tui.service.config import ConfigStore
    from tui.service.monitor.gpu import FakeGpuBackend
    from tui.service.ollama import OllamaClient
    from tui.service.services import Services
    from tui.simulator import Simulator

    OUT.mkdir(parents=True, exist_ok=True)
    with Simulator(token_rate=0, reply=REPLY) as sim:
        store = ConfigStore(home / "config.toml")
        _config, issues = store.load()
        services = Services.build(store, provider=OllamaClient(sim.url), db_path=home / "h.db",
                                  gpu_backend=FakeGpuBackend(1))
        app = OllamaTUI(services=services, demo=True, config_issues=issues)
        async with app.run_test(size=(120, 40)) as pilot:
            # The Monitor's charts hold 5 minutes at 1 s: sample fast while the chat is shot so
            # they show a history, then back to 1 s before the Monitor is (it keeps the samples).
            app.sampler.set_interval(0.03)
            started = time.monotonic()
            await pilot.press(*"How do I list my models from Python?", "enter")
            for _ in range(200):
                await pilot.pause(0.05)
                if app.query_one("ChatPane").streaming is None and app.query(".assistant-turn"):
                    break
            await pilot.pause(0.5)
            app.clear_notifications()
            for key, pane in (("f1", "chat"), ("f2", "models"), ("f3", "monitor"), ("f4", "settings")):
                if pane == "monitor":
                    await pilot.pause(max(0.0, 8.0 - (time.monotonic() - started)))
                    app.sampler.set_interval(1.0)
                await pilot.press(key)
                await pilot.pause(1.5 if pane == "monitor" else 0.6)
                app.save_screenshot(filename=f"{pane}.svg", path=str(OUT))
                print(OUT / f"{pane}.svg")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
