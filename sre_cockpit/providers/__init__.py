"""Provider plugins: built-ins and the entry-point registry."""
