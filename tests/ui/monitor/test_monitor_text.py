"""The Monitor's pure parts: fixed-scale sparklines, changed spans, the strip's variants, texts."""

from __future__ import annotations

import pytest

from tui.service.monitor.gpu import GpuProcess, GpuReport, GpuSample
from tui.service.monitor.history import PsModel
from tui.service.monitor.host import HostSample
from tui.service.monitor.procs import NO_OLLAMA, OllamaProcs, ProcInfo
from tui.ui.monitor import text as t
from tui.ui.monitor.widgets import BARS, bucket_size, changed_span, spark_text

GiB = 1024**3


# --------------------------------------------------------------------------- sparkline


def test_flat_fifty_percent_is_half_height_not_zero():
    """Textual's Sparkline scales to the data: a flat line would sit at the bottom."""
    bars = spark_text([50.0] * 10, last_seq=10, width=10, capacity=10)
    assert bars == BARS[4] * 10
    assert spark_text([0.0] * 3, 3, 3, capacity=3) == BARS[0] * 3
    assert spark_text([100.0] * 3, 3, 3, capacity=3) == BARS[-1] * 3


def test_values_outside_the_scale_are_clamped_and_gaps_stay_blank():
    bars = spark_text([-5.0, 150.0, None, float("nan"), 25.0], 5, 5, capacity=5)
    assert bars == BARS[0] + BARS[-1] + "  " + BARS[2]


def test_short_history_is_right_aligned():
    assert spark_text([100.0, 100.0], last_seq=2, width=5, capacity=5) == "   " + BARS[-1] * 2


def test_columns_are_fixed_groups_so_only_the_last_one_moves_between_boundaries():
    capacity, width = 12, 4  # 3 samples per column
    assert bucket_size(capacity, width) == 3
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 10.0, 0.0]  # samples 1..10
    before = spark_text(values, last_seq=10, width=width, capacity=capacity)
    after = spark_text(values[1:] + [100.0], last_seq=11, width=width, capacity=capacity)
    # samples 9, 10, 11 share the last column: only that column changed
    assert before[:-1] == after[:-1] and before[-1] != after[-1]
    # sample 12 opens a new group: everything moves one column left
    shifted = spark_text(values[2:] + [100.0, 0.0], last_seq=12, width=width, capacity=capacity)
    assert shifted[:-1] == after[1:]
    # each column shows the peak of its group
    assert spark_text([10.0, 90.0, 10.0], 5, 1, capacity=3) == BARS[7]  # samples 3, 4, 5


def test_custom_scale():
    assert spark_text([175.0], 1, 1, capacity=1, hi=350.0) == BARS[4]


@pytest.mark.parametrize(("old", "new", "span"), [
    ("abc", "abc", None),
    ("CPU 12%", "CPU 13%", (5, 6)),
    ("9%", "10%", (0, 3)),
    ("10%", "9%", (0, 3)),
    ("x 1 y", "x 2 y", (2, 3)),
    ("模型 1", "模型 2", (0, 6)),  # wide characters: the whole line
])
def test_changed_span(old, new, span):
    assert changed_span(old, new) == span


# --------------------------------------------------------------------------- strip


def host(cpu=12.0, ram=46.0) -> HostSample:
    return HostSample(0.0, cpu, (cpu, cpu), (0.5, 0.4, 0.3), int(7.2 * GiB), int(15.6 * GiB), 0, ram,
                      0, 0, 0.0, "/m", 1, 2, 1, 50.0, 10.0, 20.0)


def gpu(index=0, util=55.0, used=int(14.7 * GiB), total=24 * GiB, error=None) -> GpuSample:
    return GpuSample(index, "G", None, util, used, total, 60.0, 100.0, 300.0, 40.0, (), error)


LEVELS = {"cpu": 90.0, "ram": 90.0, "vram": 90.0, "gpu_temp": 85.0}


