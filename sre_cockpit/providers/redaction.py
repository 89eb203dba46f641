"""Redaction of secrets from every text the cockpit shows, prints or logs.

A secret is removed in every form it can take on the way back from a server or a library: as
written, URL-encoded (``%2B``, ``+`` for space, either hex case), JSON-escaped, as Python shows
it inside ``'…'`` or ``b'…'`` (httpx's ``Illegal header value b'Bearer …'``), and base64-encoded —
whole, and inside a longer base64 text at any alignment, which covers ``Basic <base64 of
user:pass>``. ``Bearer x`` and ``Token token=x`` contain ``x`` and so lose it too. On top of the
known values, generic shapes are removed: ``user:pass@`` in URLs, token query parameters and
``Authorization:`` header values.

Every client registers its secrets (:func:`remember_secrets`), and so does the config loader, so
:func:`redact` covers every secret of the process without being handed them. Nothing here
imports Textual.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_TOKEN_PARAM = re.compile(
    r"(?i)(?P<key>[?&](?:access_token|token|api_key|apikey|key|password|secret|sig|signature|auth)=)"
    r"(?P<val>[^&#\s]+)"
)
_AUTH_HEADER = re.compile(r"(?i)(?P<key>(?:authorization|token token)[\"']?\s*[:=]\s*[\"']?)"
                          r"(?P<val>[^\"'\s,]+(?:\s+[^\"'\s,]+)?)")
_PERCENT_HEX = re.compile(r"%[0-9A-F]{2}")
REDACTED = "***"
MIN_SECRET = 3
"""Shorter values are not redacted (``***`` for every ``a`` would make text unreadable)."""
MIN_BASE64_PART = 8
"""A base64 fragment of a secret shorter than this is not searched for (too many false hits)."""

_KNOWN_SECRETS: set[str] = set()
"""Secrets of every client built and every config loaded in this process."""


def _base64_parts(raw: bytes) -> set[str]:
    """The base64 characters that encode only ``raw``'s bits, at each of the three alignments
    ``raw`` can have inside a longer encoded text (standard and URL-safe alphabets)."""
    parts: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        start = -(-shift * 8 // 6)  # first character made only of raw's bits
        end = (shift + len(raw)) * 8 // 6  # characters after this mix in what follows
        core = encoded[start:end]
        if len(core) >= MIN_BASE64_PART:
            parts.add(core)
            parts.add(core.replace("+", "-").replace("/", "_"))
    whole = base64.b64encode(raw).decode("ascii")
    if len(whole) >= MIN_BASE64_PART:
        parts.update({whole, whole.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii")})
    return parts


@functools.lru_cache(maxsize=512)
def secret_forms(secret: str) -> tuple[str, ...]:
    """Every text form of ``secret`` that is removed, longest first (empty for short values)."""
    if len(secret) < MIN_SECRET:
        return ()
    forms = {secret}
    for encoded in (quote(secret, safe=""), quote(secret), quote_plus(secret, safe="")):
        forms.add(encoded)
        forms.add(_PERCENT_HEX.sub(lambda m: m.group(0).lower(), encoded))
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(repr(secret)[1:-1])
    raw = secret.encode("utf-8", "surrogateescape")
    forms.add(repr(raw)[2:-1])
    forms.update(_base64_parts(raw))
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True))


@functools.lru_cache(maxsize=64)
def _pattern(forms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of every form, longest first; percent-encoded forms match either hex
    case (``%2f`` and ``%2F`` may be mixed in one URL)."""
    if not forms:
        return None
    return re.compile("|".join(f"(?i:{re.escape(f)})" if "%" in f else re.escape(f)
                               for f in forms))


@functools.lru_cache(maxsize=64)
def _bytes_pattern(forms: tuple[str, ...]) -> re.Pattern[bytes] | None:
    if not forms:
        return None
    return re.compile(b"|".join(
        b"(?i:" + re.escape(f.encode("utf-8", "surrogateescape")) + b")" if "%" in f
        else re.escape(f.encode("utf-8", "surrogateescape")) for f in forms))


def _all_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for secret in (*secrets, *_KNOWN_SECRETS):
        if secret:
            found.update(secret_forms(secret))
    return tuple(sorted(found, key=lambda f: (-len(f), f)))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secrets from ``text``: ``secrets`` and every registered one, in every encoded
    form, then ``user:pass@`` in URLs, token query parameters and Authorization header values."""
    pattern = _pattern(_all_forms(secrets))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _TOKEN_PARAM.sub(lambda m: f"{m['key']}{REDACTED}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['key']}{REDACTED}", text)
    return text


def redact_bytes(body: bytes, secrets: Iterable[str] = ()) -> bytes:
    """``body`` with every form of every secret replaced by ``***`` (an error answer that echoes
    the request's credentials, before any provider reads it)."""
    pattern = _bytes_pattern(_all_forms(secrets))
    return body if pattern is None else pattern.sub(REDACTED.encode(), body)


def remember_secrets(secrets: Iterable[str]) -> None:
    """Register secrets that :func:`redact` and every :class:`RedactingFilter` remove."""
    _KNOWN_SECRETS.update(s for s in secrets if s)


def known_secrets() -> frozenset[str]:
    """The secrets registered so far."""
    return frozenset(_KNOWN_SECRETS)


class RedactingFilter(logging.Filter):
    """Logging filter that redacts secrets (its own, and every registered one) from every
    record passing through: message, arguments, exception and stack text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw text
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(target: logging.Logger | logging.Handler | None = None) -> None:
    """Attach the process-wide redacting filter to a logger or handler (idempotent). Without a
    target: the ``httpx``, ``httpcore`` and ``sre_cockpit`` loggers and the root handlers."""
    targets: list[logging.Logger | logging.Handler] = []
    if target is not None:
        targets.append(target)
    else:
        targets += [logging.getLogger(n) for n in ("httpx", "httpcore", "sre_cockpit",
                                                   "sre_cockpit.providers.http")]
        targets += logging.getLogger().handlers
    for item in targets:
        if _FILTER not in item.filters:
            item.addFilter(_FILTER)
