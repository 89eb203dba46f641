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
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from sre_cockpit.durations import Duration, parse_duration
from sre_cockpit.providers.base import StrictModel


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

    incidents: Duration = Field(default=15.0, gt=0)
    slos: Duration = Field(default=30.0, gt=0)
    timeline: Duration = Field(default=30.0, gt=0)


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

ENV_VAR = "SRE_COCKPIT_CONFIG"
APP_NAME = "sre-cockpit"
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_SECRET_BYTES = 64 * 1024
MAX_NODES = 200_000  # alias bombs ("billion laughs") stop here
MAX_DEPTH = 50
_REF = re.compile(r"\$\$\{|\$\{(?P<kind>env|file):(?P<arg>[^}]*)\}")
_SECRET_KEY = re.compile(r"(?i)token|password|secret|authorization|api_?key|cookie")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"

Loc = tuple[str | int, ...]


class ConfigError(Exception):
    """An invalid or unreadable config. ``str()`` is exactly one line:
    ``FILE:LINE:COL: key.path: what is wrong`` (parts that do not exist are left out)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 col: int | None = None, key_path: str | None = None,
                 more: list[str] | None = None) -> None:
        self.message = _one_line(message)
        self.file = file
        self.line = line
        self.col = col
        self.key_path = key_path
        self.more = more or []  # further error lines after the first, in file order
        super().__init__(self.format())

    def format(self) -> str:
        """The one-line form."""
        prefix = ""
        if self.file is not None:
            prefix = self.file
            if self.line is not None:
                prefix += f":{self.line}"
                if self.col is not None:
                    prefix += f":{self.col}"
            prefix += ": "
        if self.key_path:
            prefix += f"{self.key_path}: "
        return prefix + self.message


@dataclass(slots=True)
class _Problem:
    line: int | None
    col: int | None
    loc: Loc
    message: str
    explains: Loc | None = None  # an unknown key that probably meant this missing key


@dataclass(slots=True)
class _Doc:
    """A YAML document turned into plain data plus the position of every key and value."""

    data: Any
    values: dict[Loc, tuple[int, int]]
    keys: dict[Loc, tuple[int, int]]
    secrets: list[str]


def default_config_path() -> Path:
    """``config.yaml`` in the platform's user config dir (e.g. ``~/.config/sre-cockpit``)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.yaml"


def resolve_config_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """Where the config lives: ``--config`` → ``$SRE_COCKPIT_CONFIG`` → platform config dir."""
    if cli_value is not None and str(cli_value) != "":
        return Path(os.path.expanduser(str(cli_value)))
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(os.path.expanduser(env))
    return default_config_path()


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
    text = _read_text(resolved, file, explicit or bool(os.environ.get(ENV_VAR)))
    doc = _parse(text, file, resolved.parent)
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
    hint = _did_you_mean(name, known)
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


# --------------------------------------------------------------------------------- reading


def _read_text(path: Path, file: str, explicit: bool) -> str:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if not explicit and isinstance(exc, FileNotFoundError):
            reason += f" (no --config given and ${ENV_VAR} is not set)"
        raise ConfigError(f"cannot read: {reason}", file=file) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"cannot read: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB",
                          file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=file, line=line,
                          col=col) from None


