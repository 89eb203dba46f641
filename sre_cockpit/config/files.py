"""Reading a config file: YAML with the position of every key and value, ``${env:…}`` /
``${file:…}`` expansion, and pydantic errors mapped back to ``FILE:LINE:COL: key.path: …``.

Used by :mod:`sre_cockpit.config.model`; nothing here knows the schema. Nothing here imports Textual.
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
from typing import TYPE_CHECKING, Any

from sre_cockpit.config.yamlread import YamlProblem, parse_yaml
from sre_cockpit.core.regularfile import (
    FileTooLarge,
    NotRegularFile,
    format_size,
    open_regular,
    read_limited,
    read_regular_file,
)
from sre_cockpit.core.suggest import suggest

if TYPE_CHECKING:  # pydantic takes ~0.1 s to import: not before the TUI's first frame
    from pydantic import BaseModel, ValidationError

ENV_VAR = "SRE_COCKPIT_CONFIG"
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_SECRET_BYTES = 64 * 1024
_REF = re.compile(r"\$\$\{|\$\{(?P<kind>env|file):(?P<arg>[^}]*)\}")
_SECRET_KEY = re.compile(r"(?i)token|password|secret|authorization|api_?key|cookie")

Loc = tuple[str | int, ...]
APP_NAME = "sre-cockpit"


def default_config_path() -> Path:
    """``config.yaml`` in the platform's user config dir (e.g. ``~/.config/sre-cockpit``)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.yaml"


def resolve_config_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """Where the config lives: ``--config`` → ``$SRE_COCKPIT_CONFIG`` → platform config dir.

    Raises:
        ConfigError: ``--config`` was given an empty value (a usage error, not "no --config").
    """
    if cli_value is not None:
        if not str(cli_value).strip():
            raise ConfigError(f"sre-cockpit: --config: an empty value names no file; give a path, "
                              f"or leave --config out to use ${ENV_VAR} or the default "
                              f"{default_config_path()}")
        return Path(os.path.expanduser(str(cli_value)))
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(os.path.expanduser(env))
    return default_config_path()


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
class Problem:
    """One thing wrong with the file, before it becomes a :class:`ConfigError` line."""

    line: int | None
    col: int | None
    loc: Loc
    message: str
    explains: Loc | None = None  # an unknown key that probably meant this missing key


@dataclass(slots=True)
class Doc:
    """A YAML document turned into plain data plus the position of every key and value."""

    data: Any
    values: dict[Loc, tuple[int, int]]
    keys: dict[Loc, tuple[int, int]]
    secrets: list[str]



# --------------------------------------------------------------------------------- reading


def read_config_text(path: Path, file: str, explicit: bool) -> str:
    """The file's text (UTF-8, BOM allowed, at most :data:`MAX_CONFIG_BYTES`), read without
    blocking: a FIFO, device, socket or directory is refused before anything is read.

    Raises:
        ConfigError: unreadable, not a regular file, too large or not UTF-8.
    """
    try:
        raw = read_regular_file(path, MAX_CONFIG_BYTES)
    except NotRegularFile as exc:
        reason = "Is a directory" if exc.is_dir else f"{exc}; give the path of a YAML file"
        raise ConfigError(f"cannot read: {reason}", file=file) from None
    except FileTooLarge as exc:
        raise ConfigError(f"cannot read: the file is {format_size(exc.size)}; a config may be "
                          f"at most {format_size(MAX_CONFIG_BYTES)}", file=file) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if not explicit and isinstance(exc, FileNotFoundError):
            reason += f" (no --config given and ${ENV_VAR} is not set)"
        raise ConfigError(f"cannot read: {reason}", file=file) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=file, line=line,
                          col=col) from None


def parse_document(text: str, file: str, base_dir: Path) -> Doc:
    """Parse the YAML, record every position, expand references (relative to ``base_dir``).

    Raises:
        ConfigError: a syntax error, a refused YAML feature (see :mod:`sre_cockpit.config.yamlread`),
            a bad reference, or a top level that is not a mapping.
    """
    refs = _References(file, base_dir)
    try:
        parsed = parse_yaml(text, refs.expand)
    except YamlProblem as exc:
        raise ConfigError(_redact(exc.message, refs.secrets), file=file, line=exc.line,
                          col=exc.col, key_path=_path_text(exc.loc) or None) from None
    data = parsed.data
    if data is None:
        raise ConfigError("the file is empty; expected a mapping with 'contexts'", file=file)
    if not isinstance(data, dict):
        line, col = parsed.values.get((), (None, None))
        raise ConfigError(f"expected a mapping at the top level, got {_kind(data)}", file=file,
                          line=line, col=col)
    refs.secrets.extend(_literal_secrets(data))
    return Doc(data, parsed.values, parsed.keys, refs.secrets)


