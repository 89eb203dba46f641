"""Options every HTTP provider accepts: URL, auth, headers, TLS, proxy, deadline, and the
bounds on answer size and requests in flight; and which of their values are secrets.

Checked when the config is read: header values must be one line of printable ASCII,
``user:password@`` in ``url`` becomes basic auth (see :mod:`.credentials`). Nothing here imports
Textual.
"""

from __future__ import annotations

import base64
import os
import re
import ssl
from typing import Annotated, Any

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from sre_cockpit.core.durations import Duration
from sre_cockpit.providers.base import StrictModel
from sre_cockpit.providers.bodies import MIB, ByteSize
from sre_cockpit.providers.credentials import (
    header_name_problem,
    header_value_problem,
    split_userinfo,
    userinfo_to_auth,
)


def _header_value(value: str) -> str:
    problem = header_value_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _header_secret(value: SecretStr) -> SecretStr:
    _header_value(value.get_secret_value())
    return value


def _header_name(value: str) -> str:
    problem = header_name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


HeaderValue = Annotated[str, AfterValidator(_header_value)]
"""A string sent as an HTTP header value: one line of printable ASCII (checked at load)."""
HeaderSecret = Annotated[SecretStr, AfterValidator(_header_secret)]
"""A secret sent inside an HTTP header (bearer token, API key), checked like HeaderValue."""
HeaderName = Annotated[str, AfterValidator(_header_name)]


class BasicAuth(StrictModel):
    """HTTP basic auth."""

    username: str
    password: SecretStr

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if ":" in value:
            raise ValueError("a basic-auth username cannot contain ':'")
        problem = header_value_problem(value.strip() or "x")
        if problem is not None and "non-ASCII" not in problem:
            raise ValueError(problem)
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value.get_secret_value()):
            raise ValueError("contains a line break or another control character (a ${file:} "
                             "secret may end with one newline, nothing more)")
        return value


class AuthOptions(StrictModel):
    """Exactly one of ``bearer_token`` or ``basic``."""

    bearer_token: HeaderSecret | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthOptions:
        if self.bearer_token is not None and self.basic is not None:
            raise ValueError("set either bearer_token or basic, not both")
        if self.bearer_token is None and self.basic is None:
            raise ValueError("set bearer_token or basic: {username, password}")
        return self


class HttpOptions(StrictModel):
    """Options every HTTP provider accepts (subclass it for provider-specific keys).

    A subclass sets its own defaults for ``max_body`` and ``max_in_flight`` by declaring the
    field again, e.g. ``max_body: ByteSize = 32 * MIB``.
    """

    type: str
    url: str
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    auth: AuthOptions | None = None
    timeout: Duration = Field(default=10.0, gt=0)  # overall deadline per call, e.g. "10s"
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    proxy: str | None = None
    max_body: ByteSize = 8 * MIB
    """Largest answer accepted (decoded); a larger one fails the call with one line naming it."""
    max_in_flight: int = Field(default=4, ge=1, le=256)
    """Most requests this provider has open at once; the others wait their turn."""

    @model_validator(mode="before")
    @classmethod
    def _userinfo_becomes_auth(cls, data: Any) -> Any:
        return userinfo_to_auth(data)

    @field_validator("url", "proxy")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = httpx.URL(value)
        except Exception:  # httpx.InvalidURL and friends; never echo the value (credentials)
            raise ValueError("not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("must be an http:// or https:// URL with a host, e.g. "
                             "http://127.0.0.1:9090")
        if parsed.query or parsed.fragment:
            raise ValueError("must not contain a query string or fragment (put credentials "
                             "under auth: or headers:)")
        return value

    @field_validator("url")
    @classmethod
    def _no_userinfo(cls, value: str) -> str:
        # userinfo_to_auth moved user:password@ to auth: unless auth: was set as well
        if split_userinfo(value)[1] is not None:
            raise ValueError("has user:password@ and auth: is set too; keep one (user:password@ "
                             "in url becomes basic auth)")
        return value

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, value: str | None) -> str | None:
        # Checked here, not when the client is built: a missing or broken CA bundle is a config
        # error (FILE:LINE:COL, exit 2), not a provider failure with a raw FileNotFoundError.
        if value is None:
            return None
        path = os.path.expanduser(value)
        if not os.path.isfile(path):
            raise ValueError(f"no such file: {value} (or not a regular file)")
        try:
            ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or "unreadable"
            raise ValueError(f"not a readable PEM CA bundle: {value} ({reason})") from None
        return value


def secrets_of(opts: HttpOptions) -> list[str]:
    """Every secret value carried by an options model (for redaction)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and _SECRET_HEADER.search(str(key)):
                    found.append(item)
                    # "Bearer abc" / "Token token=abc": also the bare credential
                    found.extend(part.split("=", 1)[-1] for part in item.split()[1:])
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(opts)
    if opts.auth is not None and opts.auth.basic is not None:
        # the Authorization header value itself ("Basic <base64>") must not leak either
        pair = f"{opts.auth.basic.username}:{opts.auth.basic.password.get_secret_value()}"
        found.append(base64.b64encode(pair.encode("utf-8")).decode("ascii"))
    for url in (opts.url, opts.proxy):
        if not url:
            continue
        try:
            parsed = httpx.URL(url)
        except Exception:
            continue
        if parsed.password:
            found.append(parsed.password)
        for key, value in parsed.params.multi_items():
            if _SECRET_HEADER.search(key) and value:
                found.append(value)
    return [s for s in found if s]


_SECRET_HEADER = re.compile(r"(?i)auth|token|key|secret|cookie|password")
