"""Header values masked for the raw view, and put back on save (issue 14, item 5)."""

from __future__ import annotations

import pytest

from tui.service.config.secrets import (
    MASK,
    MaskLeft,
    mask_headers,
    stored_headers,
    unmask_headers,
)

SECRET = "Bearer TOPSECRET"


@pytest.mark.parametrize("text", [
    f'[server.headers]\nAuthorization = "{SECRET}"  # c\n',
    f"[server.headers]\nAuthorization = '{SECRET}'\n",
    f'[server]\nheaders = {{ Authorization = "{SECRET}" }}\n',
    f'server.headers.Authorization = "{SECRET}"\n',
    f'[server]\nheaders.Authorization = """{SECRET}"""\n',
    f'[ server . "headers" ]\nAuthorization = "{SECRET}"\n',
])
def test_every_way_of_writing_a_header_is_masked_and_comes_back(text):
    masked = mask_headers(text)
    assert "TOPSECRET" not in masked and MASK in masked
    assert unmask_headers(masked, text) == text  # untouched: the file byte for byte
    edited = unmask_headers(masked.replace(MASK, "Bearer NEW"), text)
    assert "TOPSECRET" not in edited and "Bearer NEW" in edited


def test_a_file_toml_cannot_read_is_masked_line_by_line():
    text = f'[server.headers]\nAuthorization = "{SECRET}"\nbroken = = \n[chat]\nsystem_prompt = "keep"\n'
    masked = mask_headers(text)
    assert "TOPSECRET" not in masked and 'system_prompt = "keep"' in masked
    assert stored_headers(text) == {"Authorization": SECRET}
    # fixed in the raw view, the mask left: the stored value goes back
    fixed = masked.replace("broken = = \n", "")
    assert unmask_headers(fixed, text) == text.replace("broken = = \n", "")


def test_a_mask_with_no_stored_value_is_refused():
    text = f'[server.headers]\nAuthorization = "{SECRET}"\n'
    with pytest.raises(MaskLeft, match="X-New"):
        unmask_headers(mask_headers(text).replace("Authorization", "X-New"), text)
    assert "TOPSECRET" not in str(MaskLeft(["X-New"]))


def test_text_without_headers_is_left_alone():
    text = '[chat]\nsystem_prompt = "a mask •••••• in a prompt"\n'
    assert mask_headers(text) == text
    assert unmask_headers(text, text) == text


def test_mcp_server_headers_and_env_are_masked_and_kept() -> None:
    text = ('[mcp.servers.web]\nurl = "http://localhost:8000/mcp"\nheaders = { Authorization = "Bearer TOPSECRET" }\n'
            '\n[mcp.servers.files.env]\nAPI_TOKEN = "ENVSECRET"\n')
    masked = mask_headers(text)
    assert "TOPSECRET" not in masked and "ENVSECRET" not in masked and masked.count(MASK) == 2
    assert "http://localhost:8000/mcp" in masked
    assert unmask_headers(masked, text) == text
    edited = unmask_headers(masked.replace(f'API_TOKEN = "{MASK}"', 'API_TOKEN = "NEW"'), text)
    assert 'API_TOKEN = "NEW"' in edited and "TOPSECRET" in edited
    with pytest.raises(MaskLeft, match="mcp.servers.files.env.OTHER"):
        unmask_headers(masked.replace("API_TOKEN", "OTHER"), text)
    broken = text + "oops = = \n"
    assert "TOPSECRET" not in mask_headers(broken) and "ENVSECRET" not in mask_headers(broken)


# -- [hosts.<name>]: headers values and api_key (issues 16, 17) --------------------------------

HOSTS = f"""[server]
host = "http://127.0.0.1:11434"

[hosts.rack]
url = "http://rack:8000/v1"
kind = "openai"
api_key = "sk-TOPSECRET-rack"

[hosts.rack.headers]
X-Api-Key = "TOPSECRET-header"

[hosts.big]
url = "http://big:11434"
headers = {{ Authorization = "{SECRET}" }}
"""


def test_hosts_api_keys_and_headers_are_masked_and_come_back():
    from tui.service.config.secrets import stored_secrets

    masked = mask_headers(HOSTS)
    assert "TOPSECRET" not in masked and masked.count(MASK) == 3
    assert 'url = "http://rack:8000/v1"' in masked  # the rest as it was
    assert unmask_headers(masked, HOSTS) == HOSTS
    edited = unmask_headers(masked.replace(f'api_key = "{MASK}"', 'api_key = "sk-new"'), HOSTS)
    assert "sk-new" in edited and "sk-TOPSECRET-rack" not in edited and "TOPSECRET-header" in edited
    assert stored_secrets(HOSTS)[("hosts", "rack", "api_key")] == "sk-TOPSECRET-rack"
    # a mask moved to another host has nothing behind it there
    with pytest.raises(MaskLeft, match="hosts.big.api_key"):
        unmask_headers(masked.replace('url = "http://big:11434"', f'url = "http://big:11434"\napi_key = "{MASK}"'),
                       HOSTS)


def test_hosts_secrets_in_a_file_toml_cannot_read_are_masked_too():
    from tui.service.config.secrets import stored_secrets

    broken = HOSTS + "oops = = \n"
    masked = mask_headers(broken)
    assert "TOPSECRET" not in masked
    assert stored_secrets(broken)[("hosts", "rack", "headers", "X-Api-Key")] == "TOPSECRET-header"
    assert stored_secrets(broken)[("hosts", "rack", "api_key")] == "sk-TOPSECRET-rack"


def test_a_config_holding_a_hosts_secret_is_written_private(tmp_path):
    import stat

    from tui.service.config import ConfigStore

    path = tmp_path / "config.toml"
    path.write_text('[server]\nhost = "http://127.0.0.1:11434"\n')
    path.chmod(0o644)
    store = ConfigStore(path)
    store.load()
    store.save_text('[hosts.rack]\nurl = "http://rack:8000"\nkind = "openai"\napi_key = "sk-x"\n')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    store.save_text('[hosts.big]\nurl = "http://big:11434"\n[hosts.big.headers]\nAuthorization = "Bearer y"\n')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
