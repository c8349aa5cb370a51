"""Data shipped with latdyn for the demo and the docs (see README.md for provenance and licenses)."""
