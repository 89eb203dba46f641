"""The Loki tail's WebSocket session: a bound on each message's size, and the time bytes last
arrived (to detect a silent connection).

httpx-ws's ``max_message_size_bytes`` is only the size of each read from the socket: a message
that arrives in fragments is joined in memory without limit, so one 100 MB tail message would be
held whole (and joined by repeated concatenation). Here the WebSocket protocol object counts the
bytes of the message being received and fails the connection with close code 1009 ("message too
big") as soon as it passes the cap; the tail reconnects with backoff like after any other close.
Nothing here imports Textual.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any, ClassVar, cast

import wsproto
import wsproto.connection
import wsproto.events
from httpx_ws import AsyncWebSocketSession

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.bodies import format_size

READ_SIZE = 256 * 1024
"""Bytes read from the socket at a time (httpx-ws's ``max_message_size_bytes``)."""


class TailMessageTooLarge(ProviderError):
    """A tail message passed ``max_message``; the connection is dropped (code 1009)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"tail message larger than {format_size(cap)} (max_message); "
                         "dropped the connection", retryable=True)
        self.cap = cap
        self.code = 1009


class CappedConnection(wsproto.connection.Connection):
    """A client-side wsproto connection that refuses a message larger than ``cap`` bytes
    (characters, for text) while it is still arriving."""

    def __init__(self, cap: int) -> None:
        super().__init__(wsproto.ConnectionType.CLIENT)
        self.cap = cap
        self.receiving = 0
        """Size of the message being received so far."""

    def events(self) -> Generator[wsproto.events.Event, None, None]:
        """The protocol's events, counting message fragments against the cap.

        Raises:
            TailMessageTooLarge: the message being received passed the cap.
        """
        for event in super().events():
            if isinstance(event, wsproto.events.Message):
                self.receiving += len(event.data)
                if self.receiving > self.cap:
                    raise TailMessageTooLarge(self.cap)
                if event.message_finished:
                    self.receiving = 0
            yield event


class TailSession(AsyncWebSocketSession):
    """Remembers when bytes last arrived (server pings and pongs included) to detect silence,
    and bounds each message at :attr:`max_message` bytes."""

    max_message: ClassVar[int] = 8 * 1024 * 1024
    last_rx: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = CappedConnection(self.max_message)

    async def _read_stream(self, max_bytes: int) -> bytes:
        data = await super()._read_stream(max_bytes)
        self.last_rx = time.monotonic()
        return data


_SESSIONS: dict[int, type[TailSession]] = {}


def session_class(max_message: int) -> type[TailSession]:
    """A :class:`TailSession` class whose messages are capped at ``max_message`` bytes (httpx-ws
    builds the session itself from the class)."""
    found = _SESSIONS.get(max_message)
    if found is None:
        found = cast(type[TailSession], type(f"TailSession{max_message}", (TailSession,),
                                             {"max_message": max_message}))
        _SESSIONS[max_message] = found
    return found
