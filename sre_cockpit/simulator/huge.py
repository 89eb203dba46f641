"""The ``huge`` fault: every answer of a backend is ``arg`` MB (default 100) of JSON-looking text.

HTTP answers are chunked (no Content-Length), so a client only learns the size by reading; the
Loki tail accepts the upgrade and sends one text message of that size in 1 MiB frames. Both are
written from one shared 1 MiB block, so the simulator itself stays small whatever the size.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

MB = 1024 * 1024
_BLOCK = b'{"pad":"' + b"x" * (MB - 12) + b'"},\n'
DEFAULT_MB = 100.0


async def huge_response(request: web.Request, size: int) -> web.StreamResponse:
    """A 200 ``application/json`` answer of ``size`` bytes, chunked."""
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    sent = 0
    try:
        while sent < size:
            piece = _BLOCK[: min(MB, size - sent)]
            await resp.write(piece)
            sent += len(piece)
        await resp.write_eof()
    except (ConnectionError, RuntimeError):  # the client hung up at its cap, as it should
        pass
    return resp


async def huge_tail_message(request: web.Request, ws: web.WebSocketResponse, size: int) -> None:
    """Send one tail text message of ``size`` bytes on an open WebSocket, in 1 MiB frames.

    aiohttp has no fragmented send, so the frames are written to the transport directly (no
    other frame is sent on this connection meanwhile).
    """
    transport = request.transport
    if transport is None:
        return
    head = b'{"streams":[{"stream":{"app":"huge"},"values":[["1","'
    sent, opcode = 0, 0x1  # text, then continuation frames
    while sent < size and not transport.is_closing() and not ws.closed:
        piece = (head + _BLOCK)[:MB] if sent == 0 else _BLOCK
        piece = piece[: size - sent]
        fin = 0x80 if sent + len(piece) >= size else 0
        transport.writelines([bytes([fin | opcode, 127]), len(piece).to_bytes(8, "big"), piece])
        sent += len(piece)
        opcode = 0x0
        while transport.get_write_buffer_size() > 4 * MB:  # a raw transport has no drain()
            if transport.is_closing():
                break
            await asyncio.sleep(0.01)
