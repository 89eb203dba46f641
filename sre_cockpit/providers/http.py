"""The one HTTP layer every provider uses: options schema, client factory, deadline, retries,
a bound on answer size and on requests in flight, auth, TLS and redaction of secrets.

Memory is bounded per client: at most ``max_in_flight`` requests are open at once and each
answer is read as a stream that stops at ``max_body`` (see :mod:`.bodies`), so a backend that
answers 100 MB costs at most ``max_in_flight × max_body`` while it lasts. Credentials are sent only
to the configured origin (see :mod:`.credentials`); every error body is scrubbed of every form of
every secret before a provider reads it (see :mod:`.redaction`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx

from sre_cockpit import __version__
from sre_cockpit.providers.base import Provider, ProviderError, RateLimitedError
from sre_cockpit.providers.bodies import (
    ACCEPT_ENCODING,
    MIB,
    BodyDecodeError,
    BodyTooLarge,
    buffered_copy,
    format_size,
    read_capped,
)
from sre_cockpit.providers.credentials import origin_of, show_origin
from sre_cockpit.providers.http_options import (
    AuthOptions,
    BasicAuth,
    HeaderSecret,
    HeaderValue,
    HttpOptions,
    secrets_of,
)
from sre_cockpit.providers.redaction import (
    REDACTED,
    RedactingFilter,
    install_log_redaction,
    redact,
    redact_bytes,
    remember_secrets,
)

__all__ = [
    "MIB",
    "REDACTED",
    "AnswerTooLarge",
    "AuthOptions",
    "BasicAuth",
    "HeaderSecret",
    "HeaderValue",
    "HttpClient",
    "HttpOptions",
    "HttpProvider",
    "RedactingFilter",
    "RetryPolicy",
    "build_client",
    "install_log_redaction",
    "redact",
    "remember_secrets",
    "retry_after_seconds",
    "secrets_of",
]

log = logging.getLogger(__name__)


class AnswerTooLarge(ProviderError):
    """An answer was larger than the provider's ``max_body`` (the call was abandoned)."""


_HELD: contextvars.ContextVar[frozenset[tuple[int, int]]] = contextvars.ContextVar(
    "sre_cockpit_http_slots", default=frozenset())
"""(client, task) pairs holding an in-flight slot: a task never waits for its own slot."""


# ---------------------------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------------------------

_TLS_LOCK = threading.Lock()
_TLS_CONTEXTS: dict[str, ssl.SSLContext] = {}


