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
===========================  =========================  =====================================

A snapshot message replaces an older one still waiting in the view's queue (only the newest
matters); nothing is lost because every snapshot is complete.
"""

from __future__ import annotations

from textual.message import Message

from sre_cockpit.feeds.incidents import IncidentsSnapshot
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
