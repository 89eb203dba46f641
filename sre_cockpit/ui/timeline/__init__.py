"""ui.timeline layer of sre-cockpit (see README: Architecture)."""
