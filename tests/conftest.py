"""Checks on every test of the suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _leaves_no_stale_dagster_home() -> Iterator[None]:
    """A test must not leave DAGSTER_HOME pointing at a folder that is gone (a patch undone
    after the temporary instance it named was deleted): every later test in the worker that
    starts `dagster` or `recon` would inherit it and fail far from the cause."""
    yield
    home = os.environ.get("DAGSTER_HOME")
    assert not home or Path(home).is_dir(), f"this test left DAGSTER_HOME={home}, now deleted"
