"""Hands every batch of a stream to its subscribers in order, and keeps the batches published
before anyone listened for the first subscriber (the stream starts before the view that shows
it is mounted: the lines loaded at start must not be lost). Nothing here imports Textual."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

B = TypeVar("B")
log = logging.getLogger(__name__)

__all__ = ["Fanout"]


class Fanout(Generic[B]):
    """Subscribers of a stream of batches.

    Attributes:
        backlog_dropped: items of the backlog dropped (oldest first) beyond ``max_backlog``.
    """

    def __init__(self, size: Callable[[B], int], *, max_backlog: int, name: str) -> None:
        self._size = size
        self._max_backlog = max_backlog
        self._name = name
        self._subscribers: list[Callable[[B], None]] = []
        self._backlog: deque[B] = deque()
        self._backlog_items = 0
        self.backlog_dropped = 0

    def subscribe(self, callback: Callable[[B], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` with every batch, first with those nobody has received
        yet; returns the unsubscribe function."""
        self._subscribers.append(callback)
        backlog, self._backlog, self._backlog_items = self._backlog, deque(), 0
        for batch in backlog:
            self._call(callback, batch)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, batch: B) -> None:
        """Hand ``batch`` to every subscriber (kept for the first one while there is none)."""
        if not self._subscribers:
            self._backlog.append(batch)
            self._backlog_items += self._size(batch)
            while self._backlog_items > self._max_backlog and len(self._backlog) > 1:
                dropped = self._size(self._backlog.popleft())
                self._backlog_items -= dropped
                self.backlog_dropped += dropped
            return
        for callback in list(self._subscribers):
            self._call(callback, batch)

    def _call(self, callback: Callable[[B], None], batch: B) -> None:
        try:
            callback(batch)
        except Exception:
            log.exception("%s: a subscriber failed", self._name)
