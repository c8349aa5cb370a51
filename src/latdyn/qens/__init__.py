"""latdyn.qens."""