def test_strip_picks_the_longest_variant_that_fits():
    report = GpuReport(True, None, (gpu(),))
    wide = t.line_text(t.strip_line(host(), report, LEVELS, 120))
    assert wide == "GPU 55% · VRAM 61% 14.7/24.0 GiB · CPU 12% · RAM 46% 7.2/15.6 GiB"
    narrow = t.line_text(t.strip_line(host(), report, LEVELS, 40))
    assert narrow == "GPU 55% · VRAM 61% · CPU 12% · RAM 46%"
    two = GpuReport(True, None, (gpu(0), gpu(1, util=5.0)))
    text = t.line_text(t.strip_line(host(), two, LEVELS, 78))
    assert len(text) <= 78 and "GPU0" in text and "GPU1 5%" in text


def test_strip_marks_values_over_their_level_with_text_and_style():
    line = t.strip_line(host(cpu=95.0), GpuReport(True, None, (gpu(used=23 * GiB),)), LEVELS, 120)
    text = t.line_text(line)
    assert "CPU ⚠ 95%" in text and "VRAM ⚠ 96%" in text
    assert ("⚠ 95%", t.WARN) in line


def test_strip_without_gpu_or_host_readings():
    text = t.line_text(t.strip_line(None, GpuReport(False, "no NVIDIA driver", ()), LEVELS, 80, paused=True))
    assert text == "‖ paused · GPU none · CPU N/A · RAM N/A"


def test_per_gpu_level_overrides_the_metric_level():
    assert t.level_for({"vram": 90.0, "vram:1": 50.0}, "vram", 1) == 50.0
    assert t.level_for({"vram": 90.0, "vram:1": 50.0}, "vram", 0) == 90.0


# --------------------------------------------------------------------------- texts


def test_no_gpu_text():
    assert t.no_gpu_text(GpuReport(False, "no NVIDIA GPU found", ()), False) == "no NVIDIA GPU found"
    assert t.no_gpu_text(GpuReport(False, "no NVIDIA driver", ()), False) == "no NVIDIA GPU found: no NVIDIA driver"
    assert t.no_gpu_text(GpuReport(False, "GPU lost", ()), True).startswith("GPU unavailable: GPU lost")


def test_process_lines_name_the_ollama_runner():
    ollama = OllamaProcs(ProcInfo(10, "ollama", "server", 1.0, 1), (ProcInfo(11, "ollama", "runner", 1.0, 1),), "port")
    procs = (GpuProcess(11, "ollama", 3 * GiB), GpuProcess(12, "python\x1b[31m", GiB), GpuProcess(10, "ollama", None))
    g = GpuSample(0, "G", None, 1.0, 1, 2, 1.0, 1.0, 1.0, 1.0, procs)
    lines = [t.line_text(line) for line in t.gpu_process_lines(g, ollama)]
    assert "3.0 GiB" in lines[0] and lines[0].endswith("◆ Ollama runner")
    assert "python␛[31m" in lines[1] and "◆" not in lines[1]  # terminal controls made inert
    assert "N/A" in lines[2] and lines[2].endswith("◆ Ollama server")
    assert t.line_text(t.gpu_process_lines(gpu(error="GPU lost"), NO_OLLAMA)[0]) == "⚠ GPU lost: readings N/A"


def test_model_lines_show_the_vram_share():
    models = [PsModel("a:latest", 4_000_000_000, 4_000_000_000), PsModel("b", 10_000_000_000, 6_000_000_000),
              PsModel("c", 2_000_000_000, 0)]
    lines = [t.line_text(line) for line in t.model_lines(models)]
    assert "100% GPU (4.0 GB VRAM)" in lines[0]
    assert "60% GPU / 40% CPU (6.0 GB VRAM)" in lines[1]
    assert "100% CPU" in lines[2]
    assert t.line_text(t.models_summary(models, None, True)) == "3 models loaded"
    assert t.line_text(t.models_summary((), "server not reachable", True)) == "loaded models: server not reachable"


def test_ollama_server_text():
    assert t.ollama_server_text(NO_OLLAMA, None) == "remote server: its process is not on this machine"
    assert t.ollama_server_text(NO_OLLAMA, 11434) == "server process not found on this machine"


def test_cost_and_duration_texts():
    assert t.cost_text({"host": 0.002, "gpu": 0.001}) == "sample 3 ms: host 2 · gpu 1"
    assert t.duration_text(300) == "5 min" and t.duration_text(90) == "90 s"
