"""The wires between the feeds and the views: which snapshot goes to which pane, the header's
health badges, and the feeds' jobs run as the app's workers.

:class:`FeedWiring` is owned by the app (``app.wiring``). For every pane of the registry
(:data:`~sre_cockpit.ui.panes.PANES`) it binds the view to its feed, posts each snapshot the
feed publishes to the view as its typed message, and counts every source in the header, so no
badge is greener than a pane's worst source. It tells the views and the feeds when the app's
focused incident or clock moment changes. Log lines (a
:class:`~sre_cockpit.feeds.base.BatchFeed`) are posted batch by batch, never merged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App

from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.feeds.base import BatchFeed
from sre_cockpit.ui.header import CockpitHeader
from sre_cockpit.ui.layout import PaneLayout
from sre_cockpit.ui.pane import Pane
from sre_cockpit.ui.panes import PANES, PaneSpec

if TYPE_CHECKING:
    from sre_cockpit.feeds.cockpit import Cockpit
    from sre_cockpit.feeds.probes import ProbesSnapshot


class FeedWiring:
    """Subscribes the app's panes and header to the current cockpit's feeds.

    Args:
        app: the app that runs the feeds' jobs as its workers.
        layout: where the panes are.
        header: counts every source's health.
        start_polling: False: the jobs are never run (snapshot tests feed the views).
    """

    def __init__(self, app: App[Any], layout: PaneLayout, header: CockpitHeader, *,
                 start_polling: bool = True) -> None:
        self.app = app
        self.layout = layout
        self.header = header
        self.start_polling = start_polling
        self._subscriptions: list[Callable[[], None]] = []
        self._jobs_of: Cockpit | None = None  # the cockpit whose feed jobs are running

    def bind(self, cockpit: Cockpit) -> None:
        """Bind every pane to its feed in ``cockpit``, subscribe, and run the feeds' jobs as
        workers. A pane that fails to bind says why in its place (and in the layout's
        ``pane_errors``); the others are bound all the same."""
        errors = self.layout.pane_errors
        self.unsubscribe()
        for spec in PANES:
            pane = self.layout.pane(spec.id)
            if pane is None or spec.id in errors:
                continue  # a stand-in already saying why it is missing
            try:
                feed = spec.feed(cockpit)
                pane.bind(feed)
                self._subscriptions.append(feed.subscribe(self._publisher(spec, pane)))
                if isinstance(feed, BatchFeed):  # the log lines: every batch, in order
                    self._subscriptions.append(feed.subscribe_batches(self._batch_poster(pane)))
                self._published(spec, pane, feed.snapshot)
            except Exception as exc:  # one pane failing must not take the others down
                reason = sanitize_line(f"{type(exc).__name__}: {exc}".splitlines()[0])
                errors[spec.id] = reason
                self.app.log.error(f"pane {spec.id} failed to start: {reason}")
                with contextlib.suppress(Exception):  # the pane may be half-built
                    pane.set_unconfigured(f"{spec.title} pane failed to start: {reason}")
        self._subscriptions.append(cockpit.probes.subscribe(self._probes_changed))
        self._probes_changed(cockpit.probes.snapshot)
        self.run_jobs(cockpit)

    def show_context(self, cockpit: Cockpit, *, clock: Callable[[], datetime]) -> None:
        """The header shows ``cockpit``'s context, its danger and its providers."""
        self.header.set_context(cockpit.context, danger=cockpit.production,
                                read_only=cockpit.read_only, providers=cockpit.providers,
                                build_errors=dict(cockpit.build_errors), clock=clock)

    def focus_incident(self, cockpit: Cockpit | None, incident: Incident | None) -> None:
        """Every pane narrows to ``incident`` (None: every incident), and the log feed streams
        its service's logs (the service's ``logs`` selector, else the default query)."""
        for pane in self.layout.panes():
            pane.show_focus(incident)
        if cockpit is not None:
            service = incident.service if incident is not None else None
            mapped = cockpit.services.get(service) if service else None
            cockpit.logs.focus_service(service, mapped.logs if mapped is not None else None)

    def show_moment(self, cockpit: Cockpit | None, at: datetime | None) -> None:
        """Every pane, the SLO feed and the log feed show the moment ``at`` (None: live)."""
        for pane in self.layout.panes():
            pane.show_moment(at)
        if cockpit is not None:
            cockpit.slos.show_moment(at)
            cockpit.logs.show_moment(at)  # the lines around it, by range queries

    def run_jobs(self, cockpit: Cockpit) -> None:
        """Run the cockpit's feed jobs as workers, once per cockpit (their first polls start at
        once: a :class:`~sre_cockpit.feeds.polling.Poller` fetches before it first sleeps)."""
        if not self.start_polling or self._jobs_of is cockpit:
            return
        self._jobs_of = cockpit
        for job in cockpit.jobs():
            self.app.run_worker(job.run(), name=job.name, group="feeds", exit_on_error=False)

    def unbind(self) -> None:
        """Stop listening to the feeds and stop their jobs."""
        self.unsubscribe()
        self.app.workers.cancel_group(self.app, "feeds")
        self._jobs_of = None

    def unsubscribe(self) -> None:
        """Stop listening to the feeds (their jobs keep running)."""
        for unsubscribe in self._subscriptions:
            unsubscribe()
        self._subscriptions.clear()

    def _publisher(self, spec: PaneSpec, pane: Pane) -> Callable[[Any], None]:
        def published(snapshot: Any) -> None:
            self._published(spec, pane, snapshot)
        return published

    def _published(self, spec: PaneSpec, pane: Pane, snapshot: Any) -> None:
        """A feed published: its view gets the snapshot, the header counts its sources."""
        pane.post_message(pane.changed_message(snapshot))
        for health in snapshot.sources:
            self.header.update_health(health, source=spec.id)

    @staticmethod
    def _batch_poster(pane: Pane) -> Callable[[Any], None]:
        """Post each batch a feed hands over (log lines) to its view: never merged or replaced,
        unlike snapshots, since each holds what no other one has."""
        def posted(batch: Any) -> None:
            pane.post_message(pane.batch_message(batch))
        return posted

    def _probes_changed(self, snapshot: ProbesSnapshot) -> None:
        """Providers no pane asks were probed: their header badges say whether they answer."""
        for health in snapshot.sources:
            self.header.update_health(health, source="probes")
