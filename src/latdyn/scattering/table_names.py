"""Names of the scattering-length tables: Sears 1992 (default) and Rauch-Waschkowski 2003.

A module of its own, without imports, so that the command line can offer the choices without
loading the tables (or numpy)."""

__all__ = ["TABLES"]

TABLES = ("sears", "rauch")
