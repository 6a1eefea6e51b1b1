"""The simulator's long real-world model names: in the registry to pull, installed on request."""

from __future__ import annotations

import datetime as dt
import math

import httpx
import pytest

from tui.simulator import Simulator
from tui.simulator.catalogue import LONG_NAMED

FAST = {"token_rate": math.inf, "pull_rate": math.inf, "pull_tick": 0.001}
AT_START = {"llama3.2:latest", "llava:7b", "qwen3:8b", "nomic-embed-text:latest"}


def test_they_are_not_installed_at_start_but_can_be_pulled():
    with Simulator(**FAST) as sim, httpx.Client(base_url=sim.url, timeout=10) as client:
        assert set(sim.installed()) == AT_START
        with client.stream("POST", "/api/pull", json={"model": "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M"}) as r:
            assert r.status_code == 200
            assert '"status":"success"' in "".join(r.iter_lines()).replace(" ", "")
        assert "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M" in sim.installed()


def test_install_lists_them_with_their_own_age_and_details():
    with Simulator(**FAST) as sim:
        sim.install(*LONG_NAMED)
        models = {m["name"]: m for m in httpx.get(f"{sim.url}/api/tags").json()["models"]}
        assert set(models) == AT_START | set(LONG_NAMED)
        now = dt.datetime.now(dt.UTC)
        for name, days in LONG_NAMED.items():
            age = now - dt.datetime.fromisoformat(models[name]["modified_at"])
            assert abs(age.total_seconds() / 86400 - days) < 0.01
        coder = models["qwen2.5-coder:32b-instruct-q4_K_M"]
        assert coder["details"]["parameter_size"] == "32.8B" and coder["size"] > 19e9
        show = httpx.post(f"{sim.url}/api/show", json={"model": "qwen2.5-coder:7b"}).json()
        assert "insert" in show["capabilities"]


def test_install_refuses_a_name_the_registry_does_not_have():
    with Simulator(**FAST) as sim, pytest.raises(KeyError):
        sim.install("nobody/nothing:1b")
