"""latdyn.fitting."""
