"""Security: header secrets never shown, logged or exported; private files; a warning before a
token goes over plain http; the simulator listens on loopback only."""

from __future__ import annotations

import logging
import os
import socket
import stat
from pathlib import Path

import psutil
import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, send, text, toasts
from tests.ui.settings.test_settings_raw import line_of, open_raw, replace_line
from tui.app import OllamaTUI
from tui.service.chat.export import export_session
from tui.service.config import ConfigStore
from tui.service.config.secrets import MASK
from tui.service.ollama import OllamaClient
from tui.service.paths import log_path
from tui.service.services import Services
from tui.simulator import Simulator

SECRET = "s3cr3t-T0KEN-value"


def app_with_headers(url: str, tmp_path, **kw) -> OllamaTUI:
    path = tmp_path / "config.toml"
    store = ConfigStore(path)
    store.load()
    assert store.set("server.headers.Authorization", f"Bearer {SECRET}") == []
    store.save()
    store = ConfigStore(path)
    config, issues = store.load()
    client = OllamaClient(url, headers=dict(config.server.headers), connect_timeout=0.5, retries=0)
    services = Services.build(store, provider=client, db_path=tmp_path / "history.sqlite3")
    return OllamaTUI(services=services, config_issues=issues, **kw)


async def test_the_token_is_sent_but_never_shown_logged_or_exported(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    with Simulator(token_rate=0, reply="ok") as sim:
        sim.inject("/api/chat", "status", status=401, message="unauthorized")
        app = app_with_headers(sim.url, tmp_path)
        seen: list[str] = []
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)  # an auth error on the way
            await wait_for(pilot, lambda: "unauthorized" in text(app))
            seen.append(text(app))
            await send(app, pilot, "again", replies_count=2)
            await pilot.press("f4")  # Settings shows the header masked
            await wait_for(pilot, lambda: app.current_pane == "settings")
            await pilot.pause()
            seen.append(text(app))
            seen += toasts(app)
            pane = app.query_one("ChatPane")
            for fmt in ("md", "json"):
                out = tmp_path / f"export.{fmt}"
                await export_session(app.history, pane.session.id, out, fmt)
                seen.append(out.read_text())
            seen += [repr(app.client), repr(app.config), repr(app.config.server), str(app.config_store)]
        assert not any(SECRET in s for s in seen)
        assert SECRET not in caplog.text
        log_file = log_path()  # the app's log file (under the HOME set above)
        assert not log_file.exists() or SECRET not in log_file.read_text()
        assert not any(SECRET in (line or "") for line in sim.errors)
        assert app.client.transport._headers["Authorization"] == f"Bearer {SECRET}"  # …yet it is sent
        assert stat.S_IMODE(os.stat(tmp_path / "config.toml").st_mode) == 0o600
        assert stat.S_IMODE(os.stat(tmp_path / "history.sqlite3").st_mode) == 0o600


@pytest.mark.parametrize("url, warned", [
    ("http://192.0.2.10:11434", True),      # another machine, plain http: warned
    ("https://192.0.2.10:443", False),      # encrypted
    ("http://127.0.0.1:9", False),          # this machine
])
async def test_a_token_over_plain_http_to_another_machine_is_warned_about(tmp_path, monkeypatch, url, warned):
    monkeypatch.setenv("HOME", str(tmp_path))
    app = app_with_headers(url, tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(app, pilot)
        await pilot.pause()
        warnings = [t for t in toasts(app) if "plain http" in t]
        assert bool(warnings) == warned
        if warned:
            assert "Authorization" in warnings[0] and "192.0.2.10" in warnings[0]
            assert "Token sent unencrypted" in text(app)
        assert SECRET not in text(app) and not any(SECRET in t for t in toasts(app))


def test_the_simulator_listens_on_loopback_only():
    with Simulator() as sim:
        listening = [c for c in psutil.Process().net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == sim.port]
        assert [c.laddr.ip for c in listening] == ["127.0.0.1"]
        others = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
                  if a.family == socket.AF_INET and not a.address.startswith("127.")]
        for address in others:  # not reachable from another interface
            with pytest.raises(OSError):
                socket.create_connection((address, sim.port), timeout=0.5).close()


# ------------------------------------------------------------------ the raw view (F8) masks header values

KEY = "k3y-S3CR3T-two"


def raw_app(make_app, sim, tmp_path) -> tuple[OllamaTUI, Path]:
    path = tmp_path / "config.toml"
    path.write_text(f'version = 1\n\n[server.headers]\nAuthorization = "Bearer {SECRET}"  # my token\n'
                    f"X-Api-Key = '{KEY}'\n\n[ui]\ntheme = \"ollama-dark\"\n")
    path.chmod(0o600)
    return make_app(sim.url, config_path=path), path


