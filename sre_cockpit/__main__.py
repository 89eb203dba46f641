"""``python -m sre_cockpit``."""

from __future__ import annotations

from sre_cockpit.cli import main

raise SystemExit(main())
