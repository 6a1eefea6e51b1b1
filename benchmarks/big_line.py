"""Memory when a server sends too much: one 400 MB NDJSON line, a 400 MB /api/tags body.

A loopback server in a child process (its memory is not ours) answers
  - `POST /api/chat` with two normal chunk lines, then one line of 400 MB (chunked),
  - `GET /api/tags` with a 400 MB body, once announced by Content-Length, once chunked,
written in 1 MiB pieces as fast as the socket takes them. This process runs the real
`OllamaClient` against each and prints the error the user would see, the partial reply kept,
how long it took, and the peak RSS of this process (ru_maxrss: the high-water mark since start).

    uv run python benchmarks/big_line.py [--mb 400]

Target: peak RSS under 150 MB (before the limits, the 400 MB line took the app to ~1 GB).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIECE = 1024 * 1024


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1024 * 1024)


def serve(total: int) -> None:
    srv = socket.create_server(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{srv.getsockname()[1]}", flush=True)
    filler = b"x" * PIECE
    chunk = b"%x\r\n%s\r\n" % (PIECE, filler)
    while True:
        conn, _ = srv.accept()
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                got = conn.recv(65536)
                if not got:
                    raise ConnectionError
                head += got
            path = head.split(b" ", 2)[1]
            if path == b"/api/chat":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
                start = (b'{"model":"m","message":{"role":"assistant","content":"Paris "},"done":false}\n'
                         b'{"model":"m","message":{"role":"assistant","content":"is "},"done":false}\n'
                         b'{"model":"m","message":{"role":"assistant","content":"')
                conn.sendall(b"%x\r\n%s\r\n" % (len(start), start))
                for _ in range(total // PIECE):
                    conn.sendall(chunk)
                conn.sendall(b'7\r\n"}}\r\n\r\n0\r\n\r\n')
            elif path == b"/api/tags?length":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total)
                for _ in range(total // PIECE):
                    conn.sendall(filler)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                conn.sendall(b'b\r\n{"models":[\r\n')
                for _ in range(total // PIECE):
                    conn.sendall(chunk)
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()


async def run(url: str) -> None:
    from tui.service.ollama import OllamaClient
    from tui.service.ollama import errors as errors

    async def chat(client: OllamaClient) -> str:
        got = []
        try:
            async for c in client.chat("m", [{"role": "user", "content": "hi"}]):
                got.append(c.content)
        except errors.StreamError as exc:
            return f"{type(exc).__name__}: {exc} (partial reply kept: {exc.partial!r})"
        return f"no error ({sum(map(len, got))} characters)"

    async def tags(client: OllamaClient, by_length: bool) -> str:
        try:  # the public call for the chunked body; the length one needs the query string
            models = await (client.transport.request_json("GET", "/api/tags?length") if by_length else client.tags())
        except errors.OllamaError as exc:
            return f"{type(exc).__name__}: {exc}"
        return f"no error ({len(models)})"

    async with OllamaClient(url, retries=0, request_timeout=120) as client:
        client.warm_up()
        print(f"RSS after start-up: {rss_now_mb():.0f} MB (peak so far {rss_peak_mb():.0f} MB)")
        for name, call in (("/api/chat, one 400 MB line", chat(client)),
                           ("/api/tags, 400 MB by Content-Length", tags(client, True)),
                           ("/api/tags, 400 MB chunked", tags(client, False))):
            started = time.perf_counter()
            shown = await call
            print(f"{name}: {time.perf_counter() - started:.2f} s, peak RSS {rss_peak_mb():.0f} MB\n    {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=400, help="size of the line / body in MiB")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(args.mb * PIECE)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        asyncio.run(run(url))
    finally:
        proc.kill()
        proc.wait()
    peak = rss_peak_mb()
    print(f"peak RSS of the client process: {peak:.0f} MB (target < 150 MB): {'PASS' if peak < 150 else 'FAIL'}")


if __name__ == "__main__":
    main()
