"""Where the Ollama server is: OLLAMA_HOST parsing (as the official clients do it) and precedence."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Mapping

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "parse_host", "resolve_host", "is_loopback", "redact_url",
           "cleartext_secret_warning"]

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"})

DEFAULT_PORT = 11434
DEFAULT_HOST = f"http://127.0.0.1:{DEFAULT_PORT}"

_HOSTNAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def parse_host(value: str) -> str:
    """An OLLAMA_HOST-style value → the base URL the client will actually use.

    `example.com` → `http://example.com:11434`; `https://example.com` → `https://example.com:443`;
    `:56789` → `http://127.0.0.1:56789`; `0.0.0.0` → `http://127.0.0.1:11434` (a server
    listening everywhere is reached on loopback); `[::]` → `[::1]`. Spaces and quotes around the
    value are trimmed; a path is kept without its trailing `/`. Raises ValueError for garbage.
    """
    if not isinstance(value, str):
        raise ValueError(f"host must be a string, not {type(value).__name__}")
    text = value.strip().strip("\"'").strip()
    if not text:
        raise ValueError("host is empty")
    if any(c.isspace() for c in text):
        raise ValueError(f"invalid host {value!r}: contains whitespace")

    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest, port = "http", text, DEFAULT_PORT
    else:
        scheme = scheme.lower()
        if scheme == "http":
            port = 80
        elif scheme == "https":
            port = 443
        else:
            raise ValueError(f"invalid host {value!r}: scheme must be http or https, not {scheme!r}")
        if not rest.strip("/"):
            raise ValueError(f"invalid host {value!r}: no host after {scheme}://")

    # An unbracketed IPv6 literal (`::1`, `fe80::1`) cannot carry a port: bracket it.
    hostport, slash, path_rest = rest.partition("/")
    if hostport.count(":") >= 2 and not hostport.startswith("[") and "@" not in hostport:
        if _ip(hostport) is None:
            raise ValueError(f"invalid host {value!r}: put IPv6 addresses in brackets, e.g. [::1]:11434")
        rest = f"[{hostport}]{slash}{path_rest}"

    try:
        split = urllib.parse.urlsplit(f"{scheme}://{rest}")
        explicit_port = split.port
    except ValueError as exc:
        raise ValueError(f"invalid host {value!r}: {exc}") from None
    if split.query or split.fragment or "?" in rest or "#" in rest:
        raise ValueError(f"invalid host {value!r}: a query or fragment is not allowed")

    netloc = split.netloc
    userinfo = ""
    if "@" in netloc:
        userinfo = netloc.rpartition("@")[0] + "@"
        netloc = netloc.rpartition("@")[2]

    host = split.hostname or ""
    if netloc.startswith("["):
        ip = _ip(host)
        if not isinstance(ip, ipaddress.IPv6Address):
            raise ValueError(f"invalid host {value!r}: {host!r} is not an IPv6 address")
        host = str(ip) if not ip.is_unspecified else "::1"
        host = f"[{host}]"
    elif host:
        ip = _ip(host)
        if ip is not None:
            host = "127.0.0.1" if ip.is_unspecified else str(ip)
        elif not _HOSTNAME.match(host):
            raise ValueError(f"invalid host {value!r}: {host!r} is not a valid host name")
    else:
        host_part = netloc.rpartition(":")[0] if ":" in netloc else netloc
        if host_part:
            raise ValueError(f"invalid host {value!r}")
        host = "127.0.0.1"

    if explicit_port is not None:
        if explicit_port == 0:
            raise ValueError(f"invalid host {value!r}: port must be 1-65535")
        port = explicit_port
    elif netloc.endswith(":"):
        raise ValueError(f"invalid host {value!r}: empty port")

    url = f"{scheme}://{userinfo}{host}:{port}"
    path = split.path.strip("/")
    if path:
        url += "/" + path
    return url


def resolve_host(flag: str | None, env: Mapping[str, str], config_host: str | None) -> str:
    """The base URL to use: `--host`, else $OLLAMA_HOST, else the config's host, else the default.

    Blank values count as unset. The chosen value goes through `parse_host` (ValueError on garbage).
    """
    for candidate in (flag, env.get("OLLAMA_HOST"), config_host):
        if candidate is not None and candidate.strip().strip("\"'").strip():
            return parse_host(candidate)
    return DEFAULT_HOST


def is_loopback(url: str) -> bool:
    """True when `url` points at this machine (127.0.0.0/8, ::1, localhost, 0.0.0.0)."""
    try:
        host = urllib.parse.urlsplit(url if "://" in url else f"http://{url}").hostname
    except ValueError:
        return False
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def redact_url(url: str) -> str:
    """`url` without a password in its userinfo, fit for messages and logs."""
    try:
        split = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if "@" not in split.netloc:
        return url
    userinfo, _, hostport = split.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"***@{hostport}"
    return urllib.parse.urlunsplit(split._replace(netloc=netloc))


def cleartext_secret_warning(url: str, headers: Mapping[str, str]) -> str | None:
    """A warning when a credential (an Authorization header, a password in the URL) would go
    over plain http to another machine, where anyone on the path can read it; else None.
    The warning names the header, never its value."""
    try:
        split = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if split.scheme.lower() != "http" or is_loopback(url):
        return None
    secrets = sorted(name for name in headers if name.lower() in SECRET_HEADERS)
    if split.password:
        secrets.append("the password in the host URL")
    if not secrets:
        return None
    return (f"{' and '.join(secrets)} will be sent over plain http to {split.hostname}: anyone on the "
            "network path can read it. Use https:// (e.g. behind a TLS proxy) or an SSH tunnel.")
