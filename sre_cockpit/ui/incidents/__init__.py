"""ui.incidents layer of sre-cockpit (see README: Architecture)."""
