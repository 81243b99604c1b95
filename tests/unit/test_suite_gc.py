"""The suite runs with its imports out of the collector's sight (tests/conftest.py,
docs/decisions/gc-frozen-after-collection.md)."""

from __future__ import annotations

import gc


def test_the_heap_loaded_by_collection_is_frozen_and_collections_are_fewer() -> None:
    # Everything the test modules imported (Textual, the server's stack, pytest's own) is frozen:
    # far more than the few objects a run that never froze would report (0).
    assert gc.get_freeze_count() > 50_000
    assert gc.get_threshold() == (7000, 20, 20)
