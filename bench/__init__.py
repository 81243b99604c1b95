"""Benchmarks: ``python -m bench`` (``make bench``); the figures go into docs/PERFORMANCE.md."""
