"""Synthetic STEM scans in a folder (see sshelpers.py) and a
tiny supersampler trained on them once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from sshelpers import tiny_config, write_scans

from dosewise.training.supersample import train_supersampler


@pytest.fixture(scope="session")
def scan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scans(tmp_path_factory.mktemp("stem") / "scans", 24, seed=0)


@pytest.fixture(scope="session")
def trained_supersampler(scan_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = tiny_config(scan_folder, tmp_path_factory.mktemp("run"), epochs=12)
    result = train_supersampler(config, progress=False)
    assert result.best_checkpoint is not None
    return result.best_checkpoint
