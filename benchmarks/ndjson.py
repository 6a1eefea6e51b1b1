"""Cost of reading a streamed chat reply in the client alone (no UI): µs per NDJSON line.

A loopback server in a child process (so it does not share this process's GIL) answers
`POST /api/chat` with N prebuilt chat chunk lines (~130 bytes each, like Ollama's), chunked, as
fast as the socket takes them. This process runs `OllamaClient.chat(...)` over them and times
the loop from the request to the `done` chunk: HTTP, the NDJSON split, json parsing and the
ChatChunk objects.

    uv run python benchmarks/ndjson.py [--lines 20000] [--runs 7]

Prints the median, min and max µs per line over the runs: wall time, and this process's CPU time
(the steadier of the two on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def body(lines: int) -> bytes:
    out = []
    for i in range(lines):
        out.append(json.dumps({
            "model": "llama3.2", "created_at": "2026-12-03T08:00:00.000000Z",
            "message": {"role": "assistant", "content": f" word{i % 97}"}, "done": False,
        }, separators=(",", ":")).encode() + b"\n")
    out.append(b'{"model":"llama3.2","created_at":"2026-12-03T08:00:01Z","message":{"role":"assistant",'
               b'"content":""},"done":true,"done_reason":"stop","eval_count":%d}\n' % lines)
    data = b"".join(out)
    chunks = []  # 16 lines per HTTP chunk, roughly what a fast local model's writes coalesce to
    step = 16 * 130
    for start in range(0, len(data), step):
        part = data[start:start + step]
        chunks.append(b"%x\r\n%s\r\n" % (len(part), part))
    return b"".join(chunks) + b"0\r\n\r\n"


def serve(lines: int) -> None:
    payload = body(lines)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    srv = socket.create_server(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{srv.getsockname()[1]}", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    got = conn.recv(65536)
                    if not got:
                        break
                    buf += got
                if b"\r\n\r\n" not in buf:
                    break
                head_end = buf.index(b"\r\n\r\n") + 4
                length = 0
                for line in buf[:head_end].split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(buf) < head_end + length:
                    buf += conn.recv(65536)
                buf = buf[head_end + length:]
                conn.sendall(head + payload)


async def measure(url: str, runs: int, lines: int) -> tuple[list[float], list[float]]:
    from tui.service.ollama import OllamaClient

    times, cpus = [], []
    async with OllamaClient(url) as client:
        for _ in range(runs + 1):  # the first warms up the pool and the imports
            start, cpu = time.perf_counter(), time.process_time()
            count = 0
            async for chunk in client.chat("llama3.2", [{"role": "user", "content": "hi"}]):
                count += 1
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            assert count == lines + 1, count
    return times[1:], cpus[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(args.lines)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        times, cpus = asyncio.run(measure(url, args.runs, args.lines))
    finally:
        proc.kill()
        proc.wait()
    print(f"ndjson: {args.lines} chat lines x {args.runs} runs")
    for name, values in (("wall", times), ("client CPU", cpus)):
        per_line = [t / (args.lines + 1) * 1e6 for t in values]
        print(f"  {name} µs per line: median {statistics.median(per_line):.2f}, "
              f"min {min(per_line):.2f}, max {max(per_line):.2f}")


if __name__ == "__main__":
    main()
