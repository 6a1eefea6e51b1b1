"""The README's key and config tables are generated from the app; a stale README fails here."""

from scripts.docs import README, SECTIONS, render


def test_readme_tables_match_the_app():
    text = README.read_text()
    for name in SECTIONS:
        assert f"<!-- {name}:start -->" in text, f"README lacks the {name} table markers"
    assert render(text) == text, "README.md is stale: run `uv run python -m scripts.docs --write`"


def test_every_binding_is_a_row_of_the_readme_key_table():
    """Each (where, key, action) the help screen lists is one row of the README's table."""
    from tui.app import OllamaTUI
    from tui.ui.keymap import binding_rows

    table = README.read_text().split("<!-- keys:start -->")[1].split("<!-- keys:end -->")[0]
    rows = binding_rows(OllamaTUI)
    assert len(rows) > 50
    for where, key, name, description in rows:
        line = f"| {where} | `{key.replace('|', chr(92) + '|')}` | `{name}` | {description} |"
        assert line in table.splitlines(), f"README lacks the key row {line!r}"


def _ui_classes():
    """Every widget and screen class defined in tui.ui (all its modules imported)."""
    import importlib
    import inspect
    import pkgutil

    from textual.dom import DOMNode

    import tui.ui

    for info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                yield cls


def test_every_key_of_every_widget_is_listed_or_belongs_to_a_dialog():
    """A widget with keys of its own is a scope of the help screen (and so of the README); a
    dialog (modal screen) shows its keys in itself and must close with Esc."""
    from textual.binding import Binding
    from textual.screen import ModalScreen

    from tui.app import OllamaTUI
    from tui.ui.keymap import scopes

    listed = {id(b) for _where, bindings in scopes(OllamaTUI) for b in bindings}
    dialogs = 0
    for cls in _ui_classes():
        own = [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]
        if issubclass(cls, ModalScreen):
            dialogs += 1
            keys = {k.strip() for b in cls.BINDINGS if isinstance(b, Binding) for k in b.key.split(",")}
            assert "escape" in keys, f"{cls.__name__}: Esc does not close this dialog"
            continue
        for binding in own:
            assert binding.description, f"{cls.__name__}: {binding.key} has no description"
            assert id(binding) in listed, f"{cls.__name__}: {binding.key} ({binding.description}) is in no help scope"
    assert dialogs >= 6


def test_the_readme_shows_a_screenshot_of_every_pane() -> None:
    """Each pane's SVG (made by scripts/screenshots.py) is shown in the README and is a
    screenshot of that pane (its tab marked active in the pane bar)."""
    text = README.read_text()
    for pane in ("Chat", "Models", "Monitor", "Settings"):
        path = README.parent / "docs" / "screenshots" / f"{pane.lower()}.svg"
        assert f"![The {pane} pane](docs/screenshots/{pane.lower()}.svg)" in text
        svg = path.read_text()
        assert svg.lstrip().startswith("<svg") and f"F4{chr(160)}Settings" in svg.replace("&#160;", chr(160))
        assert f"▸{chr(160)}F{('Chat', 'Models', 'Monitor', 'Settings').index(pane) + 1}" in svg.replace("&#160;", chr(160))
