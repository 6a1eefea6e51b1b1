"""`ollama-tui bench` as a script runs it: a subprocess against the simulator over HTTP."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys

import pytest

FAST, SLOW = "llama3.2", "llava:7b"


def bench(*args: str, home) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "bench", *args], capture_output=True, text=True,
                          timeout=60, env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def files(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[presets.tiny]\nnum_predict = 20\ntemperature = 0.1\n")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# one short prompt\nWhy is the sky blue?\n")
    return {"config": str(config), "prompts": str(prompts), "db": str(tmp_path / "h.db")}


def test_two_models_at_different_speeds_come_out_in_order(sim, tmp_path, files):
    sim.set_model_rate(FAST, 400)
    sim.set_model_rate(SLOW, 100)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    result = bench("--host", sim.url, "--models", f"{SLOW},{FAST}", "--prompts", files["prompts"],
                   "--repeats", "2", "--preset", "tiny", "--config", files["config"], "--db", files["db"],
                   "--json", str(out_json), "--csv", str(out_csv), home=tmp_path)

    assert result.returncode == 0, result.stderr
    data = json.loads(out_json.read_text())
    assert [m["model"] for m in data["models"]] == [FAST, SLOW]
    assert data["models"][0]["metrics"]["tokens_per_s"]["median"] == pytest.approx(400, rel=0.05)
    assert data["models"][1]["metrics"]["tokens_per_s"]["median"] == pytest.approx(100, rel=0.05)
    assert data["settings"]["preset"] == "tiny" and data["settings"]["options"]["seed"] == 42
    assert out_csv.read_text().splitlines()[1].startswith(f"{FAST},2,0,")
    # a progress line per run on stderr, the table on stdout (fastest first)
    assert result.stderr.count(" tok/s") == 6  # 2 models × (cold warm-up + 2 repeats)
    table = result.stdout.splitlines()
    assert table[0].startswith("Model") and table[2].startswith(FAST) and table[3].startswith(SLOW)
    # every request carried the preset and the fixed seed
    bodies = [b for _m, p, b in sim.requests if p == "/api/chat" and b and b.get("messages")]
    assert len(bodies) == 6 and all(b["options"] == {"num_predict": 20, "temperature": 0.1, "seed": 42}
                                    for b in bodies)
    # stored like a run from the app
    with sqlite3.connect(files["db"]) as db:
        assert db.execute("SELECT kind, status FROM bench_runs").fetchall() == [("benchmark", "complete")]
        assert db.execute("SELECT COUNT(*) FROM bench_measurements").fetchone()[0] == 6


def test_a_missing_model_fails_with_a_clear_message(sim, tmp_path, files):
    result = bench("--host", sim.url, "--models", f"{FAST},nosuch:7b", "--db", files["db"], home=tmp_path)
    assert result.returncode == 1
    assert "nosuch:7b" in result.stderr and "not installed" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not [p for _m, p, _b in sim.requests if p == "/api/chat"]  # nothing was run


def test_a_server_that_is_down_fails_with_a_clear_message(tmp_path, files):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = bench("--host", f"http://127.0.0.1:{port}", "--models", FAST, "--db", files["db"], home=tmp_path)
    assert result.returncode == 1
    assert "not reachable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--models", FAST, "--prompts", "nope.txt"], "no prompt file"),
    (["--models", FAST, "--preset", "nope"], "no preset"),
    (["--models", " , "], "names no model"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    result = bench("--host", "http://127.0.0.1:9", *args, home=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_the_app_still_starts_without_a_subcommand_and_help_mentions_bench(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui", "--help"], capture_output=True, text=True, timeout=30,
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "--demo" in result.stdout and "ollama-tui bench" in result.stdout
    assert "--models" in bench("--help", home=tmp_path).stdout
