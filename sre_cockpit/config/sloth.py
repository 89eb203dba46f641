"""Import of Sloth SLO specs (``slos_from:`` in a context) into :class:`SloConfig` objects.

Two spellings of the same spec are read, one document or several (``---``) per file:

- ``version: prometheus/v1`` (Sloth's CLI format): ``service``, ``slos[].name``,
  ``objective`` (percent), ``sli.events.error_query`` / ``total_query`` or
  ``sli.raw.error_ratio_query``, ``alerting.page_alert`` / ``ticket_alert``;
- ``apiVersion: sloth.slok.dev/v1``, ``kind: PrometheusServiceLevel`` (the Kubernetes CRD):
  the same under ``spec:`` in camelCase (``errorQuery``, ``totalQuery``, ``errorRatioQuery``,
  ``pageAlert``, ``ticketAlert``).

Sloth names an SLO ``<service>-<name>``; so does the cockpit. Sloth's page alerts are the two
critical multi-window rules (2 % of the budget in 1h/5m, 5 % in 6h/30m) and its ticket alerts
the two warning rules (10 % in 1d/2h and in 3d/6h), scaled to the SLO window exactly like the
cockpit's defaults: ``page_alert: {disable: true}`` drops the critical rules, ``ticket_alert:
{disable: true}`` the warning ones. A raw ``error_ratio_query`` becomes ``error_query`` over a
``total_query`` of ``vector(1)`` (it must return one series). SLI plugins are not supported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sre_cockpit.config.slo_model import AlertingRule, SloConfig
from sre_cockpit.core.models import SloState
from sre_cockpit.core.slo import DEFAULT_RULE_SPECS, default_rules

DEFAULT_PERIOD_S = 30 * 86400.0
"""Sloth's default SLO period (``--default-slo-period``)."""


def _get(mapping: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def _disabled(alert: Any) -> bool:
    return isinstance(alert, dict) and bool(alert.get("disable"))


def _rules(alerting: Any, window_s: float, where: str) -> list[AlertingRule] | None:
    if alerting is None:
        return None
    if not isinstance(alerting, dict):
        raise ValueError(f"{where}: alerting must be a mapping")
    page_off = _disabled(_get(alerting, "page_alert", "pageAlert"))
    ticket_off = _disabled(_get(alerting, "ticket_alert", "ticketAlert"))
    if not page_off and not ticket_off:
        return None  # the defaults, scaled to the window by the engine
    rules = []
    for rule, (_f, _l, _s, severity) in zip(default_rules(window_s), DEFAULT_RULE_SPECS, strict=True):
        if (severity is SloState.CRITICAL and page_off) or (severity is SloState.WARNING and ticket_off):
            continue
        rules.append(AlertingRule(long=rule.long, short=rule.short, burn_rate=rule.burn_rate,
                                  severity="critical" if severity is SloState.CRITICAL else "warning"))
    return rules


def _one_slo(raw: Any, service: str, index: int, source: str, provider: str,
             window_s: float) -> SloConfig:
    where = f"{source}: slos[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: each SLO must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: 'name' is required")
    where = f"{source}: slos[{index}] ({name})"
    sli = raw.get("sli")
    if not isinstance(sli, dict):
        raise ValueError(f"{where}: 'sli' with 'events' or 'raw' is required")
    error_query: Any
    total_query: Any
    if isinstance(sli.get("events"), dict):
        events = sli["events"]
        error_query = _get(events, "error_query", "errorQuery")
        total_query = _get(events, "total_query", "totalQuery")
        if not isinstance(error_query, str) or not isinstance(total_query, str):
            raise ValueError(f"{where}: sli.events needs error_query and total_query")
    elif isinstance(sli.get("raw"), dict):
        error_query = _get(sli["raw"], "error_ratio_query", "errorRatioQuery")
        if not isinstance(error_query, str):
            raise ValueError(f"{where}: sli.raw needs error_ratio_query")
        total_query = "vector(1)"
    elif "plugin" in sli:
        raise ValueError(f"{where}: Sloth SLI plugins are not supported; use sli.events or sli.raw")
    else:
        raise ValueError(f"{where}: 'sli' must have 'events' or 'raw'")
    objective = raw.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, int | float):
        raise ValueError(f"{where}: 'objective' must be a number of percent, e.g. 99.9")
    try:
        return SloConfig(
            name=f"{service}-{name}",
            provider=provider,
            objective=float(objective),
            window=window_s,
            error_query=error_query.strip(),
            total_query=total_query.strip(),
            service=service,
            description=raw.get("description") if isinstance(raw.get("description"), str) else None,
            alerting=_rules(raw.get("alerting"), window_s, where),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "slo"
        raise ValueError(f"{where}: {loc}: {first.get('msg', 'invalid')}") from exc


def slos_from_documents(documents: list[Any], *, source: str = "<sloth>", provider: str = "",
                        window_s: float = DEFAULT_PERIOD_S) -> list[SloConfig]:
    """SLOs from already-parsed Sloth documents (see :func:`load_sloth_file`)."""
    out: list[SloConfig] = []
    seen: set[str] = set()
    for doc_index, doc in enumerate(documents):
        if doc is None:
            continue
        where = source if len(documents) == 1 else f"{source} (document {doc_index + 1})"
        if not isinstance(doc, dict):
            raise ValueError(f"{where}: not a Sloth spec (expected a mapping)")
        spec: Any
        if doc.get("version") == "prometheus/v1":
            spec = doc
        elif str(doc.get("apiVersion", "")).startswith("sloth.slok.dev/") and \
                doc.get("kind") == "PrometheusServiceLevel":
            spec = doc.get("spec")
            if not isinstance(spec, dict):
                raise ValueError(f"{where}: PrometheusServiceLevel without a 'spec' mapping")
        else:
            found = doc.get("version") or doc.get("apiVersion") or "none"
            raise ValueError(f"{where}: unsupported Sloth spec version {str(found)!r} "
                             "(expected version: prometheus/v1 or kind: PrometheusServiceLevel)")
        service = spec.get("service")
        if not isinstance(service, str) or not service:
            raise ValueError(f"{where}: 'service' is required")
        slos = spec.get("slos")
        if not isinstance(slos, list) or not slos:
            raise ValueError(f"{where}: 'slos' must be a non-empty list")
        for index, raw in enumerate(slos):
            slo = _one_slo(raw, service, index, where, provider, window_s)
            if slo.name in seen:
                raise ValueError(f"{where}: slos[{index}]: duplicate SLO {slo.name!r}")
            seen.add(slo.name)
            out.append(slo)
    if not out:
        raise ValueError(f"{source}: no SLOs in the Sloth spec")
    return out


def load_sloth_file(path: str | Path, *, provider: str = "",
                    window_s: float = DEFAULT_PERIOD_S) -> list[SloConfig]:
    """Read a Sloth spec file into SLO configs.

    Args:
        path: the spec file (``~`` expanded).
        provider: the metrics provider the SLOs query; ``""`` lets the evaluator use the
            context's only Prometheus provider.
        window_s: the SLO period (Sloth's specs carry none; its default is 30 days).

    Raises:
        ValueError: one clear line naming the file and the SLO at fault.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{file}: cannot read Sloth spec: {exc.strerror or exc}") from exc
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ValueError(f"{file}{at}: {problem}") from exc
    return slos_from_documents(documents, source=str(file), provider=provider, window_s=window_s)

