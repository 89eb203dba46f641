"""Where credentials may go and what shape they may have.

- A configured URL with ``user:password@`` becomes basic auth when the config is read and never
  appears again (:func:`userinfo_to_auth`): not in incident links, snapshots, the journal or the
  clipboard.
- Header values (tokens, ``headers:``, the tenant) are one line of printable ASCII without
  surrounding blanks (:func:`header_value_problem`): a token file with ``\\r\\n`` inside is a config
  error at its line and column, not ``Illegal header value b'Bearer …'`` at the first request.
- Credentials go only to the configured origin (:func:`origin_of`): scheme, host and port.

Nothing here imports Textual.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (RFC 9110 ``token``)."""
_NAMES = {"\r": "a carriage return (CR)", "\n": "a line break (LF)", "\0": "a NUL byte",
          "\x7f": "a DEL character"}
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def header_value_problem(value: str) -> str | None:
    """What makes ``value`` unfit for an HTTP header value, without quoting it (it may be a
    secret), or None when it is fine."""
    for pos, char in enumerate(value, 1):
        code = ord(char)
        if (code < 0x20 and char != "\t") or code == 0x7F:
            what = _NAMES.get(char, f"the control character U+{code:04X}")
            return (f"contains {what} at character {pos}; a header value is one line (a "
                    "${file:} secret may end with one newline, nothing more)")
        if code > 0x7E:
            return (f"contains the non-ASCII character U+{code:04X} at character {pos}; HTTP "
                    "header values are ASCII")
    if value != value.strip(" \t"):
        return "starts or ends with a space or tab, which HTTP does not allow in a header value"
    return None


def header_name_problem(name: str) -> str | None:
    """What makes ``name`` unfit for an HTTP header name, or None."""
    if not _TOKEN.fullmatch(name):
        return (f"{name[:60]!r} is not a valid header name (letters, digits and !#$%&'*+.^_`|~- "
                "only)")
    return None


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without ``user:password@``, and the (percent-decoded) user and password.

    Returns ``(url, None, None)`` for a URL without userinfo or one that does not parse.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None, None
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None, None
    user, _colon, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(user), unquote(password)


def userinfo_to_auth(data: Any) -> Any:
    """Options as written → options with the ``url``'s ``user:password@`` moved to
    ``auth: {basic: {username, password}}`` (a new mapping; ``data`` is not changed).

    Left alone when there is no userinfo, when ``auth`` is set too (the ``url`` check then says
    to keep one) or when ``data`` is not a mapping.
    """
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return data
    bare, user, password = split_userinfo(data["url"])
    if user is None or data.get("auth") is not None:
        return data
    return {**data, "url": bare, "auth": {"basic": {"username": user, "password": password or ""}}}


def userinfo_secrets(url: str) -> list[str]:
    """The password of a URL's userinfo, decoded and as written (for redaction)."""
    _bare, _user, password = split_userinfo(url)
    if not password:
        return []
    written = urlsplit(url).netloc.rpartition("@")[0].partition(":")[2]
    return [password, written]


def origin_of(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port filled in, lower-cased."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower(), parsed.port or DEFAULT_PORTS.get(scheme)


def show_origin(origin: tuple[str, str, int | None]) -> str:
    """``https://host:port`` of an origin tuple."""
    scheme, host, port = origin
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")
