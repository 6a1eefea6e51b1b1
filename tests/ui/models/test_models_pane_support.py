"""Shared steps for the Models pane's Pilot tests (no tests here)."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tui.ui.models.library import LibraryTable
from tui.ui.models.pane import ModelsPane
from tui.ui.models.pull_rows import PullList, PullRow


async def open_models(app, pilot, count: int = 4) -> ModelsPane:
    """F2, then wait until the table lists `count` models and their details line is filled."""
    await pilot.press("f2")
    pane = app.query_one(ModelsPane)
    await wait_for(pilot, lambda: len(pane.query_one(LibraryTable).shown) == count)
    return pane


def names(pane: ModelsPane) -> list[str]:
    return [m.name for m in pane.query_one(LibraryTable).shown]


async def select(pilot, pane: ModelsPane, name: str) -> None:
    table = pane.query_one(LibraryTable)
    table.focus()
    index = names(pane).index(name)
    table.move_cursor(row=index)
    await wait_for(pilot, lambda: table.selected is not None and table.selected.name == name)


def rows(pane: ModelsPane) -> list[PullRow]:
    return pane.query_one(PullList).rows


def row_for(pane: ModelsPane, name: str) -> PullRow | None:
    for row in rows(pane):
        if row.job.name == name:
            return row
    return None


def row_text(row: PullRow) -> str:
    return str(row.render())


def requests_to(sim, path: str) -> list:
    return [r for r in sim.requests if r[1] == path]
