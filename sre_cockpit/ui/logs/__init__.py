"""ui.logs layer of sre-cockpit (see README: Architecture)."""
