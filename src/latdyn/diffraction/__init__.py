"""latdyn.diffraction."""
