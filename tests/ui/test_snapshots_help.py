"""Snapshot (pytest-textual-snapshot) of the help screen at 80x24 with a [keys] table applied: the
keys in use, each action's name (what [keys] rebinds) and what it does. Update after a deliberate
change: `uv run pytest tests/ui/test_snapshots_help.py --snapshot-update`, look at the SVG."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.test_snapshots import shoot
from tui.ui.shell.help_screen import HelpScreen


def test_help_screen_with_actions_and_a_rebound_key(snap_compare, make_app, sim, tmp_path):
    (tmp_path / "config.toml").write_text('version = 1\n\n[keys]\nquit = "ctrl+w"\nshow_models = "f2,alt+m"\n')

    async def steps(app, pilot, ticks) -> None:
        await wait_for(pilot, lambda: app.key_overrides)  # [keys] applies after the first frame
        await pilot.press("f2", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert shoot(snap_compare, make_app, sim, "80x24", steps)
