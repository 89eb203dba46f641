"""Which backend a provider talks to: half of an incident's identity.

An incident is known by its provider's name and its id, but two contexts (or two runs of the
simulator) can both name a provider ``pd`` and hold the same ids on different backends. A note
or pin written for an incident belongs to that backend: :func:`backend_identity` names it from
the provider's type and URL (scheme, host, port and path; never the credentials, the query or
the fragment), so the same backend is recognised across restarts and a different one is not.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def backend_identity(type_name: str, url: str | None = None, *extra: str) -> str:
    """``pagerduty https://api.pagerduty.com`` for a provider's type and base URL.

    Args:
        type_name: the provider's ``type:``.
        url: its base URL (None: the type alone names it, e.g. a plugin without one).
        extra: more that tells two backends at one URL apart (a Statuspage page id).

    Returns:
        A stable one-line identity: lower-case scheme and host, the port only when it is not
        the scheme's default, the path without a trailing slash.
    """
    parts = [type_name.strip()]
    if url:
        parts.append(normalise_url(url))
    parts.extend(part.strip() for part in extra if part and part.strip())
    return " ".join(part for part in parts if part)


def normalise_url(url: str) -> str:
    """``HTTPS://user:pw@Api.Example.com:443/v2/?x=1`` → ``https://api.example.com/v2``."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # a port that is not a number: keep what identifies it, no secrets
        return text.rsplit("@", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    scheme = parts.scheme.lower()
    if not host:
        return text.rsplit("@", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"
