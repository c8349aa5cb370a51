"""latdyn.thermo."""
