"""The node ids this pytest session collected, kept by tests/conftest.py's
``pytest_itemcollected`` before any deselection (-k, -m): tests that check names against
pytest's own collection (tests/unit/test_security_doc.py) read it instead of collecting again."""

from __future__ import annotations

import pytest

COLLECTED = pytest.StashKey[set[str]]()
