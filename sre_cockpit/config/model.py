"""Configuration: strict YAML, durations, secret references, contexts.

``load_config`` reads the file (``--config`` → ``$SRE_COCKPIT_CONFIG`` → platform config dir),
expands ``${env:NAME}`` (``${env:NAME:-default}`` for an explicit default), ``${file:PATH}``
(``~`` expanded, relative to the config file, refused when readable by group/others) and ``$${``
(a literal ``${``) in every string value, validates strictly (unknown keys are errors with a
"did you mean") and maps every error back to its YAML node: ``ConfigError`` is one line
``FILE:LINE:COL: key.path: what is wrong`` and never contains a secret. Nothing here imports
Textual.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator

from sre_cockpit.config.checks import check_ui_and_keys, journal_dir_problem
from sre_cockpit.config.files import (  # path lookup lives there: the TUI needs it before the models
    ENV_VAR,
    ConfigError,
    Doc,
    Loc,
    Problem,
    default_config_path,
    errors_from_pydantic,
    parse_document,
    position_of,
    raise_first,
    read_config_text,
    resolve_config_path,
)
from sre_cockpit.config.slo_model import AlertingRule, SloConfig
from sre_cockpit.core.durations import Duration
from sre_cockpit.core.suggest import did_you_mean
from sre_cockpit.providers.base import StrictModel
from sre_cockpit.providers.credentials import userinfo_to_auth
from sre_cockpit.providers.redaction import remember_secrets

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

__all__ = [
    "ENV_VAR",
    "AlertingRule",
    "Config",
    "ConfigError",
    "ContextConfig",
    "DeployConfig",
    "RefreshConfig",
    "ServiceConfig",
    "SloConfig",
    "UiConfig",
    "default_config_path",
    "load_config",
    "load_for_cli",
    "resolve_config_path",
    "resolve_context",
]



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
    slos_from: str | None = None  # path to a Sloth spec (prometheus/v1), relative to the file
    slos_from_provider: str | None = None  # metrics provider of the imported SLOs
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    deploys: list[DeployConfig] = Field(default_factory=list)
    _slos_imported: bool = PrivateAttr(default=False)

    @property
    def slos_imported(self) -> bool:
        """True when the loader has already merged the SLOs of ``slos_from`` into ``slos``
        (so nothing needs to read the Sloth file again)."""
        return self._slos_imported


class RefreshConfig(StrictModel):
    """Poll intervals in seconds ("15s" in YAML)."""

    incidents: Duration = Field(default=15.0, gt=0)
    slos: Duration = Field(default=30.0, gt=0)
    timeline: Duration = Field(default=30.0, gt=0)


GROUP_LABEL_MAX = 8
"""Most labels ``ui.incident_group_by`` may name (a group row shows every value)."""


def check_group_by(value: list[str]) -> list[str]:
    """``ui.incident_group_by``: 1 to 8 distinct label names (Prometheus syntax).

    Raises:
        ValueError: what is wrong, for the config error line.
    """
    if not value:
        raise ValueError("name at least one label to group by, e.g. [alertname]")
    if len(value) > GROUP_LABEL_MAX:
        raise ValueError(f"at most {GROUP_LABEL_MAX} labels (got {len(value)})")
    for name in value:
        if not _LABEL_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a label name (letters, digits and _, not "
                             "starting with a digit)")
    repeated = sorted({n for n in value if value.count(n) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} named twice")
    return value


class UiConfig(StrictModel):
    """Appearance and behaviour of the TUI."""

    theme: str = "war-room"
    log_buffer_lines: int = Field(default=50_000, gt=0)
    log_max_line_bytes: int = Field(default=4096, ge=256)
    log_repaint_hz: float = Field(default=4.0, gt=0, le=60)
    low_bandwidth: bool = False
    timezone: Literal["utc", "local"] = "utc"
    timeline_order: Literal["newest_last", "newest_first"] = "newest_last"
    show_labels: bool = False
    incident_sort: Literal["triage", "severity", "age", "service", "status", "provider"] = "triage"
    """The incidents pane's order at start (``t`` cycles it in the pane)."""
    incident_group_by: list[str] = Field(default_factory=lambda: ["alertname"])
    """Labels that group incidents, like Alertmanager's ``group_by`` (``v`` groups)."""
    incident_grouped: bool = False
    """Start with the incidents pane grouped."""
    incident_mine: Literal["off", "first", "only"] = "off"
    """Incidents assigned to ``user`` first / only at start (``m`` cycles it)."""

    @field_validator("incident_group_by")
    @classmethod
    def _group_labels(cls, value: list[str]) -> list[str]:
        return check_group_by(value)


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
    _secrets: list[str] = PrivateAttr(default_factory=list)

    def secret_values(self) -> list[str]:
        """Every value that came from ``${env:…}``/``${file:…}`` or sits under a secret-looking
        key (token, password, …): redact these from anything shown to the operator."""
        return list(self._secrets)




