"""Fill in a partial STEM scan with a trained supersampler (Ede 2020, §VI), any image size.

:class:`Supersampler` takes a partial scan as a full-grid image plus its sampling
mask, or as the small image of kept probe positions plus its scan step. The scan is
scaled to [0, 1] by its measured values (as in training), run tile by tile with
overlapping tiles whose margins are discarded (Ede 2020, Fig. 8: errors are higher
within ~20 px of a network's output edge; the default overlap discards 32 px), and
mapped back to the input's units. Measured pixels are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from dosewise.checkpoint import LoadedSupersampler, load_supersampler
from dosewise.data.partial_scans import network_input
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.predictor import TiledPredictor
from dosewise.models.dlss import supersampler_step
from dosewise.physics.partial_scan import PartialScan, upsample_partial

class Supersampler:
    """Partial scan in, full image out: ``supersampler(scan, mask)`` or ``.from_samples(...)``."""

    def __init__(self, model: str | Path | LoadedSupersampler, *, device: str = "auto",
                 tile_px: int = 256, overlap_px: int = 64, batch_size: int = 4) -> None:
        self.model = model if isinstance(model, LoadedSupersampler) else load_supersampler(model)
        self.predictor = TiledPredictor(self.model.network, tile_px=tile_px, overlap_px=overlap_px,
                                        batch_size=batch_size, device=device)

    def __call__(self, scan: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The full (H, W) image; ``scan`` matters only where ``mask`` is true."""
        scan, known = _checked(scan, mask)
        self._check_lattice(known)
        values = scan[known]
        low, span = float(values.min()), float(np.ptp(values))
        span = span if span > 0 else 1.0
        scan01 = np.where(known, (scan - low) / span, 0.0).astype(np.float32)
        output = self.predictor.predict_batch(network_input(scan01, known)[None])[0, 0]
        output = output.astype(np.float64) * span + low
        output[known] = scan[known]
        return output.astype(np.float32)

    def from_samples(self, samples: np.ndarray, step: int, offset: tuple[int, int] = (0, 0),
                     full_shape: tuple[int, int] | None = None) -> np.ndarray:
        """The full image from the small image of kept probe positions; by default the full
        grid is ``step`` times the small one (each probe stands for ``step`` x ``step`` pixels)."""
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 2:
            raise InvalidImageError(f"expected one 2-D partial scan, got shape {samples.shape}")
        shape = full_shape or (samples.shape[0] * step, samples.shape[1] * step)
        filled = upsample_partial(samples, step, shape, offset)
        mask = np.zeros(shape, bool)
        mask[offset[0] :: step, offset[1] :: step] = True
        return self(filled, mask)

    def method(self) -> Callable[[PartialScan], np.ndarray]:
        """This supersampler as an evaluation method of a :class:`PartialScan`."""
        return lambda scan: self(scan.filled, scan.mask)

    def _check_lattice(self, known: np.ndarray) -> None:
        step = supersampler_step(self.model.model_config)
        if step is None:
            return
        rows, cols = np.flatnonzero(known.any(1)), np.flatnonzero(known.any(0))
        oy, ox = int(rows[0]), int(cols[0])
        lattice = np.zeros_like(known)
        lattice[oy::step, ox::step] = True
        if not np.array_equal(lattice, known):
            raise InvalidParameterError(
                f"this one-stage generator needs a regular scan at step {step} (coverage 1/{step**2})"
            )


def _checked(scan: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scan, mask = np.asarray(scan), np.asarray(mask)
    if scan.ndim != 2:
        raise InvalidImageError(f"expected one 2-D scan, got shape {scan.shape}")
    if mask.shape != scan.shape:
        raise InvalidImageError(f"mask shape {mask.shape} differs from the scan's {scan.shape}")
    if scan.dtype.kind not in "biuf":
        raise InvalidImageError(f"data type {scan.dtype} is not a real number type")
    known = mask > 0
    if known.sum() < 4:
        raise InvalidImageError("the sampling mask marks fewer than 4 measured pixels")
    scan = scan.astype(np.float32)
    if not np.isfinite(scan[known]).all():
        raise InvalidImageError("measured pixels contain NaN/inf values")
    return scan, known
