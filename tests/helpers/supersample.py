"""Synthetic atomic-resolution STEM scans for the supersampling tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile


def lattice_scan(rng: np.random.Generator, size: int = 96, dose: float = 200.0) -> np.ndarray:
    """Bright Gaussian columns on a rotated lattice of random spacing, with Poisson noise."""
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    spacing = rng.uniform(7, 14)
    u = (np.cos(angle) * xx + np.sin(angle) * yy) / spacing
    v = (-np.sin(angle) * xx + np.cos(angle) * yy) / spacing
    du, dv = u - np.round(u), v - np.round(v)
    clean = 0.1 + np.exp(-(du**2 + dv**2) * spacing**2 / (2 * 1.6**2))
    return rng.poisson(dose * clean).astype(np.float32)


def write_scans(folder: Path, n: int, seed: int, size: int = 96) -> Path:
    """``n`` lattice scans as ``scan000.tif``... in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(n):
        tifffile.imwrite(folder / f"scan{index:03d}.tif", lattice_scan(rng, size))
    return folder
