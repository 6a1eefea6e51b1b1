"""Input latency in the Models pane while pulls stream ~100 progress events/s each, vs idle.

Drives the real app (headless, through Textual's test driver) against the built-in simulator
running in its own process (as Ollama would), with the Models pane shown and the filter focused.
Each sample sends one key (alternately "l" and backspace), and measures the time until the first
frame the app produces that shows the result: the filter's text changed and the table re-filtered.
Frames are timed where the app hands a finished screen update to the terminal driver (the update
is rendered to terminal output there, as it would be for a real terminal).

    uv run python benchmarks/pull_input_latency.py [--samples 150] [--size 100x30]

Prints one line per scenario: idle, one pull, two pulls (median / p95 / max in ms), and the
progress events per second the app actually received.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402

from tui.app import OllamaTUI  # noqa: E402
from tui.service.config import ConfigStore  # noqa: E402
from tui.service.ollama import OllamaClient  # noqa: E402
from tui.service.services import Services  # noqa: E402
from tui.ui.models.library import FilterInput, LibraryTable  # noqa: E402
from tui.ui.models.pane import ModelsPane  # noqa: E402


def start_simulator(pull_rate: float, tick: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.simulator", "--port", "0", "--token-rate", "0",
         "--pull-rate", str(pull_rate), "--pull-tick", str(tick)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the simulator did not start")
    return proc, url


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class FrameWatch:
    """Wraps App._display: renders each update to terminal output and checks a condition."""

    def __init__(self, app: OllamaTUI) -> None:
        self.app = app
        self.frames = 0
        self.condition = None
        self.hit: asyncio.Future[float] | None = None
        original = app._display

        def display(screen, renderable):  # type: ignore[no-untyped-def]
            original(screen, renderable)
            if renderable is None:
                return
            render = getattr(renderable, "render_segments", None)
            if render is not None:
                render(app.console)  # the work a real terminal frame costs
            self.frames += 1
            if self.hit is not None and not self.hit.done() and self.condition and self.condition():
                self.hit.set_result(time.perf_counter())

        app._display = display  # type: ignore[method-assign]

    async def wait_frame(self, condition, timeout: float = 5.0) -> float:
        self.condition = condition
        self.hit = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(self.hit, timeout)
        finally:
            self.hit = None
            self.condition = None


async def measure(app: OllamaTUI, watch: FrameWatch, samples: int, rng: random.Random) -> list[float]:
    pane = app.query_one(ModelsPane)
    field = pane.query_one(FilterInput)
    table = pane.query_one(LibraryTable)
    total = len(pane.models)
    latencies: list[float] = []
    for _ in range(samples):
        typing = field.value == ""
        key, char = ("l", "l") if typing else ("backspace", None)
        want_value = "l" if typing else ""

        def shown(want_value: str = want_value) -> bool:
            rows = len(table.shown)
            return field.value == want_value and (rows < total if want_value else rows == total)

        started = time.perf_counter()
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)  # as the terminal's input thread does
        seen = await watch.wait_frame(shown)
        latencies.append((seen - started) * 1000)
        await asyncio.sleep(rng.uniform(0.03, 0.12))  # a typist's gap, spread over update phases
    return latencies


def events_received(pane: ModelsPane) -> int:
    assert pane.pulls is not None
    return sum(job.progress.event_count for job in pane.pulls._jobs.values())


async def run(samples: int, size: tuple[int, int], pull_rate: float,
              tick: float) -> list[tuple[str, list[float], float]]:
    proc, url = start_simulator(pull_rate, tick)
    home = Path(tempfile.mkdtemp(prefix="pull-bench-"))
    os.environ["HOME"] = str(home)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "OLLAMA_HOST"):
        os.environ.pop(var, None)
    results: list[tuple[str, list[float], float]] = []
    rng = random.Random(7)
    try:
        store = ConfigStore(home / "config.toml")
        _config, issues = store.load()
        services = Services.build(store, provider=OllamaClient(url), db_path=home / "history.sqlite3")
        app = OllamaTUI(services=services, config_issues=issues)
        async with app.run_test(size=size) as pilot:
            await pilot.press("f2")
            pane = app.query_one(ModelsPane)
            deadline = time.monotonic() + 10
            while len(pane.query_one(LibraryTable).shown) < 4:
                if time.monotonic() > deadline:
                    raise SystemExit("the model list never appeared")
                await pilot.pause(0.05)
            await pilot.press("/")
            watch = FrameWatch(app)
            await pilot.pause(0.3)

            results.append(("idle", await measure(app, watch, samples, rng), 0.0))
            for name in ("mistral:7b", "gemma3:4b"):
                pane.start_pull(name)
                deadline = time.monotonic() + 10
                while not any(j.name == name and j.bytes_done > 0 for j in pane.pulls.jobs()):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the pull of {name} never started")
                    await asyncio.sleep(0.05)
                before, t0 = events_received(pane), time.perf_counter()
                latencies = await measure(app, watch, samples, rng)
                rate = (events_received(pane) - before) / (time.perf_counter() - t0)
                running = sum(1 for j in pane.pulls.jobs() if j.state == "running")
                if running < (1 if name == "mistral:7b" else 2):
                    print(f"warning: a pull ended during the measurement ({running} running)", file=sys.stderr)
                label = "1 pull" if name == "mistral:7b" else "2 pulls"
                results.append((label, latencies, rate))
            await pane.pulls.aclose()
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=150, help="key presses per scenario")
    ap.add_argument("--size", default="100x30", help="terminal size, COLSxROWS")
    ap.add_argument("--pull-rate", type=float, default=40e6,
                    help="bytes/s per pull (slow enough that the pulls outlast the measurement)")
    ap.add_argument("--tick", type=float, default=0.01, help="seconds between progress lines (0.01 = 100/s)")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.lower().split("x"))
    results = asyncio.run(run(args.samples, (cols, rows), args.pull_rate, args.tick))
    print(f"$ uv run python benchmarks/pull_input_latency.py --samples {args.samples} --size {args.size} "
          f"--pull-rate {args.pull_rate:g} --tick {args.tick:g}")
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} CPUs · terminal {cols}x{rows} (headless)")
    print(f"{'scenario':<9} {'events/s':>9} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'n':>5}")
    for label, values, rate in results:
        print(f"{label:<9} {rate:>9.0f} {statistics.median(values):>10.1f} {percentile(values, 95):>8.1f} "
              f"{max(values):>8.1f} {len(values):>5}")


if __name__ == "__main__":
    main()
