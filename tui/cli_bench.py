"""`ollama-tui bench`: the in-app benchmark, headless, for scripts and cron on a GPU box."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.service.bench import BenchPlan, BenchResult
    from tui.service.bench.runner import VramProbe
    from tui.service.bench.stats import Measurement
    from tui.service.config import Config
    from tui.service.providers import HostRegistry

PROG = "ollama-tui bench"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Benchmark installed models: a warm-up (and a cold load after an unload), then every "
        "prompt N times per model with a fixed seed. Progress goes to stderr, the results table to "
        "stdout; the run is saved in the history database like one started in the app.",
        epilog="Exit status: 0 done, 1 server down / model missing / a model without one good run, "
        "2 bad arguments, 130 interrupted (what was measured is still saved and printed).",
    )
    parser.add_argument("--models", required=True,
                        help="comma-separated model names, e.g. llama3.2,qwen3:8b; NAME@HOST runs NAME on the "
                        "configured [hosts.HOST] (an OpenAI-compatible server too), e.g. "
                        "llama3.2,meta-llama/Llama-3.1-8B-Instruct@vllm")
    parser.add_argument("--prompts", default="short",
                        help="built-in set (short, long, code), a text file (one prompt per line) "
                        "or a TOML file (prompts = [...]); default: short")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each prompt per model (default 3)")
    parser.add_argument("--preset", help="preset for the options (default: [chat] default_preset)")
    parser.add_argument("--seed", type=int, default=42, help="fixed seed sent with every request (default 42)")
    parser.add_argument("--no-cold", action="store_true",
                        help="do not unload the models first (no cold-load measurement)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON")
    parser.add_argument("--csv", type=Path, metavar="OUT", help="write the results as CSV")
    parser.add_argument("--md", type=Path, metavar="OUT", help="write the results as Markdown")
    parser.add_argument("--host", help="server for models without @HOST: a URL or the name of a configured "
                        "[hosts.NAME] (default: $OLLAMA_HOST, then the config)")
    parser.add_argument("--config", type=Path, help="config file (for presets and the host)")
    parser.add_argument("--db", type=Path, help="history database the run is saved in")
    return parser


def _fail(message: str, code: int = 1) -> int:
    """Every message to the terminal inert: it may quote a server's words or a name typed with escapes."""
    from tui.service.untrusted import inert

    print(f"{PROG}: {inert(message)}", file=sys.stderr)
    return code


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from tui.service.bench import BenchPlan, preset_options
    from tui.service.bench.prompts import PromptSetError, load_prompts
    from tui.service.config import ConfigStore
    from tui.service.hosts import resolve_host
    from tui.service.paths import default_config_path

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if not models:
        return _fail("--models names no model", 2)
    if args.repeats < 1:
        return _fail("--repeats must be at least 1", 2)
    config, _issues = ConfigStore(args.config or default_config_path()).load()
    try:
        host = args.host if args.host in config.hosts else resolve_host(args.host, os.environ, config.server.host)
        options = preset_options(config, args.preset, args.seed)
        prompts = load_prompts(args.prompts)
    except (ValueError, PromptSetError) as exc:
        return _fail(str(exc), 2)
    registry = _registry(config, host)
    models = tuple(_ref(m, registry) for m in models)
    plan = BenchPlan(models, tuple(prompts), repeats=args.repeats, options=options,
                     preset=args.preset or config.chat.default_preset,
                     prompt_set=args.prompts if args.prompts in ("short", "long", "code") else Path(args.prompts).name,
                     cold=not args.no_cold)
    try:
        return asyncio.run(_bench(args, registry, plan))
    except KeyboardInterrupt:
        return 130


def _registry(config: Config, host: str) -> HostRegistry:
    """The hosts the config names, `host` (a URL or one of those names) current."""
    from tui.service.providers import Host, HostRegistry, provider_factory
    from tui.service.services import configured_hosts

    server = config.server
    named = host in config.hosts
    known = configured_hosts(config, None if named else Host.at(host, headers=server.headers))
    start = next(h for h in known if (h.name == host if named else h.url == host))
    factory = provider_factory(connect_timeout=server.connect_timeout, request_timeout=server.request_timeout,
                               retries=server.retries)
    return HostRegistry(start, factory, known=known)


