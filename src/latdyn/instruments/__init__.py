"""latdyn.instruments."""
