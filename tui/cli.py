"""Command line: `ollama-tui [--host URL|NAME] [--model NAME] [--config PATH] [--db PATH] [--theme NAME] [--demo]
[--log-level LEVEL]`,
and `ollama-tui bench …` (cli_bench.py)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from tui import __version__

LOG_LEVELS = ("debug", "info", "warning", "error")  # tui.service.logs.LEVELS, without its import


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ollama-tui",
        description="Chat with, manage and monitor your Ollama models from the terminal.",
        epilog="Host order: --host, then $OLLAMA_HOST, then [server] host in the config, "
        "then http://127.0.0.1:11434. --host also takes the name of a [hosts.<name>] table. Headless benchmark: `ollama-tui bench --help`.",
    )
    parser.add_argument("--host", help="server: host, host:port, :port, http(s)://host[:port], or the name of "
                        "a configured [hosts.<name>] (a name wins when it matches)")
    parser.add_argument("--model", help="model for new chat sessions (default: [chat] default_model)")
    parser.add_argument("--config", type=Path, help="config file (default: $OLLAMA_TUI_CONFIG or "
                        "$XDG_CONFIG_HOME/ollama-tui/config.toml)")
    parser.add_argument("--db", type=Path, help="history database (default: $OLLAMA_TUI_DB or "
                        "$XDG_DATA_HOME/ollama-tui/history.sqlite3)")
    parser.add_argument("--theme", help="theme name (ollama-dark, ollama-light, high-contrast, term-256, …)")
    parser.add_argument("--demo", action="store_true",
                        help="start the built-in Ollama simulator and connect to it (no Ollama needed)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, type=str.lower, metavar="LEVEL",
                        help="how much the log file ($XDG_STATE_HOME/ollama-tui/ollama-tui.log) records: "
                        "debug, info, warning or error (default: [ui] log_level, warning)")
    parser.add_argument("--version", action="version", version=f"ollama-tui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # a subcommand; every other command line starts the app as before
        from tui.cli_bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)

    from tui.service.config import ConfigStore
    from tui.service.paths import default_config_path

    store = ConfigStore(args.config or default_config_path())
    config, issues = store.load()
    from tui.service import logs

    # The flag wins over the config. Set up here too (the App sets up its own, counted), so a
    # failure before the app runs or after it ends is logged as well.
    logs.setup(args.log_level or config.ui.log_level, secrets=config.secret_values())
    try:
        return _run(args, store, config, issues)
    except Exception:
        logging.getLogger("tui.cli").exception("ollama-tui stopped on an unexpected error")
        raise
    finally:
        logs.teardown()


def configured_name(flag: str | None, config) -> str | None:
    """`--host NAME` naming a [hosts.<name>] table (a name wins over a host name it matches)."""
    if flag is None:
        return None
    name = flag.strip()
    return name if name in config.hosts else None


def _run(args: argparse.Namespace, store, config, issues) -> int:
    from tui.service.hosts import resolve_host
    from tui.service.paths import default_db_path

    simulator = server = None
    if args.demo:
        from tui.simulator import Simulator

        simulator = Simulator(token_rate=60.0, pull_rate=40e6).start()
        simulator.preload("llama3.2")  # the Monitor and the status line have a model to show
        host = simulator.url
    elif configured_name(args.host, config) is not None:
        host = configured_name(args.host, config)  # Services.build picks that host
    else:
        try:
            host = resolve_host(args.host, os.environ, config.server.host)
        except ValueError as exc:
            print(f"ollama-tui: {exc}", file=sys.stderr)
            return 2
        from tui.service.autostart import can_auto_start, start_server

        executable = can_auto_start(host, config.server.auto_start)  # [server]'s only
        if executable and not _answers(host):
            server = start_server(executable, host)

    from tui.app import OllamaTUI
    from tui.service.services import Services

    services = Services.build(
        store, host,  # the client is made from [server]'s headers, timeouts and retries
        db_path=args.db or default_db_path(),
        default_model=args.model,
        gpu_backend=_demo_gpu() if args.demo else None,
    )
    app = OllamaTUI(
        services=services,
        theme=args.theme,
        demo=args.demo,
        config_issues=issues,
        log_level=args.log_level,
    )
    try:
        app.run()
    finally:
        if server is not None:
            server.stop()
        if simulator is not None:
            simulator.stop()
    return app.return_code or 0


def _demo_gpu():
    """The demo shows one simulated GPU, so the Monitor pane and the strip have something to draw."""
    from tui.service.monitor.gpu import FakeGpuBackend

    return FakeGpuBackend(1)


def _answers(host: str) -> bool:
    """A quick synchronous probe before the UI starts (only used to decide on auto-start)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(host)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=0.3):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
