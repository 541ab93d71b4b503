"""Synthetic atomic-resolution STEM scans and a tiny supersampling recipe for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from dosewise.config import SupersampleConfig


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
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(n):
        tifffile.imwrite(folder / f"scan{index:03d}.tif", lattice_scan(rng, size))
    return folder


def tiny_config(folder: Path, out_dir: Path, **overrides: object) -> SupersampleConfig:
    raw = {
        "model": {"name": "dlss-two-stage", "in_channels": 2,
                  "options": {"width": 16, "inner_width": 16, "inner_blocks": 1, "outer_blocks": 1}},
        "data": {"folders": [str(folder)], "crop_px": 48, "steps": [4, 5, 6]},
        "epochs": 2, "batch_size": 8, "device": "cpu", "out_dir": str(out_dir), "seed": 0,
    }
    for key, value in overrides.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and key in raw else value
    return SupersampleConfig.validate_dict(raw)
