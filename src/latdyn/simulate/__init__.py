"""latdyn.simulate."""
