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
