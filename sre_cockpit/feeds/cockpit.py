"""Every feed of one context, built together: what the TUI app and the CLI commands hold.

:class:`Cockpit` builds the context's providers (the :class:`~sre_cockpit.feeds.runtime.Runtime`)
and one feed per kind of data. The TUI runs :meth:`Cockpit.jobs` as workers and subscribes its
views; a CLI command calls the feeds' ``refresh`` once. Either way the data, its ordering and
its deadlines come from the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property

from sre_cockpit.config.model import Config, ServiceConfig
from sre_cockpit.core.models import ProviderHealth, utcnow
from sre_cockpit.feeds.base import Feed, Job
from sre_cockpit.feeds.incidents import IncidentFeed
from sre_cockpit.feeds.journal import Journal
from sre_cockpit.feeds.logs import LogFeed
from sre_cockpit.feeds.notes import NotesFeed
from sre_cockpit.feeds.probes import ProbeFeed
from sre_cockpit.feeds.runtime import Runtime
from sre_cockpit.feeds.slos import SloFeed
from sre_cockpit.feeds.timeline import TimelineFeed
from sre_cockpit.providers.base import LogSource


class Cockpit:
    """The feeds of one context.

    Args:
        config: a validated config.
        context: the context's name (None: ``default_context``, else the first).
        read_only: never act, whatever the context says.
        clock: "now" for every feed (tests freeze it).
        runtime: the context's providers, already built (default: built here).
        journal: the notes store to use (default: the configured one, opened on first use).

    Raises:
        KeyError: ``context`` is not in the config.
    """

    def __init__(self, config: Config, context: str | None = None, *, read_only: bool = False,
                 clock: Callable[[], datetime] = utcnow,
                 runtime: Runtime | None = None, journal: Journal | None = None) -> None:
        self.runtime = runtime or Runtime(config, context, read_only=read_only or None,
                                          clock=clock)
        self._journal = journal

    # The feeds are built on first use: the app builds the cockpit (its providers) early and
    # binds the views after the first frame; the notes store opens only then.

    @cached_property
    def incidents(self) -> IncidentFeed:
        """Every incident provider, merged."""
        return IncidentFeed(self.runtime)

    @cached_property
    def slos(self) -> SloFeed:
        """The SLOs, evaluated per metrics provider."""
        return SloFeed(self.runtime)

    @cached_property
    def logs(self) -> LogFeed:
        """The first log source's live stream, its query and the moments' lines."""
        return LogFeed(self.runtime)

    @cached_property
    def notes(self) -> NotesFeed:
        """The operator's notes and their delivery."""
        return NotesFeed(self.runtime, journal=self._journal)

    @cached_property
    def timeline(self) -> TimelineFeed:
        """Every source's events, the observed ones and the notes, merged."""
        return TimelineFeed(self.runtime, incidents=self.incidents, slos=self.slos,
                            notes=self.notes)

    @cached_property
    def probes(self) -> ProbeFeed:
        """Providers no pane asks, probed so their badge never waits for ever."""
        asked = [h.provider for h in (*self.incidents.snapshot.sources,
                                      *self.slos.snapshot.sources,
                                      *self.timeline.snapshot.sources)]
        asked += list(self.runtime.of(LogSource))  # type: ignore[type-abstract]
        return ProbeFeed(self.runtime, asked=asked)

    # ------------------------------------------------------------------------------ facts

    @property
    def context(self) -> str:
        """The context's name."""
        return self.runtime.context_name

    @property
    def production(self) -> bool:
        """A production-like context (loud header, confirmations say so)."""
        return self.runtime.is_production

    @property
    def read_only(self) -> bool:
        """Actions are refused."""
        return self.runtime.read_only

    @property
    def providers(self) -> tuple[str, ...]:
        """The context's provider names, in config order."""
        return tuple(self.runtime.context.providers)

    @property
    def build_errors(self) -> Mapping[str, str]:
        """Providers that failed to start, and why."""
        return dict(self.runtime.build_errors)

    @property
    def services(self) -> Mapping[str, ServiceConfig]:
        """The context's services (log selectors, SLOs)."""
        return self.runtime.context.services

    @property
    def clock(self) -> Callable[[], datetime]:
        """"Now" for everything shown."""
        return self.runtime.clock

    @property
    def user(self) -> str:
        """Who acts (silences' createdBy, notes' author)."""
        return self.runtime.env.user

    def feeds(self) -> Sequence[Feed[object]]:
        """Every feed (for their jobs and their closing)."""
        return (self.incidents, self.slos, self.logs,  # type: ignore[return-value]
                self.notes, self.timeline, self.probes)

    def jobs(self) -> list[Job]:
        """Every long-lived coroutine the owner runs while the cockpit is live."""
        return [job for feed in self.feeds() for job in feed.jobs()]

    def sources(self) -> list[ProviderHealth]:
        """Every feed's sources now (the header counts each provider by its worst)."""
        return [*self.incidents.snapshot.sources, *self.slos.snapshot.sources,
                *self.logs.snapshot.sources, *self.timeline.snapshot.sources,
                *self.probes.snapshot.sources]

    async def aclose(self) -> None:
        """Close the feeds that were built and every provider's connections."""
        if "timeline" in self.__dict__:  # built: close it (else nothing was opened)
            await self.timeline.aclose()
        if "incidents" in self.__dict__:
            await self.incidents.aclose()
        if "slos" in self.__dict__:
            await self.slos.aclose()
        if "logs" in self.__dict__:
            await self.logs.aclose()
        if "notes" in self.__dict__:
            await self.notes.aclose()
        if "probes" in self.__dict__:
            await self.probes.aclose()
        await self.runtime.aclose()
