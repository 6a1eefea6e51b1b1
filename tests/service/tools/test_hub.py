"""ToolHub against a real MCP server (tests/tools/mcp_server.py) run as a subprocess over stdio."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.waiting import wait_sync
from tui.service.config.model import McpServerConfig
from tui.service.tools import ToolHub

SERVER = str(Path(__file__).resolve().parents[2] / "tools" / "mcp_server.py")


def calc(name: str = "calc", pidfile: Path | None = None, **kw: object) -> McpServerConfig:
    env = {"MCP_TEST_PIDFILE": str(pidfile)} if pidfile else {}
    return McpServerConfig(name=name, command=sys.executable, args=(SERVER,), env=env, **kw)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_start_list_call_and_stop_only_what_was_started(tmp_path: Path) -> None:
    states: list[tuple[str, str]] = []
    used, unused = tmp_path / "used.pid", tmp_path / "unused.pid"
    hub = ToolHub({"calc": calc(pidfile=used), "spare": calc("spare", pidfile=unused, enabled=False)},
                  timeout=5, on_state=lambda s: states.append((s.name, s.state)))
    assert hub.servers["calc"].state == "not started" and not used.exists()  # started when needed
    tools = await hub.tools()
    assert [t.name for t in tools] == ["add", "echo", "fail", "slow", "crash"]
    add = tools[0].to_ollama()
    assert add["type"] == "function" and add["function"]["name"] == "add"
    assert set(add["function"]["parameters"]["properties"]) == {"a", "b"}
    assert add["function"]["description"] == "Add two integers."
    outcome = await hub.call("add", {"a": 2, "b": 3})
    assert (outcome.text, outcome.kind) == ("5", "ok")
    pid = int(used.read_text())
    assert alive(pid) and not unused.exists()  # the disabled server was never started
    await hub.aclose()
    assert not alive(pid)
    assert ("calc", "running") in states and ("spare", "running") not in states


async def test_tool_error_and_timeout_are_outcomes(tmp_path: Path) -> None:
    hub = ToolHub({"calc": calc()}, timeout=1)
    try:
        await hub.tools()
        failed = await hub.call("fail", {})
        assert failed.kind == "error" and "failed on purpose" in failed.text
        slow = await hub.call("slow", {}, timeout=1)
        assert slow.kind == "timeout" and "timed out" in slow.text
        assert (await hub.call("add", {"a": 1, "b": 1})).text == "2"  # the server goes on
        missing = await hub.call("nope", {})
        assert missing.kind == "failed"
    finally:
        await hub.aclose()


async def test_crash_mid_call_fails_the_server_not_the_hub(tmp_path: Path) -> None:
    states: list[str] = []
    hub = ToolHub({"calc": calc()}, timeout=5, on_state=lambda s: states.append(s.label))
    try:
        await hub.tools()
        outcome = await hub.call("crash", {})
        assert outcome.kind == "failed" and "stopped during the call" in outcome.text
        assert hub.servers["calc"].state == "failed"
        assert any(label.startswith("failed: stopped during a call") for label in states)
        assert await hub.tools() == []  # a failed server offers nothing; it is not restarted
        assert (await hub.restart("calc")).state == "running"
        assert (await hub.call("add", {"a": 1, "b": 2})).text == "3"
    finally:
        await hub.aclose()


async def test_a_server_that_dies_between_calls_is_failed_at_once(tmp_path: Path) -> None:
    import signal

    from tests.waiting import wait_until

    states: list[str] = []
    pidfile = tmp_path / "calc.pid"
    hub = ToolHub({"calc": calc(pidfile=pidfile)}, timeout=5, on_state=lambda s: states.append(s.label))
    try:
        await hub.tools()
        os.kill(int(pidfile.read_text()), signal.SIGKILL)  # no call under way
        await wait_until(lambda: hub.servers["calc"].state == "failed", timeout=10)
        assert hub.servers["calc"].label == "failed: stopped" and states[-1] == "failed: stopped"
        assert (await hub.call("add", {"a": 1, "b": 2})).kind == "failed"
        assert states.count("failed: stopped") == 1  # said once
        assert (await hub.restart("calc")).state == "running"
        assert (await hub.call("add", {"a": 1, "b": 2})).text == "3"
    finally:
        await hub.aclose()


async def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    hub = ToolHub({"gone": McpServerConfig(name="gone", command=str(tmp_path / "no-such-program")),
                   "dies": McpServerConfig(name="dies", command=sys.executable,
                                           args=("-c", "import sys; sys.stderr.write('bad token\\n'); sys.exit(2)")),
                   "calc": calc()}, timeout=5)
    try:
        tools = await hub.tools()
        assert "add" in [t.name for t in tools]  # the others go on
        assert hub.servers["gone"].label.startswith("failed: ")
        assert "no-such-program" in hub.servers["gone"].reason
        assert hub.servers["dies"].state == "failed"
    finally:
        await hub.aclose()


async def test_switched_off_server_and_tool_are_not_offered() -> None:
    hub = ToolHub({"calc": calc()}, timeout=5)
    try:
        hub.set_tool_off("slow", True)
        assert "slow" not in [t.name for t in await hub.tools()]
        hub.set_server_off("calc", True)
        assert await hub.tools() == [] and not hub.configured
    finally:
        await hub.aclose()


@pytest.mark.parametrize("text", ["x" * 10])
def test_outcome_is_error(text: str) -> None:
    from tui.service.tools import ToolOutcome

    assert ToolOutcome(text, "timeout").is_error and not ToolOutcome(text).is_error


def test_the_sdk_is_not_imported_until_a_server_starts(tmp_path: Path) -> None:
    import subprocess

    config = tmp_path / "config.toml"
    config.write_text(f'[mcp.servers.calc]\ncommand = "{sys.executable}"\nargs = ["{SERVER}"]\n', encoding="utf-8")
    code = ("import sys; from pathlib import Path; import tui.app; from tui.service.config import ConfigStore; "
            "from tui.service.services import Services; s = ConfigStore(Path(sys.argv[1])); s.load(); "
            "services = Services.build(s, 'http://127.0.0.1:9', db_path=Path(sys.argv[2])); "
            "assert list(services.tools.servers) == ['calc']; "
            "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))")
    out = subprocess.run([sys.executable, "-c", code, str(config), str(tmp_path / "h.db")],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


async def test_a_url_server_over_streamable_http_with_headers(tmp_path: Path) -> None:
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                return False
            return True

        wait_sync(listening, 20, 0.1, what="the HTTP MCP server to come up")
        hub = ToolHub({"web": McpServerConfig(name="web", url=f"http://127.0.0.1:{port}/mcp",
                                              headers={"Authorization": "Bearer T0KEN"})}, timeout=5)
        try:
            assert "add" in [t.name for t in await hub.tools()]
            assert (await hub.call("add", {"a": 20, "b": 22})).text == "42"
            assert (await hub.call("whoami", {})).text == "Bearer T0KEN"
        finally:
            await hub.aclose()
        assert proc.poll() is None  # a url server is not ours to stop
    finally:
        proc.terminate()
        proc.wait(10)
