"""Configuration: strict YAML, durations, secret references, contexts (schema part).

The loader (``load_config``) maps every validation error back to the YAML node and reports one
line ``FILE:LINE:COL: key.path: what is wrong``. Nothing here imports Textual.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sre_cockpit.durations import Duration
from sre_cockpit.providers.base import StrictModel


class AlertingRule(StrictModel):
    """One multi-window burn-rate rule: fires when both windows burn at >= ``burn_rate``."""

    long: str  # e.g. "1h"
    short: str  # e.g. "5m"
    burn_rate: float
    severity: str  # "critical" | "warning"


class SloConfig(StrictModel):
    """One SLO. Either error_query or good_query, plus total_query; ``{{.window}}`` is replaced."""

    name: str
    provider: str
    objective: float  # percent, e.g. 99.9
    window: Duration = 30 * 86400.0  # "30d" in YAML, stored as seconds
    error_query: str | None = None
    good_query: str | None = None
    total_query: str
    service: str | None = None
    description: str | None = None
    burn_windows: list[str] | None = None  # default 5m,30m,1h,2h,6h,1d,3d
    alerting: list[AlertingRule] | None = None


class ServiceConfig(StrictModel):
    """Per-service mapping used when an incident is focused."""

    logs: str | None = None  # LogQL selector, e.g. '{app="checkout"}'
    slos: list[str] = Field(default_factory=list)


class DeployConfig(StrictModel):
    """Where deploy events come from: a PromQL query whose changes mark deploys, or a LogQL pattern."""

    provider: str
    query: str
    version_label: str = "version"
    service: str | None = None
    service_label: str | None = None


class ContextConfig(StrictModel):
    """One context (like a kubeconfig context)."""

    read_only: bool = False
    danger: bool = False
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)  # validated per type
    slos: list[SloConfig] = Field(default_factory=list)
    slos_from: str | None = None  # path to a Sloth spec (prometheus/v1)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    deploys: list[DeployConfig] = Field(default_factory=list)


class RefreshConfig(StrictModel):
    """Poll intervals in seconds ("15s" in YAML)."""

    incidents: Duration = 15.0
    slos: Duration = 30.0
    timeline: Duration = 30.0


class UiConfig(StrictModel):
    """Appearance and behaviour of the TUI."""

    theme: str = "war-room"
    log_buffer_lines: int = 50_000
    log_max_line_bytes: int = 4096
    log_repaint_hz: float = 4.0
    low_bandwidth: bool = False
    timezone: str = "utc"  # "utc" | "local"
    timeline_order: str = "newest_last"  # | "newest_first"
    show_labels: bool = False


class Config(StrictModel):
    """The whole file."""

    default_context: str | None = None
    contexts: dict[str, ContextConfig]
    refresh: RefreshConfig = Field(default_factory=RefreshConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    keys: dict[str, str] = Field(default_factory=dict)  # binding id -> key(s)
    user: str | None = None  # who the operator is (silence createdBy, note author)
    journal_dir: str | None = None  # default: platform data dir
    source: str | None = None  # path the config was read from (set by the loader)
