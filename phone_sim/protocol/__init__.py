"""The activation wire protocol: one implementation, imported by the phone and the vendor server.

Specified in ``docs/PROTOCOL.md``; committed test vectors live in ``tests/vectors/``.
This package imports neither side (an import-linter contract keeps it so).
"""
