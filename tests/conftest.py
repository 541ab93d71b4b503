"""Shared fixtures: the real-micrograph corpus lives beside the checkout in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.paths import REAL_DATA_DIR


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """``../shared/data/real``; tests that need it skip cleanly when it is absent."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real micrograph corpus not found at {REAL_DATA_DIR}")
    return REAL_DATA_DIR