def _parse(text: str, file: str, base_dir: Path) -> _Doc:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        if mark is None:
            raise ConfigError(f"invalid YAML: {problem}", file=file) from None
        raise ConfigError(f"invalid YAML: {problem}", file=file, line=mark.line + 1,
                          col=mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {_one_line(str(exc))}", file=file) from None
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", file=file) from None
    if node is None:
        raise ConfigError("the file is empty; expected a mapping with 'contexts'", file=file)
    builder = _Builder(file, base_dir)
    data = builder.build(node, ())
    if not isinstance(data, dict):
        line, col = _mark(node)
        raise ConfigError(f"expected a mapping at the top level, got {_kind(data)}", file=file,
                          line=line, col=col)
    builder.secrets.extend(_literal_secrets(data))
    return _Doc(data, builder.values, builder.keys, builder.secrets)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Turns composed YAML nodes into plain data, recording marks and expanding references."""

    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir
        self.values: dict[Loc, tuple[int, int]] = {}
        self.keys: dict[Loc, tuple[int, int]] = {}
        self.secrets: list[str] = []
        self.constructor = yaml.SafeLoader("")
        self.count = 0
        self.stack: set[int] = set()

    def fail(self, node: yaml.Node, loc: Loc, message: str) -> ConfigError:
        line, col = _mark(node)
        return ConfigError(_redact(message, self.secrets), file=self.file, line=line, col=col,
                           key_path=_path_text(loc) or None)

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, loc, f"the document expands to more than {MAX_NODES} nodes "
                                       "(alias bomb?)")
        self.values.setdefault(loc, _mark(node))
        if len(loc) > MAX_DEPTH:
            raise self.fail(node, loc[:MAX_DEPTH], f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, loc)
        if id(node) in self.stack:
            raise self.fail(node, loc, "recursive alias")
        self.stack.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ_TAG:
                    raise self.fail(node, loc, f"unsupported YAML tag {node.tag!r}")
                return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                if node.tag != _MAP_TAG:
                    raise self.fail(node, loc, f"unsupported YAML tag {node.tag!r}")
                return self.mapping(node, loc)
        finally:
            self.stack.discard(id(node))
        raise self.fail(node, loc, f"unsupported YAML node {type(node).__name__}")

    def mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, loc, "a mapping key must be a plain string")
            key = str(key_node.value)
            sub = (*loc, key)
            if key in out:
                first = self.keys.get(sub, (0, 0))[0]
                raise self.fail(key_node, sub, f"duplicate key {key!r} (first defined on line "
                                               f"{first})")
            self.keys[sub] = _mark(key_node)
            out[key] = self.build(value_node, sub)
        for merge in merges:  # "<<: *anchor": explicit keys win, earlier merges win
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self.fail(source, loc, "'<<' merges only mappings")
                merged = self.mapping(source, loc)
                for key, value in merged.items():
                    out.setdefault(key, value)
        return out

    def scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail(node, loc, f"invalid value: {problem}") from None
        if isinstance(value, float) and value != value:  # NaN
            raise self.fail(node, loc, "NaN is not a valid value")
        if isinstance(value, str) and "${" in value:
            value = self.expand(node, loc, value)
        return value

    def expand(self, node: yaml.ScalarNode, loc: Loc, text: str) -> str:
        def repl(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            kind, arg = match.group("kind"), match.group("arg")
            if kind == "env":
                return self.env(node, loc, arg)
            return self.file_ref(node, loc, arg)

        return _REF.sub(repl, text)

    def env(self, node: yaml.ScalarNode, loc: Loc, arg: str) -> str:
        name, has_default, default = arg.partition(":-")
        name = name.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(node, loc, f"${{env:{name}}}: not a valid environment variable name")
        value = os.environ.get(name)
        if value is None and has_default:
            return default  # written in the file: not a secret
        if value is None:
            raise self.fail(node, loc, f"environment variable {name} is not set "
                                       f"(referenced as ${{env:{name}}})")
        self.secrets.append(value)
        return value

    def file_ref(self, node: yaml.ScalarNode, loc: Loc, arg: str) -> str:
        arg = arg.strip()
        if not arg:
            raise self.fail(node, loc, "${file:}: a path is required, e.g. ${file:~/.pd-token}")
        path = Path(os.path.expanduser(arg))
        if not path.is_absolute():
            path = self.base_dir / path
        shown = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            raise self.fail(node, loc, f"cannot read secret file {shown}: "
                                       f"{exc.strerror or type(exc).__name__}") from None
        if not stat.S_ISREG(st.st_mode):
            raise self.fail(node, loc, f"secret file {shown} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise self.fail(node, loc, f"secret file {shown}: permissions {mode:04o} are too "
                                       f"open; chmod 600 {shown}")
        if st.st_size > MAX_SECRET_BYTES:
            raise self.fail(node, loc, f"secret file {shown} is larger than "
                                       f"{MAX_SECRET_BYTES // 1024} KiB")
        try:
            content = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise self.fail(node, loc, f"cannot read secret file {shown}: "
                                       f"{exc.strerror or type(exc).__name__}") from None
        except UnicodeDecodeError:
            raise self.fail(node, loc, f"secret file {shown} is not UTF-8 text") from None
        value = content.rstrip("\r\n")
        self.secrets.append(value)
        return value


def _literal_secrets(data: Any) -> Iterator[str]:
    """Values written literally under secret-looking keys (redacted from messages too)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _SECRET_KEY.search(str(key)):
                yield value
            else:
                yield from _literal_secrets(value)
    elif isinstance(data, list):
        for item in data:
            yield from _literal_secrets(item)


# ------------------------------------------------------------------------------ validation


def _validate(doc: _Doc, file: str) -> Config:
    problems: list[_Problem] = []
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_from_pydantic(exc, doc, (), Config))
        _raise_first(problems, file, doc.secrets)
        raise AssertionError("unreachable") from None
    problems.extend(_check_semantics(config, doc))
    _raise_first(problems, file, doc.secrets)
    loaded = config.model_copy(update={"source": file})
    loaded._secrets = sorted({s for s in doc.secrets if s}, key=len, reverse=True)
    return loaded