def _shared_tls(kind: str) -> ssl.SSLContext:
    """One TLS context of each kind for every client (they are safe to share).

    ``verify``: httpx's own default, certifi's CA bundle (or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``); loading it cost ~30-60 ms of CPU and ~1 MB per client, and every provider
    built one before its pane could show anything. ``plain``: for a client whose origin is
    ``http://``: it never makes a TLS connection (no redirects are followed and requests to
    another origin are refused), so it gets a verifying context that trusts no certificate at all
    — if it were ever used it would refuse the server, never accept it unverified.
    """
    with _TLS_LOCK:
        context = _TLS_CONTEXTS.get(kind)
        if context is None:
            context = (httpx.create_ssl_context() if kind == "verify"
                       else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
            _TLS_CONTEXTS[kind] = context
        return context


def tls_context(opts: HttpOptions, provider: str) -> ssl.SSLContext | bool:
    """What ``verify=`` a client of ``opts`` gets: False (``insecure_skip_verify``, warned
    about loudly), its own context for ``ca_file``, else a shared one."""
    if opts.insecure_skip_verify:
        log.warning("%s: TLS verification is OFF (insecure_skip_verify); anyone on the path "
                    "can read and change this traffic", provider)
        return False
    if opts.ca_file:
        return ssl.create_default_context(cafile=os.path.expanduser(opts.ca_file))
    if origin_of(opts.url)[0] == "http" and not opts.proxy:
        return _shared_tls("plain")
    return _shared_tls("verify")


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
    """An httpx.AsyncClient with an overall deadline per call, retries, auth, bounded answers,
    a bound on requests in flight and redaction.

    ``request`` returns the response, fully read, for every HTTP status (callers map statuses to
    their own errors), except that 429 and 502/503/504 on idempotent calls are retried first.
    Network errors, deadline overruns, answers over ``max_body`` and URLs of another origin raise
    ``ProviderError`` with a redacted one-line message.
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
        headers = {"User-Agent": user_agent or f"sre-cockpit/{__version__}",
                   "Accept-Encoding": ACCEPT_ENCODING, **opts.headers}
        auth: httpx.Auth | None = None
        if opts.auth and opts.auth.bearer_token is not None:
            headers["Authorization"] = f"Bearer {opts.auth.bearer_token.get_secret_value()}"
        elif opts.auth and opts.auth.basic is not None:
            auth = httpx.BasicAuth(opts.auth.basic.username,
                                   opts.auth.basic.password.get_secret_value())
        verify = tls_context(opts, provider)
        self.base_url = opts.url.rstrip("/")
        self.origins = {origin_of(self.base_url)}
        """Where this client sends requests (and so its credentials): the configured origin."""
        self.max_body = int(opts.max_body)
        self.in_flight = 0
        """Requests open right now (observed by tests and the benchmark)."""
        self.peak_in_flight = 0
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
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

    # -- origins ---------------------------------------------------------------------------

    def allow_origin(self, url: str) -> None:
        """Also send requests (with credentials) to ``url``'s origin: for absolute URLs the
        operator wrote in the config, never for URLs a server sent."""
        self.origins.add(origin_of(url))

    def foreign_origin(self, url: str) -> str | None:
        """``scheme://host:port`` of an absolute ``url`` this client must not send to, or None
        (relative, or one of :attr:`origins`)."""
        if not url.startswith(("http://", "https://", "HTTP://", "HTTPS://")):
            return None
        try:
            origin = origin_of(url)
        except Exception:  # an unparsable URL from a server is as foreign as it gets
            return "an unparsable URL"
        return None if origin in self.origins else show_origin(origin)

    # -- in-flight bound -------------------------------------------------------------------

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem = asyncio.Semaphore(self.opts.max_in_flight)
            self._sem_loop = loop
        return self._sem

    @contextlib.asynccontextmanager
    async def slot(self, path: str, budget: float | None = None) -> AsyncIterator[None]:
        """Hold one of the ``max_in_flight`` slots (``request`` takes one itself; a caller that
        needs to check something once its turn has come holds it around ``request``).

        The wait is bounded by two call deadlines, so one call overrunning its deadline still
        lets the queued ones through and a backend that accepts but never answers cannot make
        queued calls wait a deadline each, one after the other.

        Raises:
            ProviderError: no slot freed within two deadlines.
        """
        key = (id(self), id(asyncio.current_task()))
        held = _HELD.get()
        if key in held:  # this task already holds one (the caller took it around request)
            yield
            return
        budget = float(budget if budget is not None else self.opts.timeout)
        sem = self._semaphore()
        try:
            async with asyncio.timeout(2 * budget):
                await sem.acquire()
        except TimeoutError:
            raise ProviderError(self.redact(
                f"{self.provider}: no complete answer from {self.endpoint(path)} within "
                f"{budget:g}s (waited {2 * budget:g}s for one of {self.opts.max_in_flight} "
                "busy connections)"), retryable=True) from None
        token = _HELD.set(held | {key})
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            _HELD.reset(token)
            sem.release()

    # -- requests --------------------------------------------------------------------------

    async def _send_once(self, method: str, path: str, *, params: Any, json: Any, data: Any,
                         headers: Mapping[str, str] | None) -> httpx.Response:
        """One exchange: the answer read as a stream up to ``max_body``, decoded, and — for an
        error status — scrubbed of every form of every secret."""
        request = self.client.build_request(method, path, params=params, json=json, data=data,
                                            headers=headers)
        streamed = await self.client.send(request, stream=True)
        try:
            body = await read_capped(streamed, self.max_body)
        except BodyTooLarge as exc:
            size = f" (announced {format_size(exc.declared)})" if exc.declared else ""
            raise AnswerTooLarge(self.redact(
                f"{self.provider}: answer larger than {format_size(exc.cap)} (max_body){size}: "
                f"{method} {self.endpoint(path)}; raise max_body for {self.provider} if answers "
                "this large are expected"), retryable=True, status=streamed.status_code) from None
        except BodyDecodeError as exc:
            raise ProviderError(self.redact(
                f"{self.provider}: unreadable answer from {self.endpoint(path)}: {exc}"),
                status=streamed.status_code) from None
        finally:
            await streamed.aclose()
        if streamed.status_code >= 400 and body:
            body = redact_bytes(body, self.secrets)
        return buffered_copy(streamed, body)

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                      data: Any = None, headers: Mapping[str, str] | None = None,
                      idempotent: bool | None = None, deadline: float | None = None,
                      attempts: int | None = None) -> httpx.Response:
        """Send one request under an overall deadline (default ``opts.timeout``), retrying
        idempotent calls on network errors, 429 and 502/503/504 with capped full-jitter backoff.

        Raises:
            ProviderError: network error, deadline, an answer over ``max_body``
                (:class:`AnswerTooLarge`), or an absolute URL of another origin.
        """
        method = method.upper()
        foreign = self.foreign_origin(path)
        if foreign is not None:
            raise ProviderError(self.redact(
                f"{self.provider}: refusing to send a request with credentials to {foreign}, "
                f"which is not the configured {show_origin(next(iter(self.origins)))}"),
                retryable=False)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        tries = attempts if attempts is not None else (self.retry.attempts if idempotent else 1)
        budget = deadline if deadline is not None else self.opts.timeout
        async with self.slot(path, budget):
            return await self._with_retries(method, path, params=params, json=json, data=data,
                                            headers=headers, idempotent=idempotent,
                                            tries=tries, budget=budget)

    async def _with_retries(self, method: str, path: str, *, params: Any, json: Any, data: Any,
                            headers: Mapping[str, str] | None, idempotent: bool, tries: int,
                            budget: float) -> httpx.Response:
        loop = asyncio.get_running_loop()
        end = loop.time() + budget
        last_error: ProviderError | None = None
        for attempt in range(1, max(1, tries) + 1):
            remaining = end - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    resp = await self._send_once(method, path, params=params, json=json,
                                                 data=data, headers=headers)
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
