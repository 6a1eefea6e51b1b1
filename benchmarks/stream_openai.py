"""Streaming a reply over the OpenAI-compatible path (issue 17): the chat figures of
benchmarks/stream.py with the app on an `openai` host (tui/simulator/openai.py: Server-Sent
Events through httpx-sse and the bounded reader) instead of the Ollama simulator.

Part 1: a ~4,000-token Markdown reply at full speed (Enter -> last word, app CPU, bytes to the
terminal, RSS). Part 2: 2,000-token replies at 100 (and, with --rates, other) tokens/s: the lag
from the last token leaving the simulator (time-stamped by `term.Proxy`) to it being on screen,
and the app's CPU % during the stream. stream.py's own run functions measure; the only change
is the app's terminal: a fresh HOME whose config names the simulator (or the proxy in front of
it) as `[hosts.vllm] kind = "openai"`, and `--host=vllm`.

    uv run python benchmarks/stream_openai.py [--runs 5] [--parts 1,2] [--rates 100,1000] [--same-text]

Targets (the Ollama path's): Enter -> last word <= 1.5 s; CPU <= 1.5 s; <= 150 KB; RSS <= 120 MB;
lag <= 50 ms at 100 tok/s (<= 100 ms at 1,000); CPU <= 20 % of a core at 100 tok/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import stream  # noqa: E402
from benchmarks.term import (  # noqa: E402
    AppTerm,
    Proxy,
    add_machine_args,
    attempt,
    command_line,
    load_note,
    machine,
    table,
    wait_for_quiet_machine,
)
from benchmarks.textgen import markdown_reply  # noqa: E402
from tui.simulator.openai import OpenAISimulator  # noqa: E402

HOST = "vllm"
KEY = "sk-bench"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"


class OpenAITerm(AppTerm):
    """The app in a pty on the OpenAI-compatible server at `host` (a [hosts.vllm] table in its
    config; no [server] host, so nothing else is asked)."""

    def __init__(self, args: Sequence[str] = (), *, host: str | None = None, **kw: Any) -> None:
        super().__init__(args, **kw)
        config = self.home / ".config" / "ollama-tui" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'[hosts.{HOST}]\nurl = "{host}/v1"\nkind = "openai"\napi_key = "{KEY}"\n')
        config.chmod(0o600)
        self.args = [f"--host={HOST}", f"--model={MODEL}", *self.args]


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def count(text: str) -> int:
    """Tokens as the simulator counts them in `usage` (what the chat's stats line shows)."""
    return len(OpenAISimulator.tokens(text))


def reply_of(tokens: int, seed: int, final: str) -> str:
    """benchmarks/textgen.py's Markdown reply, long enough to make `tokens` SSE events: the
    OpenAI simulator sends a word per event, the Ollama one splits finer (so this text is
    longer than stream.py's for the same count)."""
    size = tokens
    text = markdown_reply(size, seed=seed, final=final)
    while count(text) < tokens:
        size = int(size * tokens / count(text)) + 1
        text = markdown_reply(size, seed=seed, final=final)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--parts", default="1,2", help="1: 4,000 tokens at full speed; 2: streams at --rates")
    ap.add_argument("--rates", default="100", help="tokens/s of part 2, comma-separated (default 100)")
    ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--rate-tokens", type=int, default=2000)
    ap.add_argument("--same-text", action="store_true",
                    help="part 1 sends stream.py's very text (fewer SSE events: a word each) instead of "
                    "a text long enough for --tokens events")
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    add_machine_args(ap)
    args = ap.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    stream.AppTerm = OpenAITerm  # stream.reply_run starts the app through this name
    print(f"# {command_line()}\n# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine()}  (OpenAI-compatible path)")
    out: dict[str, list[dict[str, float]]] = {}
    rows = []

    if 1 in parts:
        final = "ZEBRAFINAL"
        text = (markdown_reply(args.tokens, seed=1, final=final) if args.same_text
                else reply_of(args.tokens, seed=1, final=final))
        n = count(text)
        print(f"  reply: {n} tokens (SSE events), {len(text)} chars, {text.count('```') // 2} code blocks")
        runs = []
        with OpenAISimulator(api_key=KEY, token_rate=0, reply=text) as sim:
            for i in range(args.runs):
                wait_for_quiet_machine(args.max_others, args.wait)
                r = attempt(stream.reply_run, sim.url, final, n)
                runs.append(r)
                print(f"  full speed run {i + 1}: {stream.show(r)}", flush=True)
        out["full"] = runs
        rows += stream.full_speed_rows(runs, n)

    if 2 in parts:
        for rate in (float(r) for r in args.rates.split(",")):
            runs = []
            with OpenAISimulator(api_key=KEY, token_rate=rate) as sim:
                for i in range(args.runs):
                    final = f"ZEBRAFINAL{int(rate)}X{i}"
                    text = reply_of(args.rate_tokens, seed=2, final=final)
                    n = count(text)
                    sim.reply = text
                    wait_for_quiet_machine(args.max_others, args.wait)
                    proxy = Proxy(port_of(sim.url))
                    try:
                        r = attempt(stream.reply_run, sim.url, final, n, proxy)
                    finally:
                        proxy.close()
                    runs.append(r)
                    print(f"  {rate:.0f} tok/s run {i + 1}: {stream.show(r)}", flush=True)
            out[f"rate{rate:.0f}"] = runs
            rows += stream.rate_rows(runs, n, rate)

    print(table(rows, f"stream over the OpenAI-compatible path, {args.runs} runs each"))
    print(load_note())
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
