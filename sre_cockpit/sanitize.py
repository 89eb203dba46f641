"""Terminal-safe text (PLACEHOLDER API — the Loki issue's helper replaces the body with the full
ECMA-48 state machine; the signatures below are the contract every module calls)."""

from __future__ import annotations

DEFAULT_MAX_BYTES = 4096


def sanitize(text: str | bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """Return ``text`` safe to render: no C0 (except tab), DEL, C1 or escape sequences; controls
    shown as visible markers; bidi/zero-width made visible; capped at ``max_bytes`` UTF-8 bytes."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = "".join(ch if (ch == "\t" or (ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F)) else "\ufffd" for ch in text)
    return out


def sanitize_line(text: str | bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """Like :func:`sanitize` but also turns newlines into a visible marker (one-line fields)."""
    return sanitize(text, max_bytes=max_bytes).replace("\n", "␤")
