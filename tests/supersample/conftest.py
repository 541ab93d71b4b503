"""Synthetic STEM scans in a folder (see tests/helpers/supersample.py) and a
tiny supersampler trained on them once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosewise.training.supersample import train_supersampler
from tests.helpers.configs import tiny_supersample_config
from tests.helpers.supersample import write_scans


@pytest.fixture(scope="session")
def scan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scans(tmp_path_factory.mktemp("stem") / "scans", 24, seed=0)


@pytest.fixture(scope="session")
def trained_supersampler(scan_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tiny_supersample_config(scan_folder, tmp_path_factory.mktemp("run"), epochs=12)
    result = train_supersampler(config, progress=False)
    assert result.best_checkpoint is not None
    return result.best_checkpoint
