"""Packaged policy files (data only; a package so that setuptools ships them)."""
