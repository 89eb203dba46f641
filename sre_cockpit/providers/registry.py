"""Provider plugin registry over the entry-point group ``sre_cockpit.providers``.

Built-in providers are declared in ``pyproject.toml`` through the same group as third-party
plugins (harlequin's adapter model). Listing plugins never imports them; a plugin is imported
only when a config uses its ``type:``. A broken plugin (import error, not a ``Provider``
subclass) becomes one warning line in :func:`warnings`, never a crash of the cockpit.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from sre_cockpit.core.suggest import suggest
from sre_cockpit.providers.base import Provider

GROUP = "sre_cockpit.providers"
BUILTIN_PREFIX = "sre_cockpit."

_registered: dict[str, type[Provider]] = {}
_loaded: dict[str, type[Provider]] = {}
_warnings: list[str] = []


class UnknownProviderType(LookupError):
    """No provider plugin declares this ``type:``. ``str()`` is one line with a suggestion."""

    def __init__(self, type_name: str, known: list[str]) -> None:
        self.type_name = type_name
        self.known = sorted(known)
        self.suggestion = suggest(type_name, self.known)
        message = f"unknown provider type {type_name!r}"
        if self.suggestion:
            message += f" (did you mean {self.suggestion!r}?)"
        elif self.known:
            message += f" (known types: {', '.join(self.known)})"
        else:
            message += " (no provider plugins are installed)"
        super().__init__(message)


class BrokenProvider(ImportError):
    """A provider plugin exists but cannot be loaded. ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One installed plugin as ``sre-cockpit providers`` lists it."""

    name: str
    value: str  # "module:Class"
    module: str
    distribution: str | None
    builtin: bool


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    try:
        return list(importlib.metadata.entry_points(group=GROUP))
    except Exception as exc:  # broken distribution metadata somewhere on sys.path
        _warn(f"cannot read provider plugin entry points: {_one_line(f'{type(exc).__name__}: {exc}')}")
        return []


def available() -> dict[str, importlib.metadata.EntryPoint]:
    """Every installed plugin by type name, without importing any of them.

    When two distributions declare the same type name, a built-in wins over a third-party
    plugin (and the clash is reported once in :func:`warnings`).
    """
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in _entry_points():
        other = found.get(ep.name)
        if other is None:
            found[ep.name] = ep
            continue
        if other.value == ep.value:
            continue  # the same plugin seen twice (e.g. an editable and a regular install)
        keep, drop = other, ep
        if _is_builtin(ep) and not _is_builtin(other):
            keep, drop = ep, other
        found[ep.name] = keep
        _warn(f"provider plugin {ep.name!r}: declared twice ({keep.value} and {drop.value}); "
              f"using {keep.value}")
    return found


def _is_builtin(ep: importlib.metadata.EntryPoint) -> bool:
    return ep.value.startswith(BUILTIN_PREFIX)


def known_types() -> list[str]:
    """Every type name a config may use (entry points and registered classes)."""
    return sorted(set(available()) | set(_registered))


def plugins() -> list[PluginInfo]:
    """Installed plugins with their module and origin (built-in or third-party), sorted."""
    out: list[PluginInfo] = []
    for name, ep in sorted(available().items()):
        module = ep.value.split(":", 1)[0]
        dist = ep.dist.name if ep.dist is not None else None
        out.append(PluginInfo(name=name, value=ep.value, module=module, distribution=dist,
                              builtin=module.startswith(BUILTIN_PREFIX)))
    return out


def register(type_name: str, cls: type[Provider]) -> None:
    """Register a provider class directly (tests and embedding); wins over entry points."""
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise TypeError(f"{cls!r} is not a Provider subclass")
    _registered[type_name] = cls


def unregister(type_name: str) -> None:
    """Undo :func:`register` (tests)."""
    _registered.pop(type_name, None)
    _loaded.pop(type_name, None)


def load_provider_class(type_name: str) -> type[Provider]:
    """Import and return the provider class for a ``type:``.

    Raises:
        UnknownProviderType: nothing declares this type (with a "did you mean" suggestion).
        BrokenProvider: the plugin is declared but fails to import or is not a Provider subclass
            (the one-line reason is also kept in :func:`warnings`).
    """
    if type_name in _registered:
        return _registered[type_name]
    if type_name in _loaded:
        return _loaded[type_name]
    eps = available()
    ep = eps.get(type_name)
    if ep is None:
        raise UnknownProviderType(type_name, known_types())
    try:
        obj = ep.load()
    except Exception as exc:  # a third-party plugin may raise anything at import time
        reason = _one_line(f"{type(exc).__name__}: {exc}")
        message = f"provider plugin {type_name!r} ({ep.value}) cannot be loaded: {reason}"
        _warn(message)
        raise BrokenProvider(message) from exc
    if not (isinstance(obj, type) and issubclass(obj, Provider)):
        message = (f"provider plugin {type_name!r} ({ep.value}) is not a Provider subclass "
                   f"(got {type(obj).__name__})")
        _warn(message)
        raise BrokenProvider(message)
    _loaded[type_name] = obj
    return obj


def warnings() -> list[str]:
    """One line per broken plugin seen so far (de-duplicated, in order)."""
    return list(_warnings)


def clear_warnings() -> None:
    """Forget collected warnings (tests, or after the CLI has printed them)."""
    _warnings.clear()


def reset() -> None:
    """Forget registered and loaded classes and warnings (tests)."""
    _registered.clear()
    _loaded.clear()
    _warnings.clear()


def _warn(message: str) -> None:
    if message not in _warnings:
        _warnings.append(message)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else text.strip()
