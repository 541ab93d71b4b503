"""A tiny synthetic segmentation store: dark discs on a bright, shot-noisy background."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.discs import write_disc_store


@pytest.fixture(scope="session")
def disc_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_disc_store(tmp_path_factory.mktemp("discs") / "discs.zarr")
