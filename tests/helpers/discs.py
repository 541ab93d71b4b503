"""Synthetic dark discs on a bright, shot-noisy background: segmentation stores and restoration frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dosewise.io import DatasetStore

SIZE = 40
STORE_DOSE_E_PER_PX = 30.0  # write_disc_store's noisy inputs
FRAMES_DOSE_E_PER_PX = 20.0  # noisy_discs / disc_frames


def disc_sample(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clean image (vacuum 1, discs at 0.55) and its mask, 1-2 discs of radius 5-9 px."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    mask = np.zeros((SIZE, SIZE), bool)
    for _ in range(int(rng.integers(1, 3))):
        r = rng.uniform(5, 9)
        cy, cx = rng.uniform(r, SIZE - r, size=2)
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    clean = np.where(mask, 0.55, 1.0).astype(np.float32)
    return clean, mask


def write_disc_store(
    path: Path, n_structures: int = 12, n_variants: int = 2, seed: int = 0
) -> Path:
    """A segmentation store of ``disc_sample`` structures, each with ``n_variants`` noisy copies."""
    rng = np.random.default_rng(seed)
    store = DatasetStore.create(path)
    for s in range(n_structures):
        clean, mask = disc_sample(rng)
        for v in range(n_variants):
            noisy = rng.poisson(STORE_DOSE_E_PER_PX * clean).astype(np.float32)
            store.write_sample(
                f"s{s:06d}_v{v:03d}",
                {"clean": clean, "noisy": noisy, "mask": mask.astype(np.uint8)},
                {"dose_e_per_px": STORE_DOSE_E_PER_PX, "pixel_size_A": 0.1},
            )
    return path


def noisy_discs(rng: np.random.Generator, shape: tuple[int, int] = (SIZE, SIZE)) -> tuple[np.ndarray, np.ndarray]:
    """Clean image (vacuum 1, discs at 0.55) and a shot-noisy copy in counts."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    clean = np.ones(shape, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        r = rng.uniform(4, 8)
        cy, cx = rng.uniform(r, shape[0] - r), rng.uniform(r, shape[1] - r)
        clean[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = 0.55
    noisy = rng.poisson(FRAMES_DOSE_E_PER_PX * clean).astype(np.float32)
    return clean, noisy


def disc_frames(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Noisy disc frames in counts, ``(H, W)`` or ``(N, H, W)``."""
    rng = np.random.default_rng(seed)
    n = shape[0] if len(shape) == 3 else 1
    stack = np.stack([noisy_discs(rng, shape[-2:])[1] for _ in range(n)])
    return stack if len(shape) == 3 else stack[0]