def _check_semantics(config: Config, doc: _Doc) -> list[_Problem]:
    from sre_cockpit.providers import registry

    problems: list[_Problem] = []

    def at(loc: Loc, message: str, *, key: bool = False) -> None:
        problems.append(_Problem(*_position(doc, loc, key=key), loc, message))

    if not config.contexts:
        at(("contexts",), "at least one context is required")
        return problems
    known = list(config.contexts)
    if config.default_context is not None and config.default_context not in config.contexts:
        at(("default_context",), f"unknown context {config.default_context!r}"
                                 f"{_did_you_mean(config.default_context, known)}; known contexts: "
                                 f"{', '.join(known)}")
    for cname, ctx in config.contexts.items():
        base: Loc = ("contexts", cname)
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
            try:
                cls.Options.model_validate(raw)
            except ValidationError as exc:
                problems.extend(_from_pydantic(exc, doc, ploc, cls.Options))
            except Exception as exc:  # a plugin's own validator may raise anything
                at(ploc, f"the {type_name} plugin rejected these options: "
                         f"{type(exc).__name__}: {exc}")
        pnames = list(ctx.providers)
        for i, slo in enumerate(ctx.slos):
            if slo.provider not in ctx.providers:
                at((*base, "slos", i, "provider"), _unknown_provider(slo.provider, pnames, cname))
        seen: dict[str, int] = {}
        for i, slo in enumerate(ctx.slos):
            if slo.name in seen:
                at((*base, "slos", i, "name"), f"duplicate SLO name {slo.name!r} (also slos"
                                               f"[{seen[slo.name]}])")
            seen.setdefault(slo.name, i)
        for i, deploy in enumerate(ctx.deploys):
            if deploy.provider not in ctx.providers:
                at((*base, "deploys", i, "provider"),
                   _unknown_provider(deploy.provider, pnames, cname))
        slo_names = [s.name for s in ctx.slos]
        for sname, service in ctx.services.items():
            for j, ref in enumerate(service.slos):
                if ref not in seen:
                    at((*base, "services", sname, "slos", j),
                       f"unknown SLO {ref!r}{_did_you_mean(ref, slo_names)}")
    return problems


def _unknown_provider(name: str, known: list[str], context: str) -> str:
    listing = ", ".join(known) if known else "none"
    return (f"unknown provider {name!r}{_did_you_mean(name, known)}; providers in context "
            f"{context!r}: {listing}")


