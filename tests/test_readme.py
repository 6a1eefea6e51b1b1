"""The README's key and config tables are generated from the app; a stale README fails here."""

from scripts.docs import README, SECTIONS, render


def test_readme_tables_match_the_app():
    text = README.read_text()
    for name in SECTIONS:
        assert f"<!-- {name}:start -->" in text, f"README lacks the {name} table markers"
    assert render(text) == text, "README.md is stale: run `uv run python -m scripts.docs --write`"


def test_every_binding_is_in_the_readme_and_the_help_screen():
    from tui.app import OllamaTUI
    from tui.ui.keymap import binding_rows

    text = README.read_text()
    for _where, key, description in binding_rows(OllamaTUI):
        assert description in text and key.replace("|", "\\|") in text
