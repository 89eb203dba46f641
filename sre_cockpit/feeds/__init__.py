"""feeds layer of sre-cockpit (see README: Architecture)."""
