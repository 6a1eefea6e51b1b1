"""PullProgress on recorded event sequences: layers, bytes, percent, resume, rate and ETA."""

from __future__ import annotations

import pytest

from tui.service.ollama.types import PullEvent
from tui.service.pulls.progress import PullProgress
from tui.service.units import format_size

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def ev(status: str, digest: str | None = None, total: int | None = None,
       completed: int | None = None) -> PullEvent:
    return PullEvent(status=status, digest=digest, total=total, completed=completed)


def layer(digest: str, total: int, completed: int | None = None) -> PullEvent:
    return ev(f"pulling {digest[7:19]}", digest, total, completed)


# A fresh pull of a three-layer model, as the server streams it: no 100 % line per layer.
FRESH = [
    ev("pulling manifest"),
    layer(A, 1000),
    layer(A, 1000, 300),
    layer(A, 1000, 900),
    layer(B, 200),
    layer(B, 200, 100),
    layer(C, 50, 50),
    ev("verifying sha256 digest"),
    ev("writing manifest"),
    ev("success"),
]


def fold(events, **kw) -> PullProgress:
    p = PullProgress(**kw)
    for e in events:
        p.update(e)
    return p


def test_fresh_pull_layers_bytes_and_stages():
    p = PullProgress()
    assert p.stage == "queued" and p.percent is None
    seen: list[tuple[str, int, int, int, int]] = []
    for e in FRESH:
        p.update(e)
        seen.append((p.stage, p.layer_index, p.layer_count, p.bytes_done, p.bytes_total))
    assert seen[0] == ("manifest", 0, 0, 0, 0)
    assert seen[1] == ("downloading", 1, 1, 0, 1000)
    assert seen[3] == ("downloading", 1, 1, 900, 1000)
    # B appears: A counts as done although no 1000/1000 line ever came.
    assert seen[4] == ("downloading", 2, 2, 1000, 1200)
    assert seen[5] == ("downloading", 2, 2, 1100, 1200)
    assert seen[6][:3] == ("downloading", 3, 3)
    assert seen[7] == ("verifying", 3, 3, 1250, 1250)
    assert p.stage == "success" and p.percent == 100.0
    assert [(l.digest, l.total, l.completed, l.done) for l in p.layers] == [
        (A, 1000, 1000, True), (B, 200, 200, True), (C, 50, 50, True)]
    assert not p.resumed and p.resumed_bytes == 0
    # bytes done never went down
    done = [s[3] for s in seen]
    assert done == sorted(done)


def test_total_known_only_once_verifying_starts():
    p = PullProgress()
    for e in FRESH[:7]:
        p.update(e)
        assert not p.total_known
    p.update(FRESH[7])
    assert p.total_known


def test_percent_is_over_layers_seen_so_far():
    p = fold(FRESH[:3])
    assert p.percent == pytest.approx(30.0)
    p.update(layer(B, 1000))  # A done (1000) of 2000 seen
    assert p.percent == pytest.approx(50.0)


def test_stage_texts():
    p = PullProgress()
    texts = []
    for e in FRESH:
        p.update(e)
        texts.append(p.stage_text)
    assert texts[0] == "pulling manifest"
    assert texts[1] == "downloading layer 1"
    assert texts[4] == "downloading layer 2"
    assert texts[7] == "verifying sha256"
    assert texts[8] == "writing manifest"
    assert texts[9] == "success"


def test_expected_layers_hint_gives_k_of_n():
    p = fold(FRESH[:5], expected_layers=3, expected_total=1250)
    assert p.stage_text == "downloading layer 2 of 3"
    assert p.percent == pytest.approx(100 * 1000 / 1250)


def test_resume_first_line_already_has_bytes():
    events = [
        ev("pulling manifest"),
        layer(A, 2_000_000_000, 1_200_000_000),
        layer(A, 2_000_000_000, 1_300_000_000),
        layer(B, 200),
        ev("verifying sha256 digest"),
        ev("writing manifest"),
        ev("success"),
    ]
    p = fold(events[:2])
    assert p.resumed and p.resumed_bytes == 1_200_000_000
    assert p.bytes_done == 1_200_000_000
    assert p.stage_text == "downloading layer 1, resuming from 1.2 GB"
    p = fold(events)
    assert p.resumed and p.resumed_bytes == 1_200_000_000
    assert p.cached_bytes == 0
    assert p.stage == "success"


def test_up_to_date_repull_is_cached_not_resumed():
    events = [
        ev("pulling manifest"),
        layer(A, 1000, 1000),
        layer(B, 200, 200),
        layer(C, 50, 50),
        ev("verifying sha256 digest"),
        ev("writing manifest"),
        ev("success"),
    ]
    p = fold(events[:3])
    assert p.stage_text == "downloading layer 2: already present"
    assert p.bytes_done == 1200
    p = fold(events)
    assert not p.resumed and p.resumed_bytes == 0
    assert p.cached_bytes == 1250
    assert p.bytes_done == p.bytes_total == 1250
    assert all(l.cached for l in p.layers)


def test_repeated_and_regressing_events_never_decrease_bytes():
    events = [
        ev("pulling manifest"),
        layer(A, 1000, 500),
        layer(A, 1000, 500),
        layer(A, 1000, 400),  # out of order / stale
        layer(B, 100, 10),
        layer(A, 1000, 200),  # a straggler for a finished layer
        layer(B, 100, 20),
        layer(B, 100, 20),
    ]
    p = PullProgress()
    done = []
    for e in events:
        p.update(e)
        done.append(p.bytes_done)
    assert done == sorted(done)
    assert p.layer_count == 2
    assert p.layers[0].completed == 1000
    assert p.bytes_done == 1020


