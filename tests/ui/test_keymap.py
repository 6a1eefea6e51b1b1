"""The key table behind [keys]: every listed binding has a unique action name, the defaults do not
clash, and keys are read in Textual's notation the way Textual names them."""

from __future__ import annotations

import pytest

from tui.app import OllamaTUI
from tui.ui.keymap import actions, parse_keys, resolve_keymap


def test_every_listed_binding_has_a_unique_action_name() -> None:
    names = [action.id for action in actions(OllamaTUI)]
    assert all(names) and len(names) == len(set(names)) > 70


def test_the_default_keys_do_not_clash() -> None:
    assert resolve_keymap({}, {}, OllamaTUI) == ({}, [])
    every = {a.id: a.keys for a in actions(OllamaTUI)}  # each rebound to its own default
    assert resolve_keymap(every, {}, OllamaTUI)[1] == []


@pytest.mark.parametrize(("written", "key"), [
    ("ctrl+w", "ctrl+w"), ("Ctrl+W", "ctrl+w"), ("F2", "f2"), ("?", "question_mark"),
    ("shift+ctrl+up", "ctrl+shift+up"), ("shift+a", "A"), ("D", "D"), ("/", "slash"),
    ("f1, alt+1", "f1,alt+1"), ("space", "space"), ("ctrl+j,ctrl+j", "ctrl+j"),
])
def test_keys_are_read_as_textual_names_them(written: str, key: str) -> None:
    assert parse_keys(written) == key


@pytest.mark.parametrize(("written", "why"), [
    ("ctrl+ww", "'ww' is not a key name"), ("cmd+w", "'cmd' is not a modifier"), ("", "an empty key"),
    ("f1,", "an empty key"), ("ctrl+", "is not a key"),
])
def test_what_is_not_a_key_says_why(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_keys(written)


def test_a_swap_applies_and_of_two_lines_on_one_key_the_later_gives_way() -> None:
    keymap, issues = resolve_keymap({"quit": "f2", "show_models": "ctrl+q"}, {}, OllamaTUI)
    assert keymap == {"quit": "f2", "show_models": "ctrl+q"} and issues == []
    keymap, issues = resolve_keymap({"chat_search": "ctrl+k", "chat_bottom": "ctrl+k"},
                                    {"chat_search": 3, "chat_bottom": 4}, OllamaTUI)
    assert keymap == {"chat_search": "ctrl+k"}
    [issue] = issues
    assert str(issue) == ("line 4: keys.chat_bottom: Ctrl+K is already chat_search (Search all chats, Chat); "
                          "this line is ignored, Ctrl+B stays")


def test_a_pane_key_may_repeat_in_another_pane_but_not_under_a_key_that_works_everywhere() -> None:
    assert resolve_keymap({"monitor_cores": "p"}, {}, OllamaTUI)[1] != []  # p pauses the Monitor
    assert resolve_keymap({"monitor_cores": "i"}, {}, OllamaTUI)[1] == []  # i is the Models pane's
    [issue] = resolve_keymap({"sessions_rename": "f7"}, {}, OllamaTUI)[1]
    assert "F7 is already resource_strip" in issue.message


def test_a_key_that_works_in_text_fields_is_never_a_character() -> None:
    [issue] = resolve_keymap({"quit": "q"}, {"quit": 4}, OllamaTUI)[1]
    assert str(issue).startswith("line 4: keys.quit: q is typed in text fields")
    assert resolve_keymap({"chat_search": "space"}, {}, OllamaTUI)[1] != []
    assert resolve_keymap({"help": "x", "models_pull": "P"}, {}, OllamaTUI) == ({"help": "x", "models_pull": "P"}, [])