def _ref(model: str, registry: HostRegistry) -> str:
    """`name@host` (a configured host) as the run's reference; any other name as it is."""
    from tui.service.bench.hosts import model_ref, split_ref

    current = registry.host.name
    host, name = split_ref(model, registry.known, current, sep="@")
    return model_ref(name, host, current)


async def _bench(args: argparse.Namespace, registry: HostRegistry, plan: BenchPlan) -> int:
    from tui.service.bench import BenchmarkRun, missing_models
    from tui.service.bench.hosts import ModelHosts
    from tui.service.ollama.errors import OllamaError

    hosts = ModelHosts(registry, plan.models)
    try:
        try:
            await hosts.open()
        except (OllamaError, ValueError) as exc:  # a configured host the client cannot be made for
            return _fail(str(exc))
        by_host: dict[str, list[str]] = {}
        for ref in plan.models:
            by_host.setdefault(hosts.host(ref).name, []).append(ref)
        for refs in by_host.values():
            provider, _name = hosts(refs[0])
            host = hosts.host(refs[0])
            where = host.url if host.name == host.url else f"{host.name} ({host.url})"
            try:
                missing = await missing_models(provider, [hosts(r)[1] for r in refs])
            except OllamaError as exc:
                return _fail(f"{host.name}: {exc}" if host.name != host.url else str(exc))
            if missing:
                names = ", ".join(missing)
                hint = f" (pull with `ollama pull {missing[0]}`)" if host.kind == "ollama" else ""
                return _fail(f"not installed on {where}: {names}{hint}")

        def progress(done: int, total: int, label: str) -> None:
            print(f"[{done}/{total}] {label}", file=sys.stderr, flush=True)

        def measured(_index: int, m: Measurement) -> None:
            rate = f"{m.tokens_per_s:.1f} tok/s" if m.tokens_per_s is not None else m.status
            ttft = f", first token {m.ttft_s:.2f} s" if m.ttft_s is not None else ""
            error = f": {m.error}" if m.error else ""
            print(f"[{run.done}/{run.total}] {m.model} · {m.kind} prompt {m.prompt_index + 1}"
                  f" repeat {m.repeat + 1}: {rate}{ttft}{error}", file=sys.stderr, flush=True)

        run = BenchmarkRun(registry.provider, plan, on_measurement=measured, vram_probe=_nvml_probe(),
                           provider_for=hosts)
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, run.cancel)
        except (NotImplementedError, RuntimeError):
            pass
        try:
            result = await run.run()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
    finally:
        await hosts.aclose()
        await registry.aclose()
    return await _report(args, result)


async def _report(args: argparse.Namespace, result: BenchResult) -> int:
    from tui.service.bench.export import text_table, write_export

    await _save(args, result)
    print(text_table(result), flush=True)
    for fmt in ("json", "csv", "md"):
        path = getattr(args, fmt)
        if path is not None:
            try:
                write_export(result, path, fmt)
            except OSError as exc:
                return _fail(f"cannot write {path}: {exc}")
    if result.status == "cancelled":
        return _fail("interrupted; the runs so far are above and saved", 130)
    failed = [s.model for s in result.summaries() if s.runs == 0]
    if failed:
        return _fail(f"no successful run for {', '.join(failed)}")
    return 0


async def _save(args: argparse.Namespace, result: BenchResult) -> None:
    from tui.service.bench.store import BenchStore
    from tui.service.history import HistoryError, HistoryStore
    from tui.service.paths import default_db_path

    try:
        history = await HistoryStore.open(args.db or default_db_path())
    except HistoryError as exc:
        print(f"{PROG}: the run is not saved: {exc}", file=sys.stderr)
        return
    try:
        run_id = await BenchStore(history).save(result)
        print(f"saved as run #{run_id} (reopen it in the app: Ctrl+P → Bench: saved runs)", file=sys.stderr)
    finally:
        await history.close()


def _nvml_probe() -> VramProbe:
    """Reads used VRAM through NVML in a thread; None when there is no NVIDIA GPU."""
    from tui.service.bench import vram_in_use
    from tui.service.monitor.gpu import NvmlBackend

    backend = NvmlBackend()

    async def probe() -> int | None:
        return vram_in_use(await asyncio.to_thread(backend.sample))

    return probe