def test_completed_above_total_is_clamped():
    p = fold([layer(A, 100, 50), layer(A, 100, 150)])
    assert p.bytes_done == 100


def test_error_midway_keeps_progress():
    p = fold(FRESH[:5])
    p.fail("max retries exceeded: EOF")
    assert p.stage == "error"
    assert p.error == "max retries exceeded: EOF"
    assert p.stage_text == "error: max retries exceeded: EOF"
    assert p.bytes_done == 1000
    assert p.eta is None
    # stragglers after the end are ignored
    p.update(layer(B, 200, 150))
    assert p.stage == "error" and p.bytes_done == 1000


def test_unknown_model_error_after_manifest():
    p = fold([ev("pulling manifest")])
    p.fail("pull model manifest: file does not exist")
    assert p.stage == "error" and p.percent is None and p.layer_count == 0


def test_safetensors_single_aggregated_line():
    events = [
        ev("pulling manifest"),
        ev("pulling model", None, 8_000, None),
        ev("pulling model", None, 8_000, 4_000),
        ev("pulling model", None, 8_000, 8_000),
        ev("verifying sha256 digest"),
        ev("writing manifest"),
        ev("success"),
    ]
    p = fold(events[:3])
    assert p.layer_count == 1
    assert p.percent == pytest.approx(50.0)
    assert p.stage_text == "downloading model"
    p = fold(events)
    assert p.bytes_done == 8_000 and p.stage == "success"


def test_removing_unused_layers_stage():
    p = fold(FRESH[:-1] + [ev("removing unused layers")])
    assert p.stage == "removing unused layers"
    assert p.stage_text == "removing unused layers"


def test_create_statuses():
    p = fold([ev("using existing layer sha256:" + "a" * 64),
              ev("creating new layer sha256:" + "b" * 64)])
    assert p.stage == "creating"
    assert p.stage_text.startswith("creating new layer")
    p.update(ev("writing manifest"))
    p.update(ev("success"))
    assert p.stage == "success" and p.percent == 100.0


def test_unknown_status_is_shown_verbatim():
    p = fold([ev("pulling manifest"), ev("doing something new")])
    assert p.stage == "other"
    assert p.stage_text == "doing something new"


# -- rate and ETA -----------------------------------------------------------------------------


def test_rate_and_eta_with_injected_clock():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=0.5, rate_tau=1.0)
    p.update(ev("pulling manifest"))
    clock.advance(0.1)
    p.update(layer(A, 10_000_000))
    assert p.rate is None and p.eta is None
    # 1 MB/s, events every 0.1 s
    done = 0
    for _ in range(10):
        clock.advance(0.1)
        done += 100_000
        p.update(layer(A, 10_000_000, done))
    assert p.rate == pytest.approx(1_000_000, rel=0.01)
    assert p.eta == pytest.approx((10_000_000 - 1_000_000) / 1_000_000, rel=0.01)
    # the rate doubles: the average moves towards 2 MB/s, gradually
    for _ in range(5):
        clock.advance(0.1)
        done += 200_000
        p.update(layer(A, 10_000_000, done))
    assert 1_000_000 < p.rate < 2_000_000
    for _ in range(100):
        clock.advance(0.1)
        done += 20_000
        p.update(layer(A, 10_000_000, done))
    # 10 s at 200 kB/s with tau = 1 s: settled
    assert p.rate == pytest.approx(200_000, rel=0.01)


def test_rate_ignores_the_resumed_jump():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=0.5)
    p.update(ev("pulling manifest"))
    clock.advance(0.1)
    p.update(layer(A, 10_000_000_000, 5_000_000_000))  # 5 GB already on disk
    done = 5_000_000_000
    for _ in range(10):
        clock.advance(0.1)
        done += 100_000
        p.update(layer(A, 10_000_000_000, done))
    assert p.rate == pytest.approx(1_000_000, rel=0.01)


def test_rate_ignores_cached_layers():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=0.5)
    p.update(ev("pulling manifest"))
    clock.advance(0.1)
    p.update(layer(A, 4_000_000_000, 4_000_000_000))  # already present
    clock.advance(0.1)
    p.update(layer(B, 10_000_000))
    done = 0
    for _ in range(10):
        clock.advance(0.1)
        done += 100_000
        p.update(layer(B, 10_000_000, done))
    assert p.rate == pytest.approx(1_000_000, rel=0.01)


def test_rate_counts_the_unreported_tail_of_a_layer():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=1.0)
    p.update(layer(A, 1_000_000))
    clock.advance(0.5)
    p.update(layer(A, 1_000_000, 500_000))
    clock.advance(0.5)
    p.update(layer(B, 1_000_000))  # A's last 500 kB arrived without a line of its own
    assert p.rate == pytest.approx(1_000_000)


def test_eta_none_when_rate_zero_or_unknown():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=0.5)
    p.update(layer(A, 1_000_000, 1))
    for _ in range(10):
        clock.advance(0.1)
        p.update(layer(A, 1_000_000, 1))
    assert p.rate == 0
    assert p.eta is None


def test_stall_decays_the_rate():
    clock = FakeClock()
    p = PullProgress(clock=clock, sample_interval=0.5, rate_tau=1.0)
    p.update(layer(A, 100_000_000))
    done = 0
    for _ in range(20):
        clock.advance(0.1)
        done += 100_000
        p.update(layer(A, 100_000_000, done))
    before = p.rate
    for _ in range(20):
        clock.advance(0.1)
        p.update(layer(A, 100_000_000, done))
    assert p.rate < before * 0.2


def test_format_helpers():
    assert format_size(1_200_000_000) == "1.2 GB"
    assert format_size(999) == "999 B"
    assert format_size(4_920_738_944) == "4.9 GB"
    assert format_size(640_000_000) == "640 MB"
