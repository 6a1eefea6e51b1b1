"""Pull progress math: fold a stream of PullEvents into layers, bytes, percent, rate and ETA."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tui.service.units import format_size

if TYPE_CHECKING:
    from tui.service.ollama.types import PullEvent

Stage = Literal[
    "queued",
    "manifest",
    "downloading",
    "verifying",
    "writing manifest",
    "removing unused layers",
    "creating",
    "success",
    "error",
    "other",
]

# The smoothing constant of the rate's moving average: a sample's weight halves after about
# tau * ln 2 seconds, so the number settles within a few seconds and a hiccup does not jump it.
DEFAULT_RATE_TAU = 3.0
# Samples are taken over windows at least this long; Ollama reports every ~60 ms, and a rate over
# one 60 ms window mostly measures scheduling jitter.
DEFAULT_SAMPLE_INTERVAL = 0.5


@dataclass(frozen=True, slots=True)
class LayerProgress:
    """One blob of a pull. `done` is set when a later status shows the server moved on."""

    digest: str | None
    total: int | None
    completed: int
    done: bool = False
    # Bytes already on disk when this pull first reported the layer (a resumed or cached blob).
    initial: int = 0

    @property
    def cached(self) -> bool:
        """The blob was complete before this pull started (one `completed == total` line)."""
        return self.total is not None and self.total > 0 and self.initial >= self.total

    @property
    def resumed(self) -> bool:
        return self.initial > 0 and not self.cached


def _is_layer_status(status: str) -> bool:
    return status.startswith("pulling ") and status != "pulling manifest"


def _stage_for(status: str) -> Stage:
    s = status.lower()
    if s == "pulling manifest":
        return "manifest"
    if _is_layer_status(s):
        return "downloading"
    if s.startswith("verifying"):
        return "verifying"
    if s.startswith("writing manifest"):
        return "writing manifest"
    if s.startswith("removing") and "unused" in s:
        return "removing unused layers"
    if s == "success":
        return "success"
    if s.startswith(("using existing layer", "creating new layer", "using autodetected",
                     "parsing modelfile", "creating model", "reading model", "converting",
                     "quantizing", "copying")):
        return "creating"
    return "other"


class PullProgress:
    """Mutable fold of one pull (or create) stream; call `update` per event, `fail` on an error.

    Everything is reported over the layers *seen so far*: the server announces a layer only when
    it starts on it, so `bytes_total` may still grow until `total_known` (set once verifying or
    any later stage begins). `expected_total` / `expected_layers` are hints from an earlier
    attempt at the same model; they only feed `percent`, `eta` and `stage_text` until the real
    total is known.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        expected_total: int | None = None,
        expected_layers: int | None = None,
        rate_tau: float = DEFAULT_RATE_TAU,
        sample_interval: float = DEFAULT_SAMPLE_INTERVAL,
    ) -> None:
        self._clock = clock
        self.expected_total = expected_total
        self.expected_layers = expected_layers
        self._tau = rate_tau
        self._sample_interval = sample_interval

        self.stage: Stage = "queued"
        self.status: str = ""  # the server's last status text, verbatim
        self.error: str | None = None
        self.total_known = False
        self.event_count = 0
        self._layers: list[LayerProgress] = []
        self._index: dict[str, int] = {}  # layer key -> position in _layers
        self._current: int | None = None  # position of the layer being downloaded

        # rate state
        self.rate: float | None = None  # bytes/s, smoothed
        self._window_start: float | None = None
        self._window_bytes = 0
        self._now = 0.0

    # -- folding -------------------------------------------------------------------------------

    def update(self, event: PullEvent) -> None:
        now = self._now = self._clock()
        self.event_count += 1
        status = event.status or ""
        stage = _stage_for(status)
        if self.stage in ("success", "error"):
            return  # a finished fold ignores stragglers
        self.status = status
        gained = 0
        if stage == "downloading":
            gained = self._update_layer(status, event)
        else:
            gained = self._finish_current()
            if stage in ("verifying", "writing manifest", "removing unused layers", "success"):
                self.total_known = True
            if stage == "success":
                for i, layer in enumerate(self._layers):
                    if not layer.done:
                        self._layers[i] = _mark_done(layer)
        self.stage = stage
        self._account(now, gained)

    def fail(self, message: str) -> None:
        """The stream ended with an error (mid-stream `{"error": ...}`, a 4xx, a dropped link)."""
        self.error = message
        self.stage = "error"
        self.rate = None

    def _key(self, status: str, event: PullEvent) -> str:
        # Safetensors pulls report one aggregated "pulling model" line with no per-blob digest.
        return event.digest or status

    def _update_layer(self, status: str, event: PullEvent) -> int:
        key = self._key(status, event)
        completed = max(0, event.completed or 0)
        total = event.total if event.total and event.total > 0 else None
        gained = 0
        pos = self._index.get(key)
        if pos is None:
            gained += self._finish_current()
            layer = LayerProgress(digest=event.digest, total=total, completed=completed,
                                  initial=completed)
            if total is not None and completed > total:
                layer = LayerProgress(event.digest, total, total, initial=total)
            self._index[key] = len(self._layers)
            self._layers.append(layer)
            self._current = len(self._layers) - 1
            if not layer.cached and self._window_start is None:
                # Time spent on the manifest or on skipping cached blobs is not download time.
                self._start_window(self._now)
            # The bytes a layer starts with were downloaded before this pull: not counted in rate.
            return gained
        layer = self._layers[pos]
        if pos != self._current:
            # A straggler for a layer the server already moved past: it is done, and the
            # current layer must not be finished by it.
            return 0
        new_total = total if total is not None else layer.total
        if new_total is not None:
            completed = min(completed, new_total)
        new_completed = max(layer.completed, completed)
        gained += new_completed - layer.completed
        self._layers[pos] = LayerProgress(layer.digest, new_total, new_completed, layer.done,
                                          layer.initial)
        return gained

    def _finish_current(self) -> int:
        """The server moved on, so the current layer is complete (there is no 100 % line)."""
        if self._current is None:
            return 0
        pos, self._current = self._current, None
        layer = self._layers[pos]
        if layer.done:
            return 0
        done = _mark_done(layer)
        self._layers[pos] = done
        return done.completed - layer.completed

    def _start_window(self, now: float) -> None:
        self._window_start = now
        self._window_bytes = 0

    def _account(self, now: float, gained: int) -> None:
        if self._window_start is None:
            return
        self._window_bytes += gained
        elapsed = now - self._window_start
        # (a hair of slack so that a clock stepping by exact tenths still fills the window)
        if elapsed <= 0 or elapsed < self._sample_interval - 1e-9:
            return
        sample = self._window_bytes / elapsed
        if self.rate is None:
            self.rate = sample
        else:
            alpha = 1.0 - math.exp(-elapsed / self._tau)
            self.rate = alpha * sample + (1.0 - alpha) * self.rate
        self._window_start = now
        self._window_bytes = 0

    # -- read-outs -----------------------------------------------------------------------------

    @property
    def layers(self) -> tuple[LayerProgress, ...]:
        return tuple(self._layers)

    @property
    def layer_count(self) -> int:
        """Layers seen so far (the server announces each one only when it gets to it)."""
        return len(self._layers)

    @property
    def layer_index(self) -> int:
        """1-based position of the layer being downloaded (or the last one seen); 0 before any."""
        if self._current is not None:
            return self._current + 1
        return len(self._layers)

    @property
    def bytes_done(self) -> int:
        return sum(layer.completed for layer in self._layers)

    @property
    def bytes_total(self) -> int:
        """Sum of the totals of the layers seen so far (see `total_known`)."""
        return sum(layer.total or 0 for layer in self._layers)

    @property
    def resumed_bytes(self) -> int:
        """Bytes of partially downloaded layers that an earlier, interrupted pull left behind."""
        return sum(layer.initial for layer in self._layers if layer.resumed)

    @property
    def cached_bytes(self) -> int:
        """Bytes of layers that were already complete on the server before this pull."""
        return sum(layer.initial for layer in self._layers if layer.cached)

    @property
    def resumed(self) -> bool:
        return any(layer.resumed for layer in self._layers)

    @property
    def _best_total(self) -> int:
        seen = self.bytes_total
        if self.total_known or not self.expected_total:
            return seen
        return max(seen, self.expected_total)

    @property
    def percent(self) -> float | None:
        """0–100 over the best total known; None before any size is known."""
        if self.stage == "success":
            return 100.0
        total = self._best_total
        if total <= 0:
            return None
        return min(100.0, 100.0 * self.bytes_done / total)

    @property
    def remaining(self) -> int | None:
        total = self._best_total
        if total <= 0:
            return None
        return max(0, total - self.bytes_done)

    @property
    def eta(self) -> float | None:
        """Seconds left at the smoothed rate; None when the rate or the size is unknown or 0.

        Until `total_known` the remaining bytes are those of the layers seen so far (or of the
        `expected_total` hint), so an early ETA can be short by the layers still to come.
        """
        if self.stage in ("success", "error"):
            return None
        remaining = self.remaining
        if remaining is None or self.rate is None or self.rate <= 0:
            return None
        return remaining / self.rate

    @property
    def _known_layer_count(self) -> int | None:
        if self.total_known:
            return len(self._layers)
        if self.expected_layers and self.expected_layers >= len(self._layers):
            return self.expected_layers
        return None

    @property
    def stage_text(self) -> str:
        stage = self.stage
        if stage == "queued":
            return "queued"
        if stage == "manifest":
            return "pulling manifest"
        if stage == "downloading":
            pos = self.layer_index
            layer = self._layers[pos - 1] if pos else None
            if layer is not None and layer.digest is None and len(self._layers) == 1:
                what = "downloading model"
            else:
                n = self._known_layer_count
                what = f"downloading layer {pos} of {n}" if n else f"downloading layer {pos}"
            if layer is not None and layer.cached:
                return f"{what}: already present"
            if layer is not None and layer.resumed:
                return f"{what}, resuming from {format_size(layer.initial)}"
            return what
        if stage == "verifying":
            return "verifying sha256"
        if stage == "writing manifest":
            return "writing manifest"
        if stage == "removing unused layers":
            return "removing unused layers"
        if stage == "success":
            return "success"
        if stage == "error":
            return f"error: {self.error}" if self.error else "error"
        return self.status


def _mark_done(layer: LayerProgress) -> LayerProgress:
    completed = layer.total if layer.total is not None else layer.completed
    completed = max(completed, layer.completed)
    return LayerProgress(layer.digest, layer.total, completed, True, layer.initial)
