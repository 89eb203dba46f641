"""The one HTTP layer every provider uses: options schema, client factory, deadline, retries,
auth, TLS and redaction of secrets."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import os
import random
import re
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from sre_cockpit import __version__
from sre_cockpit.core.durations import Duration
from sre_cockpit.providers.base import Provider, ProviderError, RateLimitedError, StrictModel

log = logging.getLogger(__name__)


class BasicAuth(StrictModel):
    """HTTP basic auth."""

    username: str
    password: SecretStr


class AuthOptions(StrictModel):
    """Exactly one of ``bearer_token`` or ``basic``."""

    bearer_token: SecretStr | None = None
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthOptions:
        if self.bearer_token is not None and self.basic is not None:
            raise ValueError("set either bearer_token or basic, not both")
        if self.bearer_token is None and self.basic is None:
            raise ValueError("set bearer_token or basic: {username, password}")
        return self


class HttpOptions(StrictModel):
    """Options every HTTP provider accepts (subclass it for provider-specific keys)."""

    type: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    auth: AuthOptions | None = None
    timeout: Duration = Field(default=10.0, gt=0)  # overall deadline per call, e.g. "10s"
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    proxy: str | None = None

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


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_TOKEN_PARAM = re.compile(
    r"(?i)(?P<key>[?&](?:access_token|token|api_key|apikey|key|password|secret|sig|signature|auth)=)"
    r"(?P<val>[^&#\s]+)"
)
_AUTH_HEADER = re.compile(r"(?i)(?P<key>(?:authorization|token token)[\"']?\s*[:=]\s*[\"']?)(?P<val>[^\"'\s,]+(?:\s+[^\"'\s,]+)?)")
REDACTED = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secrets from ``text``: known secret values, ``user:pass@`` in URLs, token query
    parameters and Authorization header values."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _TOKEN_PARAM.sub(lambda m: f"{m['key']}{REDACTED}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['key']}{REDACTED}", text)
    return text


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


_KNOWN_SECRETS: set[str] = set()
"""Secrets of every client built in this process (log records are redacted against them)."""


def remember_secrets(secrets: Iterable[str]) -> None:
    """Add secrets that every :class:`RedactingFilter` removes from log records."""
    _KNOWN_SECRETS.update(s for s in secrets if s)


class RedactingFilter(logging.Filter):
    """Logging filter that redacts secrets (its own, and every client's) from every record
    passing through: message, arguments, exception and stack text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [*self.secrets, *_KNOWN_SECRETS]
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw text
            message = str(record.msg)
        record.msg = redact(message, secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(target: logging.Logger | logging.Handler | None = None) -> None:
    """Attach the process-wide redacting filter to a logger or handler (idempotent). Without a
    target: the ``httpx``, ``httpcore`` and ``sre_cockpit`` loggers and the root handlers."""
    targets: list[logging.Logger | logging.Handler] = []
    if target is not None:
        targets.append(target)
    else:
        targets += [logging.getLogger(n) for n in ("httpx", "httpcore", "sre_cockpit", __name__)]
        targets += logging.getLogger().handlers
    for item in targets:
        if _FILTER not in item.filters:
            item.addFilter(_FILTER)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(slots=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (AWS architecture blog's "full jitter")."""

    attempts: int = 3  # total tries for idempotent calls
    base: float = 0.2
    cap: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Sleep before try number ``attempt`` (1-based retry count)."""
        upper = min(self.cap, self.base * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, upper)


def retry_after_seconds(resp: httpx.Response, cap: float = 300.0) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``
    (seconds, or an epoch) headers, capped; None when the server said nothing usable.

    The one reading of these headers for every provider."""
    for header in ("retry-after", "ratelimit-reset", "x-ratelimit-reset"):
        raw = resp.headers.get(header)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            value = when.timestamp() - time.time()
        if value > 1e9:  # an absolute epoch timestamp
            value -= time.time()
        return max(0.0, min(cap, value))
    return None


class HttpClient:
    """An httpx.AsyncClient with an overall deadline per call, retries, auth and redaction.

    ``request`` returns the response for every HTTP status (callers map statuses to their own
    errors), except that 429 and 502/503/504 on idempotent calls are retried first. Network
    errors and deadline overruns raise ``ProviderError`` with a redacted one-line message.
    """

    def __init__(self, opts: HttpOptions, *, provider: str, user_agent: str | None = None,
                 retry: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.opts = opts
        self.provider = provider
        self.retry = retry or RetryPolicy()
        self.secrets = secrets_of(opts)
        remember_secrets(self.secrets)
        install_log_redaction()
        headers = {"User-Agent": user_agent or f"sre-cockpit/{__version__}", **opts.headers}
        auth: httpx.Auth | None = None
        if opts.auth and opts.auth.bearer_token is not None:
            headers["Authorization"] = f"Bearer {opts.auth.bearer_token.get_secret_value()}"
        elif opts.auth and opts.auth.basic is not None:
            auth = httpx.BasicAuth(opts.auth.basic.username,
                                   opts.auth.basic.password.get_secret_value())
        verify: ssl.SSLContext | bool = True
        if opts.insecure_skip_verify:
            verify = False
            log.warning("%s: TLS verification is OFF (insecure_skip_verify); anyone on the path "
                        "can read and change this traffic", provider)
        elif opts.ca_file:
            verify = ssl.create_default_context(cafile=os.path.expanduser(opts.ca_file))
        self.base_url = opts.url.rstrip("/")
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            auth=auth,
            verify=verify,
            proxy=opts.proxy,
            timeout=httpx.Timeout(opts.timeout, connect=min(opts.timeout, 5.0)),
            follow_redirects=False,
            transport=transport,
        )

    def redact(self, text: str) -> str:
        """Redact this client's secrets (and generic credential shapes) from ``text``."""
        return redact(text, self.secrets)

    def endpoint(self, path: str) -> str:
        """The full URL of ``path`` with credentials removed (for confirm dialogs and errors)."""
        if path.startswith(("http://", "https://")):
            return self.redact(path)
        # Like httpx's own merge (and unlike URL.join): keep the base path, e.g. /pagerduty.
        return self.redact(self.base_url + "/" + path.lstrip("/"))

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                      data: Any = None, headers: Mapping[str, str] | None = None,
                      idempotent: bool | None = None, deadline: float | None = None,
                      attempts: int | None = None) -> httpx.Response:
        """Send one request under an overall deadline (default ``opts.timeout``), retrying
        idempotent calls on network errors, 429 and 502/503/504 with capped full-jitter backoff."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        tries = attempts if attempts is not None else (self.retry.attempts if idempotent else 1)
        budget = deadline if deadline is not None else self.opts.timeout
        loop = asyncio.get_running_loop()
        end = loop.time() + budget
        last_error: ProviderError | None = None
        for attempt in range(1, max(1, tries) + 1):
            remaining = end - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    resp = await self.client.request(method, path, params=params, json=json,
                                                     data=data, headers=headers)
                    await resp.aread()
            except TimeoutError:
                last_error = ProviderError(
                    f"{self.provider}: no complete answer from {self.endpoint(path)} within {budget:g}s")
                break
            except httpx.HTTPError as exc:
                detail = " ".join(str(exc).split())
                last_error = ProviderError(self.redact(
                    f"{self.provider}: {type(exc).__name__} for {self.endpoint(path)}: "
                    f"{detail}".rstrip(": ")))
            else:
                if resp.status_code == 429 or (idempotent and resp.status_code in (502, 503, 504)):
                    wait = retry_after_seconds(resp)
                    if resp.status_code == 429:
                        last_error = RateLimitedError(
                            f"{self.provider}: rate limited (429)", status=429,
                            retry_after=wait if wait is not None else 30.0)
                    if attempt >= tries or (resp.status_code == 429 and wait is not None and wait > remaining):
                        return resp
                    delay = wait if wait is not None else self.retry.delay(attempt)
                    if loop.time() + delay >= end:
                        return resp
                    await asyncio.sleep(delay)
                    continue
                return resp
            if attempt < tries:
                delay = self.retry.delay(attempt)
                if loop.time() + delay >= end:
                    break
                await asyncio.sleep(delay)
        raise last_error or ProviderError(
            f"{self.provider}: no answer from {self.endpoint(path)} within {budget:g}s")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def build_client(opts: HttpOptions, *, provider: str, **kwargs: Any) -> HttpClient:
    """The one client factory every provider uses."""
    return HttpClient(opts, provider=provider, **kwargs)


class HttpProvider(Provider):
    """Base of the providers configured with :class:`HttpOptions` (every built-in one)."""

    options: HttpOptions

    @property
    def timeout_s(self) -> float:
        """The ``timeout`` option: the overall deadline of one call, retries included."""
        return float(self.options.timeout)
