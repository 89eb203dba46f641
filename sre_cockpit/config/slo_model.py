"""The SLO entries of the config (``contexts.NAME.slos``), apart from the rest of the model so
that a Sloth spec (:mod:`sre_cockpit.config.sloth`) can build them without importing the whole
config loader (which imports it to read ``slos_from``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sre_cockpit.core.durations import Duration, parse_duration
from sre_cockpit.providers.base import StrictModel

__all__ = ["AlertingRule", "SloConfig"]


class AlertingRule(StrictModel):
    """One multi-window burn-rate rule: fires when both windows burn at >= ``burn_rate``."""

    long: str  # e.g. "1h"
    short: str  # e.g. "5m"
    burn_rate: float = Field(gt=0)
    severity: Literal["critical", "warning"]

    @field_validator("long", "short")
    @classmethod
    def _window(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError("a burn-rate window must be longer than 0s")
        return value


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

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if not 0 < value < 100:
            raise ValueError(f"objective is a percentage between 0 and 100 (exclusive), e.g. 99.9; "
                             f"got {value:g}")
        return value

    @field_validator("window")
    @classmethod
    def _positive_window(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("window must be longer than 0s")
        return value

    @field_validator("burn_windows")
    @classmethod
    def _burn_windows(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if parse_duration(item) <= 0:
                raise ValueError("a burn-rate window must be longer than 0s")
        return value

    @model_validator(mode="after")
    def _one_query(self) -> SloConfig:
        if self.error_query is None and self.good_query is None:
            raise ValueError("one of error_query or good_query is required")
        if self.error_query is not None and self.good_query is not None:
            raise ValueError("error_query and good_query are mutually exclusive; keep one")
        return self
