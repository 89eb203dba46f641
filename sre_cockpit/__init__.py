"""sre-cockpit: a terminal incident cockpit for on-call engineers."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
