"""``python -m sre_cockpit``."""

from __future__ import annotations

from sre_cockpit.cli.main import main

raise SystemExit(main())