async def test_the_raw_view_shows_header_values_masked(sim, make_app, tmp_path):
    app, path = raw_app(make_app, sim, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_raw(app, pilot)
        await pilot.pause()
        assert SECRET not in editor.text and KEY not in editor.text
        assert f'Authorization = "{MASK}"  # my token' in editor.text.splitlines()
        assert f'X-Api-Key = "{MASK}"' in editor.text.splitlines()
        shown = text(app)
        assert MASK in shown and SECRET not in shown and KEY not in shown
        assert "unsaved" not in shown  # masking is not an edit


async def test_a_raw_save_with_the_mask_left_keeps_the_stored_values(sim, make_app, tmp_path):
    app, path = raw_app(make_app, sim, tmp_path)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_raw(app, pilot)
        await replace_line(pilot, editor, line_of(editor.text, 'theme = "ollama-dark"'), 'theme = "nord"')
        await pilot.press("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        # exactly the edit: the secrets on disk as they were (quoting and comment included)
        assert path.read_text() == before.replace('theme = "ollama-dark"', 'theme = "nord"')
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert MASK not in path.read_text()
        assert app.config.server.headers == {"Authorization": f"Bearer {SECRET}", "X-Api-Key": KEY}
        assert SECRET not in editor.text and SECRET not in text(app)
        await wait_for(pilot, lambda: "unsaved" not in text(app))


async def test_a_raw_edit_replaces_or_removes_a_header(sim, make_app, tmp_path):
    app, path = raw_app(make_app, sim, tmp_path)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_raw(app, pilot)
        await replace_line(pilot, editor, line_of(editor.text, f'Authorization = "{MASK}"  # my token'),
                           'Authorization = "Bearer NEW-token"')
        editor.move_cursor((line_of(editor.text, f'X-Api-Key = "{MASK}"'), 0))
        await pilot.press("shift+end", "delete")  # the header's line emptied
        assert "X-Api-Key" not in editor.text
        await pilot.press("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        saved = path.read_text()
        assert 'Authorization = "Bearer NEW-token"' in saved
        assert SECRET not in saved and KEY not in saved and "X-Api-Key" not in saved and MASK not in saved
        assert app.config.server.headers == {"Authorization": "Bearer NEW-token"}
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_a_mask_with_nothing_stored_behind_it_is_refused(sim, make_app, tmp_path):
    """A header renamed (or added) with the mask as its value: the mask is never saved as a value."""
    app, path = raw_app(make_app, sim, tmp_path)
    before = path.read_bytes()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        editor = await open_raw(app, pilot)
        await replace_line(pilot, editor, line_of(editor.text, f'X-Api-Key = "{MASK}"'), f'X-Other = "{MASK}"')
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("X-Other" in t and "hidden" in t for t in toasts(app)))
        assert path.read_bytes() == before
        assert "unsaved" in text(app)
        assert app.config.server.headers["X-Api-Key"] == KEY


# ------------------------------------------------------ hosts' api_key and headers (issues 16, 17)

HOST_KEY = "sk-H0ST-S3CR3T"


async def test_hosts_secrets_are_masked_kept_on_save_and_a_new_host_applies_at_once(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'version = 1\n\n[hosts.rack]\nurl = "http://127.0.0.1:9/v1"\nkind = "openai"\n'
                    f'api_key = "{HOST_KEY}"\n\n[hosts.rack.headers]\nX-Team = "Bearer {SECRET}"\n\n'
                    '[ui]\ntheme = "ollama-dark"\n')
    path.chmod(0o600)
    app = make_app(sim.url, config_path=path)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: "Settings" in text(app))
        assert HOST_KEY not in text(app) and SECRET not in text(app)  # the form never shows them
        editor = await open_raw(app, pilot)
        await pilot.pause()
        assert HOST_KEY not in editor.text and SECRET not in editor.text
        assert f'api_key = "{MASK}"' in editor.text.splitlines()
        assert f'X-Team = "{MASK}"' in editor.text.splitlines()
        assert HOST_KEY not in text(app) and SECRET not in text(app)
        # a host added in the raw view, the masks left as they are
        editor.move_cursor(editor.document.end)
        await pilot.press("enter", *"[hosts.added]", "enter", *f'url = "{sim.url}"', "enter")
        await pilot.press("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        saved = path.read_text()
        assert f'api_key = "{HOST_KEY}"' in saved and f'X-Team = "Bearer {SECRET}"' in saved and MASK not in saved
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert app.config.hosts["rack"].api_key == HOST_KEY
        # applied without a restart: the registry knows the new host, the palette offers it
        await wait_for(pilot, lambda: app.services.hosts.named("added") is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Chat on host: added" in titles and "Chat on host: rack" in titles
        assert app.services.hosts.named("rack").api_key == HOST_KEY