class _References:
    """Expands ``${env:NAME}``, ``${file:PATH}`` and ``$${`` in string values, remembering
    every expanded value as a secret."""

    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir
        self.secrets: list[str] = []

    def fail(self, loc: Loc, pos: tuple[int, int], message: str) -> ConfigError:
        return ConfigError(_redact(message, self.secrets), file=self.file, line=pos[0],
                           col=pos[1], key_path=_path_text(loc) or None)

    def expand(self, text: str, loc: Loc, pos: tuple[int, int]) -> str:
        def repl(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            kind, arg = match.group("kind"), match.group("arg")
            if kind == "env":
                return self.env(loc, pos, arg)
            return self.file_ref(loc, pos, arg)

        return _REF.sub(repl, text)

    def env(self, loc: Loc, pos: tuple[int, int], arg: str) -> str:
        name, has_default, default = arg.partition(":-")
        name = name.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(loc, pos, f"${{env:{name}}}: not a valid environment variable name")
        value = os.environ.get(name)
        if value is None and has_default:
            return default  # written in the file: not a secret
        if value is None:
            raise self.fail(loc, pos, f"environment variable {name} is not set "
                                      f"(referenced as ${{env:{name}}})")
        self.secrets.append(value)
        return value

    def file_ref(self, loc: Loc, pos: tuple[int, int], arg: str) -> str:
        arg = arg.strip()
        if not arg:
            raise self.fail(loc, pos, "${file:}: a path is required, e.g. ${file:~/.pd-token}")
        path = Path(os.path.expanduser(arg))
        if not path.is_absolute():
            path = self.base_dir / path
        shown = str(path)
        try:
            with open_regular(path) as (fd, st):
                mode = stat.S_IMODE(st.st_mode)
                if os.name == "posix" and mode & 0o077:
                    raise self.fail(loc, pos, f"secret file {shown}: permissions {mode:04o} are "
                                              f"too open; chmod 600 {shown}")
                content = read_limited(fd, st, MAX_SECRET_BYTES).decode("utf-8")
        except NotRegularFile as exc:
            raise self.fail(loc, pos, f"secret file {shown} is {exc.kind}, not a regular "
                                      "file") from None
        except FileTooLarge:
            raise self.fail(loc, pos, f"secret file {shown} is larger than "
                                      f"{format_size(MAX_SECRET_BYTES)}") from None
        except OSError as exc:
            raise self.fail(loc, pos, f"cannot read secret file {shown}: "
                                      f"{exc.strerror or type(exc).__name__}") from None
        except UnicodeDecodeError:
            raise self.fail(loc, pos, f"secret file {shown} is not UTF-8 text") from None
        # One trailing newline (as editors and `echo` leave it) is not part of the secret; any
        # other line break is, and is refused where the value is used (a header, say).
        value = content.removesuffix("\n").removesuffix("\r")
        self.secrets.append(value)
        return value


def _literal_secrets(data: Any) -> Iterator[str]:
    """Values written literally under secret-looking keys, and passwords in URLs
    (``http://user:PASS@host``), as written and percent-decoded (redacted from messages too)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _SECRET_KEY.search(str(key)):
                yield value
            elif isinstance(value, str) and "@" in value and "://" in value:
                yield from _url_passwords(value)
            else:
                yield from _literal_secrets(value)
    elif isinstance(data, list):
        for item in data:
            yield from _literal_secrets(item)




def _url_passwords(text: str) -> Iterator[str]:
    from urllib.parse import unquote, urlsplit

    try:
        netloc = urlsplit(text.strip()).netloc
    except ValueError:
        return
    password = netloc.rpartition("@")[0].partition(":")[2]
    if password:
        yield password
        yield unquote(password)


def errors_from_pydantic(exc: ValidationError, doc: Doc, prefix: Loc,
                         model: type[BaseModel]) -> list[Problem]:
    """Turn a validation error of ``model`` (validated at ``prefix`` in the file) into
    positioned problems with plain-English messages and "did you mean" suggestions."""
    problems: list[Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False, include_input=False):
        loc = _real_loc(doc.data, (*prefix, *err["loc"]))
        etype = err["type"]
        msg = str(err["msg"])
        if etype == "extra_forbidden":
            allowed = _allowed_keys(model, loc[len(prefix):-1])
            name = str(loc[-1]) if loc else "?"
            guess = suggest(name, allowed)
            message = f"unknown key {name!r}" + (f" (did you mean {guess!r}?)" if guess else "")
            line, col = position_of(doc, loc, key=True)
            if guess is not None:
                problems.append(Problem(line, col, loc, message, explains=(*loc[:-1], guess)))
                continue
        elif etype == "missing":
            message = f"required key {str(loc[-1])!r} is missing"
            line, col = position_of(doc, loc)
        else:
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            elif msg.startswith("Assertion failed, "):
                msg = msg[len("Assertion failed, "):]
            message = _friendly(msg[:1].lower() + msg[1:])
            value = _lookup(doc.data, loc)
            if etype.endswith("_type") and value is not _MISSING:
                message += f" (got {_kind(value)})"
            line, col = position_of(doc, loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(Problem(line, col, loc, message))
    return problems


def raise_first(problems: list[Problem], file: str, secrets: list[str]) -> None:
    """Raise the first problem in file order (the others in ``.more``), secrets redacted."""
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


def position_of(doc: Doc, loc: Loc, *, key: bool = False) -> tuple[int | None, int | None]:
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
    from pydantic import BaseModel

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
    from pydantic import BaseModel

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

