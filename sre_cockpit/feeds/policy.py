"""The one deadline policy and error wording every feed and CLI command uses."""

from __future__ import annotations

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.providers.base import Provider
from sre_cockpit.providers.http import redact

__all__ = ["DEFAULT_TIMEOUT_S", "GRACE_S", "PROBE_GRACE_S", "RETRIES_PER_FETCH", "fetch_deadline",
           "one_line", "probe_deadline", "redact"]

RETRIES_PER_FETCH = 3
"""A fetch may take a provider's own ``timeout`` this many times (paging, on-call, retries)."""
GRACE_S = 5.0
"""On top of the provider's timeouts before a fetch is given up."""
PROBE_GRACE_S = 2.0
"""On top of the provider's ``timeout`` before one probe (a single request) is given up."""
DEFAULT_TIMEOUT_S = 10.0


def fetch_deadline(provider: object) -> float:
    """How long one fetch from ``provider`` may take, in the TUI's pollers and in the CLI alike:
    ``3 × timeout + 5 s`` (its ``timeout`` option, 10 s when it has none)."""
    timeout = provider.timeout_s if isinstance(provider, Provider) else DEFAULT_TIMEOUT_S
    return RETRIES_PER_FETCH * timeout + GRACE_S


def probe_deadline(provider: object) -> float:
    """How long one ``probe()`` may take (the header's probes, ``check``, ``snapshot``): one
    request, so ``timeout + 2 s``."""
    timeout = provider.timeout_s if isinstance(provider, Provider) else DEFAULT_TIMEOUT_S
    return timeout + PROBE_GRACE_S


def one_line(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The first non-empty line of ``text``, redacted and safe for a terminal."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return sanitize_line(redact(lines[0] if lines else text.strip(), secrets))
