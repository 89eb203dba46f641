"""The simulator's state: options, the story, and each simulated backend's state.

The API modules (``api_prom``, ``api_loki``, ``api_incidents``) read and change a
:class:`SimState`; :mod:`.server` builds the aiohttp application around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sre_cockpit.simulator.alertmanager import AlertmanagerState
from sre_cockpit.simulator.clock import SimClock
from sre_cockpit.simulator.faults import FaultTable
from sre_cockpit.simulator.logs import LogGenerator
from sre_cockpit.simulator.pagerduty import PagerDutyState
from sre_cockpit.simulator.story import Story

DEFAULT_PD_TOKEN = "sim-pagerduty-token"


@dataclass
class SimOptions:
    """Everything that shapes one simulator run."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    speed: float = 1.0
    log_rate: int = 20
    start_time: float | None = None
    frozen: bool = False
    faults: list[str] = field(default_factory=list)
    pd_rate_limit: int | None = None
    pd_extra_incidents: int = 0
    pd_token: str = DEFAULT_PD_TOKEN
    history_hours: float = 96.0
    tail_max_duration: float = 3600.0
    max_tails: int = 10
    loki_patterns: bool = True
    """Serve ``/loki/api/v1/patterns`` (False: 404, a Loki without pattern ingesters)."""


class SimState:
    """The story and every simulated backend's state (what the API handlers read and change)."""

    def __init__(self, opts: SimOptions) -> None:
        self.opts = opts
        self.clock = SimClock(opts.start_time, frozen=opts.frozen)
        self.story = Story(opts.seed, self.clock.start, opts.speed, opts.history_hours * 3600)
        self.logs = LogGenerator(self.story, opts.log_rate, until_ns=self.clock.now_ns())
        self.faults = FaultTable()
        for spec in opts.faults:
            self.faults.apply_spec(spec)
        self.am = AlertmanagerState(self.story, self.clock)
        self.pd = PagerDutyState(self.story, self.clock, extra_incidents=opts.pd_extra_incidents)
        self.url = ""
        self.stats: dict[str, int] = {"requests": 0, "tail_connections": 0, "tails_open": 0,
                                      "tail_messages_sent": 0, "tail_lines_sent": 0,
                                      "tail_dropped_entries": 0}
