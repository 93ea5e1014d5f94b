"""Start-up objects are frozen out of the collector's walks, and young collections are rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.infra.gc_tuning import YOUNG_THRESHOLD, settle_after_startup


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_what_exists_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    settle_after_startup()
    assert gc.get_freeze_count() > 1000
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