def _from_pydantic(exc: ValidationError, doc: _Doc, prefix: Loc,
                   model: type[BaseModel]) -> list[_Problem]:
    problems: list[_Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False, include_input=False):
        loc = _real_loc(doc.data, (*prefix, *err["loc"]))
        etype = err["type"]
        msg = str(err["msg"])
        if etype == "extra_forbidden":
            allowed = _allowed_keys(model, loc[len(prefix):-1])
            name = str(loc[-1]) if loc else "?"
            guess = _closest(name, allowed)
            message = f"unknown key {name!r}" + (f" (did you mean {guess!r}?)" if guess else "")
            line, col = _position(doc, loc, key=True)
            if guess is not None:
                problems.append(_Problem(line, col, loc, message, explains=(*loc[:-1], guess)))
                continue
        elif etype == "missing":
            message = f"required key {str(loc[-1])!r} is missing"
            line, col = _position(doc, loc)
        else:
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            elif msg.startswith("Assertion failed, "):
                msg = msg[len("Assertion failed, "):]
            message = _friendly(msg[:1].lower() + msg[1:])
            value = _lookup(doc.data, loc)
            if etype.endswith("_type") and value is not _MISSING:
                message += f" (got {_kind(value)})"
            line, col = _position(doc, loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(_Problem(line, col, loc, message))
    return problems


def _raise_first(problems: list[_Problem], file: str, secrets: list[str]) -> None:
    if not problems:
        return
    explained = {p.explains for p in problems if p.explains is not None}
    problems = [p for p in problems
                if not (p.loc in explained and p.message.startswith("required key"))]
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.col or 0))
    errors = [ConfigError(_redact(p.message, secrets), file=file, line=p.line, col=p.col,
                          key_path=_path_text(p.loc) or None) for p in ordered]
    first = errors[0]
    first.more = [str(e) for e in errors[1:]]
    raise first


_MISSING = object()


def _has(data: Any, part: Any) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _lookup(data: Any, loc: Loc) -> Any:
    for part in loc:
        if not _has(data, part):
            return _MISSING
        data = data[part]
    return data


def _real_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union tags ("str", "function-after[…]") that are not keys in the data."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if _has(data, part):
            data = data[part]
            out.append(part)
        elif last and isinstance(data, dict):
            out.append(part)  # a missing key
        else:
            continue
    return tuple(out)


def _position(doc: _Doc, loc: Loc, *, key: bool = False) -> tuple[int | None, int | None]:
    """1-based (line, col) of ``loc`` or of its nearest ancestor that exists in the file."""
    if key and loc in doc.keys:
        return doc.keys[loc]
    probe = loc
    while True:
        if probe in doc.values:
            return doc.values[probe]
        if probe in doc.keys:
            return doc.keys[probe]
        if not probe:
            return None, None
        probe = probe[:-1]


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``loc`` accepts (for "did you mean")."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is dict and len(args) == 2:
            current = args[1]
        elif origin is list and args:
            current = args[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else (args[0] if args else tp)
            if typing.get_origin(tp) in (typing.Annotated, typing.Union, types.UnionType):
                continue
        return tp


_FRIENDLY = [
    (re.compile(r"^input should be a valid dictionary( or instance of \w+)?"), "expected a mapping"),
    (re.compile(r"^input should be a valid list"), "expected a list"),
    (re.compile(r"^input should be a valid string"), "expected a string"),
    (re.compile(r"^input should be a valid number, unable to parse string as a number"),
     "expected a number"),
    (re.compile(r"^input should be a valid number"), "expected a number"),
    (re.compile(r"^input should be a valid integer, unable to parse string as an integer"),
     "expected a whole number"),
    (re.compile(r"^input should be a valid integer"), "expected a whole number"),
    (re.compile(r"^input should be a valid boolean, unable to interpret input"),
     "expected true or false"),
    (re.compile(r"^input should be a valid boolean"), "expected true or false"),
    (re.compile(r"^input should be (?=greater|less|at least|at most)"), "must be "),
    (re.compile(r"^input should be "), "expected "),
]


def _friendly(message: str) -> str:
    for pattern, replacement in _FRIENDLY:
        message = pattern.sub(replacement, message)
    return message


def _closest(word: str, candidates: list[str]) -> str | None:
    from sre_cockpit.providers.registry import suggest

    return suggest(word, candidates)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    guess = _closest(word, candidates)
    return f" (did you mean {guess!r}?)" if guess else ""


def _path_text(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 2}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).replace("\r", " ").strip()
