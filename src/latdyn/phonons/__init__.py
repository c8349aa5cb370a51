"""latdyn.phonons."""
