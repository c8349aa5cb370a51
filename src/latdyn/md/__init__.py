"""latdyn.md."""
