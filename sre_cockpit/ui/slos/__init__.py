"""ui.slos layer of sre-cockpit (see README: Architecture)."""
