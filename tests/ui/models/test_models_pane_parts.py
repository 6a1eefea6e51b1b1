"""Models pane parts without an app: sorting, filtering, badges, parameters, the row's progress."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tui.service.ollama.types import ModelDetails, ModelInfo, PullEvent, RunningModel
from tui.service.pulls import PullJob
from tui.service.pulls.progress import PullProgress
from tui.ui.models.create_form import check_request, parse_parameters
from tui.ui.models.library import (
    ago,
    arrange,
    badges,
    cell,
    column_needs,
    fit_columns,
    name_cell,
    parameter_count,
    row_texts,
    table_width,
)
from tui.ui.models.pull_rows import PullRow, ShownProgress, bar, layer_line
from tui.ui.models.running import expires_in, gpu_share

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def info(name: str, size: int, params: str, quant: str, family: str, days: float) -> ModelInfo:
    return ModelInfo(name=name, size=size, modified_at=NOW - timedelta(days=days),
                     details=ModelDetails(family=family, parameter_size=params, quantization_level=quant))


MODELS = [
    info("qwen3:8b", 5_200_000_000, "8.2B", "Q4_K_M", "qwen3", 5),
    info("nomic-embed-text:latest", 274_000_000, "137M", "F16", "nomic-bert", 41),
    info("llama3.2:latest", 2_000_000_000, "3.2B", "Q4_K_M", "llama", 2),
    info("Big:70b", 40_000_000_000, "70.6B", "Q4_0", "llama", 90),
]


def order(column: str, reverse: bool = False, needle: str = "") -> list[str]:
    return [m.name for m in arrange(MODELS, column, reverse, needle)]


def test_sort_every_column():
    assert order("name") == ["Big:70b", "llama3.2:latest", "nomic-embed-text:latest", "qwen3:8b"]
    assert order("size") == ["nomic-embed-text:latest", "llama3.2:latest", "qwen3:8b", "Big:70b"]
    assert order("params", reverse=True) == ["Big:70b", "qwen3:8b", "llama3.2:latest", "nomic-embed-text:latest"]
    assert order("quant") == ["nomic-embed-text:latest", "Big:70b", "llama3.2:latest", "qwen3:8b"]  # ties by name
    assert order("family") == ["Big:70b", "llama3.2:latest", "nomic-embed-text:latest", "qwen3:8b"]
    assert order("modified", reverse=True) == ["llama3.2:latest", "qwen3:8b", "nomic-embed-text:latest", "Big:70b"]


def test_filter_matches_name_family_and_quant_case_insensitively():
    assert order("name", needle="LLAMA") == ["Big:70b", "llama3.2:latest"]
    assert order("name", needle="f16") == ["nomic-embed-text:latest"]
    assert order("name", needle="  ") == order("name")
    assert order("name", needle="nothing") == []


@pytest.mark.parametrize("text, value", [("8.2B", 8.2e9), ("137M", 137e6), ("1.5T", 1.5e12), ("7B", 7e9),
                                         ("", 0.0), ("weird", 0.0)])
def test_parameter_count(text, value):
    assert parameter_count(text) == pytest.approx(value)


def test_ago():
    assert ago(NOW - timedelta(seconds=30), NOW) == "30s ago"
    assert ago(NOW - timedelta(hours=3), NOW) == "3h ago"
    assert ago(NOW - timedelta(days=12), NOW) == "12d ago"
    assert ago(NOW - timedelta(days=400), NOW) == "2024-04-27"
    assert ago(None) == "?"


def test_badges_are_words_in_a_stable_order():
    assert badges(("vision", "completion", "tools")) == "[completion] [tools] [vision]"
    assert badges(("completion", "newthing")) == "[completion] [newthing]"
    assert badges(()) == ""


def test_cells_are_literal_and_cut_with_an_ellipsis():
    text = cell("[bold]not markup[/bold]\x1b[31m")
    assert text.plain.startswith("[bold]not markup[/bold]") and "\x1b" not in text.plain
    assert text.overflow == "ellipsis" and text.no_wrap


def test_gpu_share_and_expiry():
    m = RunningModel(name="x", size=1000, size_vram=780, expires_at=NOW + timedelta(minutes=4, seconds=59))
    assert gpu_share(m) == "78%"
    assert gpu_share(replace(m, size_vram=1000)) == "100%"
    assert gpu_share(replace(m, size_vram=0)) == "0% (CPU)"
    assert gpu_share(replace(m, size=0)) == "?"
    assert expires_in(m, NOW) == "4m 59s"
    assert expires_in(replace(m, expires_at=NOW + timedelta(days=365 * 200)), NOW) == "forever"
    assert expires_in(replace(m, expires_at=NOW - timedelta(seconds=1)), NOW) == "now"


def test_parse_parameters():
    assert parse_parameters("temperature=0.7\n\n# a comment\nnum_ctx = 8192\nstop=<|end|>\nstop=\"###\"\n"
                            "use_mmap=false") == {
        "temperature": 0.7, "num_ctx": 8192, "stop": ["<|end|>", "###"], "use_mmap": False}
    assert parse_parameters("") == {}
    for text, reason in (("temperature 0.7", "line 1: expected key=value"),
                         ("mirostat=1", "unknown parameter 'mirostat'"),
                         ("num_ctx=big", "num_ctx must be a whole number"),
                         ("top_p=", "top_p has no value"),
                         ("seed=1\nseed=2", "line 2: seed is set twice"),
                         ("use_mmap=yes", "use_mmap must be true or false")):
        with pytest.raises(ValueError, match=reason):
            parse_parameters(text)


def test_check_request_names_each_problem():
    assert check_request("bad name", "llama3.2", "")[1] == "new name: model contains an invalid character ' '"
    assert check_request("good", "", "")[1] == "base model: give the model to start from"
    assert "unknown parameter" in check_request("good", "llama3.2", "foo=1")[1]
    request, error = check_request(" good ", "llama3.2", "top_k=20")
    assert error is None and request.name == "good" and request.parameters == {"top_k": 20}


def test_bar():
    assert bar(0.5, 10) == ("█████", "░░░░░")
    assert bar(None, 4) == ("", "░░░░")
    assert bar(2.0, 3) == ("███", "")
    assert bar(0.5, -3) == ("", "")


# -- the row's progress over recorded pull streams ------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def job_from(progress: PullProgress, state: str = "running") -> PullJob:
    return PullJob(id=1, name="m", kind="pull", state=state, stage=progress.stage, stage_text=progress.stage_text,
                   percent=progress.percent, bytes_done=progress.bytes_done, bytes_total=progress.bytes_total,
                   total_known=progress.total_known, rate=progress.rate, eta=progress.eta,
                   layers=progress.layers, layer_index=progress.layer_index, layer_count=progress.layer_count,
                   resumed=progress.resumed, resumed_bytes=progress.resumed_bytes)


def replay(events: list[PullEvent]) -> list[float | None]:
    clock = Clock()
    progress = PullProgress(clock=clock)
    shown = ShownProgress()
    out = []
    for event in events:
        clock.now += 0.06
        progress.update(event)
        state = "success" if progress.stage == "success" else "running"
        out.append(shown.update(job_from(progress, state)))
    return out


def layer(digest: str, total: int, step: int, start: int = 0) -> list[PullEvent]:
    events = [PullEvent(f"pulling {digest}", f"sha256:{digest}", total, start or None)]
    done = start
    while done < total:
        done = min(total, done + step)
        events.append(PullEvent(f"pulling {digest}", f"sha256:{digest}", total, done))
    return events


def test_shown_progress_never_goes_back_and_keeps_moving_when_a_layer_appears():
    # weights, then a projector worth 15 % of the whole: done/total drops from 100 % to 85 %
    events = ([PullEvent("pulling manifest")] + layer("aa", 850, 50) + layer("bb", 150, 10)
              + layer("cc", 1, 1) + [PullEvent("verifying sha256 digest"), PullEvent("writing manifest"),
                                      PullEvent("success")])
    shown = replay(events)
    values = [s for s in shown if s is not None]
    assert values == sorted(values)
    assert values[-1] == 1.0 and max(values[:-1]) < 1.0
    # during the projector the bar still moves (it is not frozen until done/total catches up)
    projector = [s for s, e in zip(shown, events) if e.digest == "sha256:bb"]
    assert len(set(projector)) > 5


def test_shown_progress_of_a_resumed_pull_starts_where_it_stopped():
    shown = replay(layer("aa", 1000, 100, start=400))
    assert shown[0] == pytest.approx(0.4 * ShownProgress.SHARE)
    assert shown == sorted(shown)


def test_layer_lines():
    progress = PullProgress(clock=Clock())
    for event in layer("aa", 1000, 500, start=500)[:1] + layer("bb", 10, 10):
        progress.update(event)
    first, second = progress.layers
    assert layer_line(1, 2, first, False) == "layer 1/2 aa  100%  1.0 kB / 1.0 kB  done (resumed from 500 B)"
    assert layer_line(2, 2, second, True) == "layer 2/2 bb  100%  10 B / 10 B  downloading"


def test_columns_fit_the_names_first_then_drop_family_then_modified():
    long = info("hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", 2_000_000_000, "3.2B", "Q4_K_M", "llama", 3)
    needs = column_needs([row_texts(m) for m in [*MODELS, long]], "name")
    assert needs["name"] == len(long.name) and needs["family"] == len("nomic-bert")
    full = table_width(needs)
    assert list(fit_columns(full, needs)) == ["name", "size", "params", "quant", "family", "modified"]
    assert fit_columns(full + 30, needs)["name"] == len(long.name) + 30  # the name takes what is left
    assert list(fit_columns(full - 1, needs)) == ["name", "size", "params", "quant", "modified"]
    narrow = fit_columns(full - needs["family"] - 3, needs)
    assert list(narrow) == ["name", "size", "params", "quant"]
    assert narrow["name"] >= len(long.name)  # still whole
    assert fit_columns(60, needs)["name"] < len(long.name)  # cut (the tag kept: name_cell)
    assert str(name_cell(long.name, 20)).endswith("GGUF:Q4_K_M")


def test_a_column_is_as_wide_as_its_widest_cell_up_to_its_cap():
    odd = info("x:1", 1, "1B", "Q4_K_M", "a-family-name-far-too-long", 1)
    needs = column_needs([row_texts(odd)], "family")
    assert needs["family"] == 12  # capped: the cell ends in "…"
    assert needs["params"] == len("Params")
    assert column_needs([row_texts(odd)], "params")["params"] == len("Params ▲")


def test_a_row_on_another_host_names_it_and_keeps_it_when_the_name_is_cut():
    job = replace(job_from(PullProgress(clock=Clock())), name="llama3.2", host="gpu\x1b2")
    assert "llama3.2 @ gpu␛2  " in str(PullRow(job).lines(80)[0])  # the host's name made inert
    long = replace(job, name="hf.co/someone/" + "x" * 60 + ":Q4_K_M")
    first = str(PullRow(long).lines(80)[0])
    assert "⇣ hf.co/someone/xxx… @ gpu␛2  ░" in first and len(first) <= 80
    assert "update llama3.2 @ gpu␛2" in str(PullRow(job, update_check=True).lines(80)[0])
