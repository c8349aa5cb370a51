"""latdyn.scattering."""
