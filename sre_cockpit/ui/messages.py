"""The typed messages that carry the feeds' snapshots to the views.

The app subscribes to every feed and posts one of these to the view that shows it, in the
app's event loop; a view only renders what it receives. Like Textual's own messages, each is
handled by a method named after it:

===========================  =========================  =====================================
message                      handler                    attributes
===========================  =========================  =====================================
:class:`IncidentsChanged`    ``on_incidents_changed``   ``snapshot``: IncidentsSnapshot
:class:`SlosChanged`         ``on_slos_changed``        ``snapshot``: SlosSnapshot
:class:`TimelineChanged`     ``on_timeline_changed``    ``snapshot``: TimelineSnapshot
:class:`LogsChanged`         ``on_logs_changed``        ``snapshot``: LogsSnapshot
:class:`LogLinesArrived`     ``on_log_lines_arrived``   ``batch``: LogBatch
===========================  =========================  =====================================

A snapshot message replaces an older one still waiting in the view's queue (only the newest
matters); nothing is lost because every snapshot is complete. A batch of log lines is never
replaced or merged: each one holds lines no other message has.
"""

from __future__ import annotations

from textual.message import Message

from sre_cockpit.feeds.incidents import IncidentsSnapshot
from sre_cockpit.feeds.logs import LogBatch, LogsSnapshot
from sre_cockpit.feeds.slos import SlosSnapshot
from sre_cockpit.feeds.timeline import TimelineSnapshot


class IncidentsChanged(Message):
    """The incident feed published a new snapshot.

    Attributes:
        snapshot: every incident, merged and ordered, with per-source health.
    """

    def __init__(self, snapshot: IncidentsSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IncidentsChanged)


class SlosChanged(Message):
    """The SLO feed published a new snapshot.

    Attributes:
        snapshot: every SLO's figures, worst first, with per-provider health and the moment.
    """

    def __init__(self, snapshot: SlosSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SlosChanged)


class TimelineChanged(Message):
    """The timeline feed published a new snapshot.

    Attributes:
        snapshot: every source's events merged (failing sources' last good events included),
            per-source health, the incidents and the notes' state.
    """

    def __init__(self, snapshot: TimelineSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TimelineChanged)


class LogsChanged(Message):
    """The log feed published a new snapshot (mode, counters, query, moment, health).

    Attributes:
        snapshot: the stream's state; the lines come in :class:`LogLinesArrived`.
    """

    def __init__(self, snapshot: LogsSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogsChanged)


class LogLinesArrived(Message):
    """The log feed handed over a batch of lines (live lines, or the lines around a moment).

    Attributes:
        batch: the lines, their stream's generation and, for a moment, the moment.
    """

    def __init__(self, batch: LogBatch) -> None:
        super().__init__()
        self.batch = batch
