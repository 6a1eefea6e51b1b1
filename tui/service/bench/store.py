"""Saved compare/benchmark/batch runs, kept in the history database (schema migration 2), with
the host each model ran on (`BenchResult.hosts`, inside the settings JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.service.bench import BenchResult
from tui.service.bench.stats import Measurement

if TYPE_CHECKING:
    from tui.service.history import HistoryStore

#: The settings key a run's hosts are saved under: {model reference: {"host", "kind", "model"}}.
HOSTS_KEY = "hosts"

_MEASUREMENT_COLUMNS = ("model", "prompt_index", "repeat", "kind", "status", "tokens_per_s", "ttft_s",
                        "prompt_per_s", "load_s", "total_s", "eval_count", "prompt_eval_count", "reply", "error")


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A line of the saved-runs list (without its measurements)."""

    id: int
    kind: str
    title: str
    status: str
    created_at: float
    models: tuple[str, ...]


class BenchStore:
    """Runs in the history database. Shares the HistoryStore's one connection and lock, so its
    writes queue with the chat's instead of fighting them for the file."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    async def save(self, result: BenchResult) -> int:
        """Insert the run (setting `result.id`) or rewrite it with its measurements as they are now."""
        # Where each model ran is kept with the settings (under HOSTS_KEY): no schema change.
        settings = {**result.settings, HOSTS_KEY: result.hosts} if result.hosts else result.settings
        row = (result.kind, result.title, result.status, result.created_at, json.dumps(result.models),
               json.dumps(result.prompts), json.dumps(settings, default=str), json.dumps(result.peak_vram))
        async with self.history._write() as db:
            if result.id is None:
                cur = await db.execute(
                    "INSERT INTO bench_runs (kind, title, status, created_at, models, prompts, settings, peak_vram)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                result.id = cur.lastrowid
            else:
                await db.execute(
                    "UPDATE bench_runs SET kind = ?, title = ?, status = ?, created_at = ?, models = ?, prompts = ?,"
                    " settings = ?, peak_vram = ? WHERE id = ?", (*row, result.id))
                await db.execute("DELETE FROM bench_measurements WHERE run_id = ?", (result.id,))
            placeholders = ", ".join("?" for _ in _MEASUREMENT_COLUMNS)
            await db.executemany(
                f"INSERT INTO bench_measurements (run_id, {', '.join(_MEASUREMENT_COLUMNS)}) VALUES (?, {placeholders})",
                [(result.id, *(getattr(m, c) for c in _MEASUREMENT_COLUMNS)) for m in result.measurements],
            )
        assert result.id is not None
        return result.id

    async def list_runs(self, limit: int = 200) -> list[SavedRun]:
        """Newest first."""
        async with self.history._read() as db:
            rows = await db.execute_fetchall(
                "SELECT id, kind, title, status, created_at, models FROM bench_runs"
                " ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
        return [SavedRun(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]))) for r in rows]

    async def load(self, run_id: int) -> BenchResult | None:
        async with self.history._read() as db:
            runs = list(await db.execute_fetchall(
                "SELECT kind, title, status, created_at, models, prompts, settings, peak_vram FROM bench_runs"
                " WHERE id = ?", (run_id,)))
            if not runs:
                return None
            rows = await db.execute_fetchall(
                f"SELECT {', '.join(_MEASUREMENT_COLUMNS)} FROM bench_measurements WHERE run_id = ? ORDER BY id",
                (run_id,))
        kind, title, status, created_at, models, prompts, settings, peak_vram = runs[0]
        measurements = [Measurement.from_dict(dict(zip(_MEASUREMENT_COLUMNS, r))) for r in rows]
        settings = json.loads(settings)
        hosts = settings.pop(HOSTS_KEY, None) if isinstance(settings, dict) else None
        return BenchResult(kind, json.loads(models), json.loads(prompts), settings, measurements,
                           json.loads(peak_vram), status, created_at, title, run_id,
                           hosts if isinstance(hosts, dict) else {})

    async def delete(self, run_id: int) -> bool:
        """Forget a run (a batch's chat sessions stay in the history)."""
        async with self.history._write() as db:
            cur = await db.execute("DELETE FROM bench_runs WHERE id = ?", (run_id,))
            return cur.rowcount > 0

    async def link_session(self, run_id: int, session_id: int, prompt_index: int) -> None:
        async with self.history._write() as db:
            await db.execute("INSERT INTO bench_batch_sessions (run_id, session_id, prompt_index) VALUES (?, ?, ?)",
                             (run_id, session_id, prompt_index))

    async def batch_sessions(self, run_id: int) -> list[int]:
        """The chat sessions a batch wrote, in prompt order."""
        async with self.history._read() as db:
            rows = await db.execute_fetchall(
                "SELECT session_id FROM bench_batch_sessions WHERE run_id = ? ORDER BY prompt_index", (run_id,))
        return [r[0] for r in rows]
