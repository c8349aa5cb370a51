"""latdyn.reduce."""
