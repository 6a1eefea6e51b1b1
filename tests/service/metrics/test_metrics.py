"""Remote boxes' metrics from the exporters' real text shapes, served over HTTP on loopback by
tui/simulator/exporter.py: dcgm-exporter GPUs, node_exporter CPU/RAM, vLLM and llama.cpp load,
a Prometheus server's query API; failures say which endpoint and why."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tui.service.metrics.box import read_box
from tui.service.metrics.exposition import MetricsError, parse
from tui.service.metrics.reader import MetricsReader, promql_selector
from tui.simulator.exporter import Exporter, FakeGpu

MIB = 1024 * 1024


async def test_dcgm_exporter_gpus_come_out_with_units_converted():
    with Exporter(gpus=2) as exporter:
        exporter.state.gpus[1] = FakeGpu(1, util=87.0, used_mib=40000, temperature=71.0, power=612.25)
        reader = MetricsReader()
        try:
            box = await read_box(reader, [exporter.url + "/dcgm"])
        finally:
            await reader.aclose()
    assert box.errors == () and len(box.gpus) == 2
    idle, busy = box.gpus
    assert (idle.index, idle.util, idle.vram_used) == (0, 0.0, 0)
    assert busy.index == 1 and busy.util == 87.0 and busy.temperature == 71.0 and busy.power == 612.25
    assert busy.vram_used == 40000 * MIB and busy.vram_total == 81559 * MIB  # used + free + reserved
    assert busy.name == "NVIDIA H100 80GB HBM3" and busy.hostname == "gpu-node-1"
    assert busy.uuid.startswith("GPU-00000001") and round(busy.vram_percent, 1) == 49.0


async def test_node_exporter_cpu_is_a_rate_over_two_reads_and_memory_is_used_of_total():
    with Exporter(node=True) as exporter:
        exporter.state.cpu_busy_share = 0.4
        reader = MetricsReader()
        try:
            first = await read_box(reader, [exporter.url + "/node"])
            await asyncio.sleep(0.05)  # the counters advance with time (two CPUs)
            second = await read_box(reader, [exporter.url + "/node"], previous=first)
        finally:
            await reader.aclose()
    assert first.node is not None and first.node.cpu_percent is None  # a rate needs two reads
    assert second.node.cpu_percent == pytest.approx(40.0, abs=0.5)
    assert second.node.mem_used == 56 * 1024**3 and second.node.mem_total == 256 * 1024**3
    assert second.node.load1 == 0.8


@pytest.mark.parametrize("engine", ["vllm", "llama.cpp"])
async def test_serving_engine_load_and_token_rates_from_its_counters(engine):
    with Exporter(serving=engine, node=False) as exporter:
        s = exporter.state
        s.running, s.waiting, s.kv_cache, s.prompt_tokens, s.generated_tokens = 3, 2, 0.42, 1000.0, 5000.0
        reader = MetricsReader()
        try:
            first = await read_box(reader, [exporter.url + "/serving"])
            s.prompt_tokens, s.generated_tokens = 1500.0, 6000.0
            await asyncio.sleep(0.1)
            second = await read_box(reader, [exporter.url + "/serving"], previous=first)
        finally:
            await reader.aclose()
    stats = second.serving
    assert stats.engine == engine and (stats.running, stats.waiting, stats.kv_cache) == (3, 2, 0.42)
    seconds = stats.at - first.serving.at
    assert stats.generation_rate == pytest.approx(1000.0 / seconds)
    assert stats.prompt_rate == pytest.approx(500.0 / seconds)
    assert first.serving.generation_rate is None


async def test_a_prometheus_server_is_asked_for_one_box_by_its_labels():
    with Exporter(gpus=1, hostname="gpu-a") as exporter:
        reader = MetricsReader()
        try:
            mine = await read_box(reader, [], prometheus=exporter.url, matchers={"Hostname": "gpu-a"})
            other = await read_box(reader, [], prometheus=exporter.url, matchers={"Hostname": "gpu-b"})
        finally:
            await reader.aclose()
    assert [g.hostname for g in mine.gpus] == ["gpu-a"] and mine.node is not None
    assert other.gpus == ()
    assert promql_selector(["A_B", "vllm:x"], {"Hostname": 'a"b'}) == '{__name__=~"A_B|vllm:x",Hostname="a\\"b"}'


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_each_failing_endpoint_is_named_and_the_others_still_count():
    with Exporter(gpus=1) as good, Exporter(gpus=1) as broken, Exporter(gpus=1) as stuck:
        broken.state.status = 500
        stuck.state.hang = True
        dead = f"http://user:secret@127.0.0.1:{_closed_port()}/metrics"
        reader = MetricsReader(timeout=0.5)
        try:
            box = await read_box(reader, [good.url + "/dcgm", broken.url + "/dcgm", stuck.url + "/dcgm", dead])
        finally:
            await reader.aclose()
    assert len(box.gpus) == 1
    errors = "\n".join(box.errors)
    assert len(box.errors) == 3
    assert f"{broken.url}/dcgm: HTTP 500 exporter failure" in errors
    assert f"{stuck.url}/dcgm: no answer within 0.5 s" in errors
    assert "secret" not in errors and "127.0.0.1" in errors


async def test_not_prometheus_text_and_too_large_pages_are_refused_in_words():
    with pytest.raises(MetricsError, match="not Prometheus text"):
        parse("<html>login</html>\n{{{")
    with Exporter(gpus=8) as exporter:
        reader = MetricsReader(max_body=1000)
        try:
            with pytest.raises(MetricsError, match="more than 1000 B; not read"):
                await reader.read(exporter.url + "/dcgm")
        finally:
            await reader.aclose()


async def test_hostile_labels_are_made_inert_where_they_enter():
    with Exporter(gpus=1, serving="vllm", hostile="\x1b]52;c;cHduZWQ=\x07\u202e[/]") as exporter:
        reader = MetricsReader()
        try:
            samples = await reader.read(exporter.url + "/metrics")
        finally:
            await reader.aclose()
    values = [v for s in samples for v in s.labels.values()]
    assert any("␛]52;c;cHduZWQ=␇⟨U+202E⟩[/]" in v for v in values)
    assert not any(ch in v for v in values for ch in ("\x1b", "\x07", "\u202e"))


def test_an_unchanged_line_of_the_previous_page_is_not_parsed_again(monkeypatch):
    """The reader remembers each endpoint's last page (its sample lines, parsed): the next page's
    unchanged lines (a GPU's labels, memory, temperature) come from it; only the changed ones go
    through prometheus_client, and the samples are what a full parse gives, in page order."""
    import prometheus_client.parser as pp

    from tui.service.metrics.box import BOX_NAMES
    from tui.service.metrics.exposition import parse_lines, sample_lines

    exporter = Exporter(gpus=2, serving="vllm")
    first = sample_lines(exporter.text("/metrics"), BOX_NAMES)
    exporter.state.gpus[1].util, exporter.state.generated_tokens = 55.0, 1234.0
    second = sample_lines(exporter.text("/metrics"), BOX_NAMES)
    changed = [line for line in second if line not in first]
    assert 0 < len(changed) < len(second) // 2  # the util line, the counters, the node's CPU seconds

    calls = []
    original = pp._parse_sample
    monkeypatch.setattr(pp, "_parse_sample", lambda line: calls.append(line) or original(line))
    _samples, memo = parse_lines(first)
    assert len(calls) == len(first)
    calls.clear()
    again, memo = parse_lines(second, memo)
    assert calls == changed
    assert again == parse("\n".join(second) + "\n")  # what a full parse of the page's lines gives
    assert next(s.value for s in again if s.name == "DCGM_FI_DEV_GPU_UTIL" and s.label("gpu") == "1") == 55.0
    assert set(memo) == set(second)  # the memo holds this page only
    with pytest.raises(MetricsError, match="not Prometheus text"):
        parse_lines([*second, "DCGM_FI_DEV_GPU_UTIL{gpu=0 broken"], memo)
