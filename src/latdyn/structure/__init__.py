"""latdyn.structure."""
