"""latdyn.data.io."""
