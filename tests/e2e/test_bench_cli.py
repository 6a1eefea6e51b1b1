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


def test_a_model_name_with_escapes_is_echoed_as_text(sim, tmp_path, files):
    result = bench("--host", sim.url, "--models", "x\x1b]0;pwned\x07\u202e", "--db", files["db"], home=tmp_path)
    assert result.returncode == 1 and "not installed" in result.stderr
    assert "x␛]0;pwned␇⟨U+202E⟩" in result.stderr
    assert not any(ch in result.stderr for ch in "\x1b\x07\u202e")


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


OA_MODEL = "meta-llama/Llama-3.1-8B-Instruct"


@pytest.fixture
def vllm(tmp_path, files):
    """An OpenAI-compatible simulator as the configured host `vllm` (issue 17)."""
    from tui.simulator.openai import OpenAISimulator

    with OpenAISimulator(api_key="sk-cli", token_rate=0) as server:
        with open(files["config"], "a") as config:
            config.write(f'\n[hosts.vllm]\nurl = "{server.url}/v1"\nkind = "openai"\napi_key = "sk-cli"\n')
        yield server


def test_name_at_host_benchmarks_an_openai_model_beside_an_ollama_one(sim, vllm, tmp_path, files):
    out_json = tmp_path / "r.json"
    result = bench("--host", sim.url, "--models", f"{FAST},{OA_MODEL}@vllm", "--prompts", files["prompts"],
                   "--repeats", "2", "--preset", "tiny", "--config", files["config"], "--db", files["db"],
                   "--json", str(out_json), home=tmp_path)

    assert result.returncode == 0, result.stderr
    remote = f"{OA_MODEL} @ vllm"
    data = json.loads(out_json.read_text())
    assert {m["model"] for m in data["models"]} == {FAST, remote}
    assert data["hosts"][remote] == {"host": "vllm", "kind": "openai", "model": OA_MODEL}
    summary = next(m for m in data["models"] if m["model"] == remote)
    assert summary["runs"] == 2 and summary["cold_load_s"] is None
    assert summary["metrics"]["tokens_per_s"]["median"] > 0  # timed on the client's clock
    assert summary["metrics"]["load_s"]["median"] is None and summary["metrics"]["prompt_per_s"]["median"] is None
    row = next(line for line in result.stdout.splitlines() if line.startswith(remote))
    assert row.count("–") >= 3  # prompt tok/s, load, cold load: not reported by such a server
    bodies = vllm.chat_requests()
    assert len(bodies) == 3 and {b["model"] for b in bodies} == {OA_MODEL}  # warm-up + 2; no unload
    with sqlite3.connect(files["db"]) as db:
        [(settings,)] = db.execute("SELECT settings FROM bench_runs").fetchall()
    assert json.loads(settings)["hosts"][remote]["host"] == "vllm"


def test_a_model_missing_on_the_openai_host_names_that_host(sim, vllm, tmp_path, files):
    result = bench("--host", sim.url, "--models", f"{FAST},nosuch@vllm", "--config", files["config"],
                   "--db", files["db"], home=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not installed on vllm" in result.stderr and "nosuch" in result.stderr
    assert "ollama pull" not in result.stderr
    assert vllm.chat_requests() == []