# =============================================================================================
# Loader
# =============================================================================================

def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Read, expand and validate a config file.

    Args:
        path: the file; ``None`` looks it up (``$SRE_COCKPIT_CONFIG``, then the platform dir).

    Raises:
        ConfigError: one line ``FILE:LINE:COL: key.path: what is wrong``; never shows a secret.
    """
    explicit = path is not None and str(path) != ""
    resolved = resolve_config_path(path)
    file = str(resolved)
    text = read_config_text(resolved, file, explicit or bool(os.environ.get(ENV_VAR)))
    doc = parse_document(text, file, resolved.parent)
    return _validate(doc, file)


def resolve_context(config: Config, name: str | None) -> str:
    """The context to use: ``name`` (``--context`` / ``:ctx``), else ``default_context``, else
    the first one.

    Raises:
        ConfigError: ``name`` is not a context of this config (lists the known ones).
    """
    known = list(config.contexts)
    if name is None or name == "":
        return config.default_context or known[0]
    if name in config.contexts:
        return name
    hint = did_you_mean(name, known)
    raise ConfigError(f"unknown context {name!r}{hint}; known contexts: {', '.join(known)}",
                      file=config.source, key_path="--context")


def load_for_cli(args: Any) -> tuple[Config, str]:
    """Load the config named by ``args.config`` and pick ``args.context``.

    Returns:
        The config and the chosen context name.

    Raises:
        ConfigError: anything wrong with the file or the context name.
    """
    config = load_config(getattr(args, "config", None))
    return config, resolve_context(config, getattr(args, "context", None))



# ------------------------------------------------------------------------------ validation


def _validate(doc: Doc, file: str) -> Config:
    problems: list[Problem] = []
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(errors_from_pydantic(exc, doc, (), Config))
        raise_first(problems, file, doc.secrets)
        raise AssertionError("unreachable") from None
    semantic, imported = _check_semantics(config, doc, file)
    problems.extend(semantic)
    raise_first(problems, file, doc.secrets)
    contexts = dict(config.contexts)
    for cname, slos in imported.items():
        merged = contexts[cname].model_copy(update={"slos": [*contexts[cname].slos, *slos]})
        merged._slos_imported = True
        contexts[cname] = merged
    for cname, ctx in contexts.items():
        # user:password@ in a provider's url is basic auth from here on: nothing built from the
        # config (links, snapshots, the journal, the clipboard) ever sees it again
        providers = {pname: userinfo_to_auth(raw) for pname, raw in ctx.providers.items()}
        if providers != ctx.providers:
            moved = ctx.model_copy(update={"providers": providers})
            moved._slos_imported = ctx._slos_imported
            contexts[cname] = moved
    loaded = config.model_copy(update={"source": file, "contexts": contexts})
    loaded._secrets = sorted({s for s in doc.secrets if s}, key=len, reverse=True)
    remember_secrets(loaded._secrets)  # redact() anywhere in the process covers them
    return loaded


def _check_semantics(config: Config, doc: Doc,
                     file: str) -> tuple[list[Problem], dict[str, list[SloConfig]]]:
    """Cross-field checks; also imports every context's ``slos_from:`` (returned per context,
    not yet merged into ``slos``)."""
    from sre_cockpit.providers import registry
    from sre_cockpit.providers.base import Capability

    problems: list[Problem] = []
    imported: dict[str, list[SloConfig]] = {}

    def at(loc: Loc, message: str, *, key: bool = False) -> None:
        problems.append(Problem(*position_of(doc, loc, key=key), loc, message))

    check_ui_and_keys(config.ui.theme if "theme" in config.ui.model_fields_set else None,
                      config.keys, at)
    if config.journal_dir:
        problem = journal_dir_problem(config.journal_dir)
        if problem is not None:
            at(("journal_dir",), problem)
    if not config.contexts:
        at(("contexts",), "at least one context is required")
        return problems, imported
    known = list(config.contexts)
    if config.default_context is not None and config.default_context not in config.contexts:
        at(("default_context",), f"unknown context {config.default_context!r}"
                                 f"{did_you_mean(config.default_context, known)}; known contexts: "
                                 f"{', '.join(known)}")
    for cname, ctx in config.contexts.items():
        base: Loc = ("contexts", cname)
        answers_promql: dict[str, bool] = {}  # provider -> its plugin declares METRICS
        for pname, raw in ctx.providers.items():
            ploc = (*base, "providers", pname)
            if not pname.strip():
                at(ploc, "a provider name cannot be empty", key=True)
            type_name = raw.get("type")
            if type_name is None:
                at(ploc, "required key 'type' is missing (e.g. type: prometheus)")
                continue
            if not isinstance(type_name, str):
                at((*ploc, "type"), "type must be a string such as 'prometheus'")
                continue
            try:
                cls = registry.load_provider_class(type_name)
            except registry.UnknownProviderType as exc:
                at((*ploc, "type"), str(exc))
                continue
            except registry.BrokenProvider:
                # not the config's fault: the runtime reports the plugin as failed
                continue
            answers_promql[pname] = Capability.METRICS in cls.CAPABILITIES
            try:
                cls.Options.model_validate(raw)
            except ValidationError as exc:
                problems.extend(errors_from_pydantic(exc, doc, ploc, cls.Options))
            except Exception as exc:  # a plugin's own validator may raise anything
                at(ploc, f"the {type_name} plugin rejected these options: "
                         f"{type(exc).__name__}: {exc}")
        pnames = list(ctx.providers)
        for i, slo in enumerate(ctx.slos):
            if slo.provider not in ctx.providers:
                at((*base, "slos", i, "provider"), _unknown_provider(slo.provider, pnames, cname))
            elif not answers_promql.get(slo.provider, True):  # e.g. a loki provider
                metrics = [n for n, ok in answers_promql.items() if ok]
                at((*base, "slos", i, "provider"),
                   f"provider {slo.provider!r} (type {ctx.providers[slo.provider].get('type')}) "
                   "cannot run PromQL queries; name a prometheus provider"
                   + (f" ({', '.join(metrics)})" if metrics else ""))
        seen: dict[str, int] = {}
        for i, slo in enumerate(ctx.slos):
            if slo.name in seen:
                at((*base, "slos", i, "name"), f"duplicate SLO name {slo.name!r} (also slos"
                                               f"[{seen[slo.name]}])")
            seen.setdefault(slo.name, i)
        from_sloth = _import_sloth(ctx, cname, answers_promql, file, at)
        if from_sloth is not None:
            clashes = [s.name for s in from_sloth if s.name in seen]
            if clashes:
                name = clashes[0]
                at((*base, "slos_from"), f"duplicate SLO name {name!r}: the Sloth spec defines "
                                         f"it and so does slos[{seen[name]}]")
            else:
                imported[cname] = from_sloth
            for slo in from_sloth:
                seen.setdefault(slo.name, len(seen))
        for i, deploy in enumerate(ctx.deploys):
            if deploy.provider not in ctx.providers:
                at((*base, "deploys", i, "provider"),
                   _unknown_provider(deploy.provider, pnames, cname))
        slo_names = list(seen)
        for sname, service in ctx.services.items():
            for j, ref in enumerate(service.slos):
                if ref not in seen and not (from_sloth is None and ctx.slos_from):
                    at((*base, "services", sname, "slos", j),
                       f"unknown SLO {ref!r}{did_you_mean(ref, slo_names)}")
    return problems, imported


MAX_SLOTH_BYTES = 4 * 1024 * 1024


def _import_sloth(ctx: ContextConfig, cname: str, answers_promql: dict[str, bool], file: str,
                  at: Callable[..., None]) -> list[SloConfig] | None:
    """The SLOs of ``ctx.slos_from`` with their provider set, or None (nothing to import, or a
    problem was reported through ``at``).

    The provider is ``slos_from_provider`` when given, else the context's only metrics
    (prometheus-type) provider. The path is relative to the config file, ``~`` expanded.
    """
    from sre_cockpit.config.sloth import load_sloth_file

    base: Loc = ("contexts", cname)
    source = ctx.slos_from
    chosen = ctx.slos_from_provider
    if source is None:
        if chosen is not None:
            at((*base, "slos_from_provider"), "slos_from_provider is only used with slos_from "
                                              "(the Sloth spec whose SLOs it queries)")
        return None
    where = (*base, "slos_from")
    if not source.strip():
        at(where, "a path to a Sloth spec is required, e.g. slos/checkout.sloth.yaml")
        return None
    metrics = [name for name, ok in answers_promql.items() if ok]
    provider_problem: tuple[Loc, str] | None = None
    if chosen is not None:
        if chosen not in ctx.providers:
            provider_problem = ((*base, "slos_from_provider"),
                                _unknown_provider(chosen, list(ctx.providers), cname))
        elif not answers_promql.get(chosen, True):  # a broken plugin gets the benefit of doubt
            kind = ctx.providers[chosen].get("type")
            provider_problem = ((*base, "slos_from_provider"),
                                f"provider {chosen!r} (type {kind}) cannot run PromQL queries; "
                                "name a prometheus provider"
                                + (f" ({', '.join(metrics)})" if metrics else ""))
    elif len(metrics) == 1:
        chosen = metrics[0]
    elif not metrics:
        provider_problem = (where, f"the imported SLOs need a prometheus provider and context "
                                   f"{cname!r} has none; add one under contexts.{cname}.providers")
    else:
        provider_problem = (where, f"the imported SLOs need a provider and context {cname!r} has "
                                   f"{len(metrics)} prometheus providers ({', '.join(metrics)}); "
                                   "set slos_from_provider: to one of them")
    path = Path(os.path.expanduser(source))
    if not path.is_absolute():
        path = Path(file).parent / path
    try:
        st = path.stat()
    except OSError:
        st = None  # load_sloth_file says why, in its own words
    slos: list[SloConfig] | None = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        at(where, f"{path}: not a regular file")
    elif st is not None and st.st_size > MAX_SLOTH_BYTES:
        at(where, f"{path}: larger than {MAX_SLOTH_BYTES // (1024 * 1024)} MiB")
    else:
        try:
            slos = load_sloth_file(path, provider=chosen or "")
        except UnicodeDecodeError:
            at(where, f"{path}: not UTF-8 text")
        except ValueError as exc:
            at(where, str(exc))
        except RecursionError:
            at(where, f"{path}: nested too deeply")
        except Exception as exc:  # a hostile file must read as a config error, not a crash
            at(where, f"{path}: cannot import the Sloth spec: {type(exc).__name__}: {exc}")
    if provider_problem is not None:
        at(*provider_problem)
        return None
    return slos


def _unknown_provider(name: str, known: list[str], context: str) -> str:
    listing = ", ".join(known) if known else "none"
    return (f"unknown provider {name!r}{did_you_mean(name, known)}; providers in context "
            f"{context!r}: {listing}")
