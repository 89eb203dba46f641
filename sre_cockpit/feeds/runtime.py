"""The running cockpit's providers for one context (headless; shared by the TUI and the CLI)."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sre_cockpit.config.model import Config, ContextConfig
from sre_cockpit.core.backends import backend_identity
from sre_cockpit.core.models import utcnow
from sre_cockpit.providers.base import Capability, Provider, ProviderEnv
from sre_cockpit.providers.http import redact

T = TypeVar("T")


class Runtime:
    """Providers built from one context of a config.

    A provider whose construction fails is not fatal: it is left out of ``providers`` and its
    one-line reason is kept in ``build_errors`` so its pane can say so.
    """

    def __init__(self, config: Config, context_name: str | None = None, *,
                 read_only: bool | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        name = context_name or config.default_context or next(iter(config.contexts))
        if name not in config.contexts:
            raise KeyError(name)
        self.context_name = name
        self.context: ContextConfig = config.contexts[name]
        self.read_only = bool(read_only) or self.context.read_only
        self.clock = clock
        self.env = ProviderEnv(context=name, user=config.user or _default_user(),
                               read_only=self.read_only)
        self.providers: dict[str, Provider] = {}
        self.build_errors: dict[str, str] = {}
        """Provider name → why it could not be built (one redacted line)."""
        self.types: dict[str, str] = {}
        self.failed_capabilities: dict[str, frozenset[Capability] | None] = {}
        """What a provider that failed to build would have done (None: its plugin did not
        even load), so the feed that would have used it can say it is missing."""
        from sre_cockpit.providers import registry

        for pname, raw in self.context.providers.items():
            type_name = str(raw.get("type", ""))
            self.types[pname] = type_name
            cls: type[Provider] | None = None
            try:
                cls = registry.load_provider_class(type_name)
                options = cls.Options.model_validate(raw)
                self.providers[pname] = cls(pname, options, self.env)
            except (registry.UnknownProviderType, registry.BrokenProvider) as exc:
                self.build_errors[pname] = redact(str(exc).splitlines()[0])
            except Exception as exc:  # a broken plugin must not take the cockpit down
                self.build_errors[pname] = redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
            if pname in self.build_errors:
                self.failed_capabilities[pname] = cls.CAPABILITIES if cls is not None else None
        self.backends: dict[str, str] = {
            name: (self.providers[name].backend if name in self.providers
                   else backend_identity(self.types[name], _url(raw)))
            for name, raw in self.context.providers.items()}
        """Provider name → the backend it talks to (a note belongs to it, with the context)."""

    def of(self, capability: type[T]) -> dict[str, T]:
        """Providers implementing a capability Protocol, e.g. ``runtime.of(IncidentSource)``."""
        return {n: p for n, p in self.providers.items() if isinstance(p, capability)}

    def failed_for(self, capability: Capability) -> dict[str, str]:
        """Providers that failed to build and would have had ``capability`` (or whose plugin
        did not load, so nobody can say): name → reason."""
        return {name: reason for name, reason in self.build_errors.items()
                if (caps := self.failed_capabilities.get(name)) is None or capability in caps}

    def get(self, name: str) -> Provider | None:
        """One provider by its config name."""
        return self.providers.get(name)

    @property
    def is_production(self) -> bool:
        """Production-like contexts get a loud header."""
        lowered = self.context_name.lower()
        return self.context.danger or any(w in lowered for w in ("prod", "prd", "live"))

    async def aclose(self) -> None:
        """Close every provider's connections."""
        await asyncio.gather(*(p.aclose() for p in self.providers.values()),
                             return_exceptions=True)


def _url(raw: object) -> str | None:
    """The ``url`` option of a provider's raw config (a provider that failed to build)."""
    url = raw.get("url") if isinstance(raw, dict) else None
    return url if isinstance(url, str) else None


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "sre-cockpit"

