"""Bounded answers: sizes as people write them (``16MiB``) and reading an HTTP body as a stream
that stops at a cap.

``HttpClient.request`` reads every answer through :func:`read_capped`: the raw bytes as they
arrive, decoded here (identity, gzip or deflate) with the output of every step bounded, so neither
a 100 MB answer nor a gzip bomb (a 100 KB body that inflates to 100 MB) is ever held whole.
Nothing here imports Textual.
"""

from __future__ import annotations

import mmap
import re
import zlib
from typing import Annotated, Any

import httpx
from pydantic import AfterValidator, BeforeValidator

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
          "kib": KIB, "mib": MIB, "gib": GIB}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")
ACCEPT_ENCODING = "gzip, deflate"
"""What the client offers: the encodings :func:`read_capped` can inflate under a bound."""


def parse_size(value: Any) -> int:
    """Bytes from a size such as ``16MiB``, ``512 KiB``, ``2MB`` or a bare number of bytes.

    ``KB``/``MB``/``GB`` are powers of 1000, ``KiB``/``MiB``/``GiB`` powers of 1024.

    Raises:
        ValueError: with a message fit for a config error line.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 16MiB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a size like 16MiB or 512KiB, got {type(value).__name__}")
    match = _SIZE.fullmatch(value.strip())
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in ("", *_UNITS):
        raise ValueError(f"invalid size {value!r}: use a number and a unit (B, KB, MB, GB, KiB, "
                         "MiB, GiB), e.g. 16MiB")
    return int(float(match.group(1)) * _UNITS.get(unit, 1))


def format_size(size: int) -> str:
    """``16777216`` → ``16 MiB``; ``1536`` → ``1.5 KiB``; ``100`` → ``100 B``."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            text = f"{size / scale:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return f"{size} B"


MIN_CAP = 64 * KIB
MAX_CAP = GIB


def check_cap(value: int) -> int:
    """A size cap between 64 KiB and 1 GiB.

    Raises:
        ValueError: outside those bounds (a config error line).
    """
    if not MIN_CAP <= value <= MAX_CAP:
        raise ValueError(f"must be between 64KiB and 1GiB, got {format_size(value)}")
    return value


ByteSize = Annotated[int, BeforeValidator(parse_size), AfterValidator(check_cap)]
"""A pydantic field type for a size cap: accepts ``16MiB``/``2MB``/a number of bytes between
64 KiB and 1 GiB, stores bytes."""


class BodyTooLarge(Exception):
    """The answer is larger than the cap (``HttpClient`` turns it into a one-line error)."""

    def __init__(self, cap: int, *, declared: int | None = None) -> None:
        super().__init__(f"answer larger than {format_size(cap)}")
        self.cap = cap
        self.declared = declared
        """The Content-Length the server announced, when that alone gave it away."""


class BodyDecodeError(Exception):
    """The answer's Content-Encoding is unknown or its compressed data is corrupt."""


class _Inflater:
    """Bounded decoding of one Content-Encoding (``identity``, ``gzip`` or ``deflate``)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.zlib: Any = None
        if encoding in ("gzip", "x-gzip"):
            self.zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self.zlib = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise BodyDecodeError(f"unsupported Content-Encoding {encoding[:40]!r} (the client "
                                  f"asked for {ACCEPT_ENCODING})")
        self.first = True

    def feed(self, data: bytes, room: int) -> bytes:
        """Decoded bytes of ``data``: at most ``room + 1`` (one more than fits means too large)."""
        if self.zlib is None:
            return data
        first, self.first = self.first, False
        try:
            return bytes(self.zlib.decompress(data, room + 1))
        except zlib.error as exc:
            if not (first and self.encoding == "deflate"):
                raise BodyDecodeError(f"corrupt {self.encoding} data: {exc}") from None
        # "deflate" is raw DEFLATE for some servers (httpx retries the same way)
        self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return bytes(self.zlib.decompress(data, room + 1))
        except zlib.error as exc:
            raise BodyDecodeError(f"corrupt {self.encoding} data: {exc}") from None

    def flush(self) -> bytes:
        """What the decoder still holds once the input ended."""
        if self.zlib is None:
            return b""
        try:
            return bytes(self.zlib.flush())
        except zlib.error as exc:
            raise BodyDecodeError(f"corrupt {self.encoding} data: {exc}") from None


def declared_length(resp: httpx.Response) -> int | None:
    """Content-Length of an unencoded answer, or None (absent, invalid or compressed)."""
    if resp.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    raw = resp.headers.get("content-length", "")
    return int(raw) if raw.isdigit() else None


async def read_capped(resp: httpx.Response, cap: int) -> bytes:
    """Read a streamed response's body, decoded, holding at most ``cap`` (+ one chunk) bytes.

    Args:
        resp: a response from ``client.send(..., stream=True)``; the caller closes it.
        cap: the largest decoded body accepted, in bytes.

    Raises:
        BodyTooLarge: the body (announced or decoded so far) is larger than ``cap``.
        BodyDecodeError: an unknown Content-Encoding or corrupt compressed data.
        httpx.HTTPError: the connection failed while reading.
    """
    declared = declared_length(resp)
    if declared is not None and declared > cap:
        raise BodyTooLarge(cap, declared=declared)
    try:
        already = resp.content  # a transport that answers with a complete, decoded body
    except httpx.ResponseNotRead:
        pass
    else:
        if len(already) > cap:
            raise BodyTooLarge(cap)
        return already
    encoding = resp.headers.get("content-encoding", "").strip().lower()
    inflater = _Inflater(encoding)
    # The body is gathered in an anonymous memory map of ``cap`` bytes (pages are only used as
    # they are written) and unmapped at the end: its memory goes back to the system at once.
    # Gathered on the heap, the chunks of eight abandoned 16 MiB answers stayed in the
    # process after they were freed (RSS +160 MB until malloc_trim), fragmenting the heap.
    with mmap.mmap(-1, max(cap, 1)) as buffer:
        total = 0
        async for chunk in resp.aiter_raw():
            out = inflater.feed(chunk, cap - total)
            if total + len(out) > cap:
                raise BodyTooLarge(cap)
            buffer.write(out)
            total += len(out)
        tail = inflater.flush()
        if total + len(tail) > cap:
            raise BodyTooLarge(cap)
        buffer.write(tail)
        total += len(tail)
        return buffer[:total]


def buffered_copy(resp: httpx.Response, body: bytes) -> httpx.Response:
    """A complete response with ``body`` (already decoded) in place of the stream: same status,
    headers (less the encoding and framing ones, which described the stream) and request."""
    headers = [(k, v) for k, v in resp.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    extensions = {k: v for k, v in resp.extensions.items() if k in ("http_version",
                                                                    "reason_phrase")}
    return httpx.Response(resp.status_code, headers=headers, content=body,
                          request=resp.request, extensions=extensions)
