"""Fill in a partial STEM scan with a trained supersampler (Ede 2020, §VI), any image size.

:class:`Supersampler` takes a partial scan as a full-grid image plus its sampling
mask, or as the small image of kept probe positions plus its scan step. The scan is
scaled to [0, 1] by its measured values (as in training), run tile by tile with
overlapping tiles whose margins are discarded (Ede 2020, Fig. 8: errors are higher
within ~20 px of a network's output edge; the default overlap discards 32 px), and
mapped back to the input's units. Measured pixels are returned unchanged.

Self-calibration (regular lattices): a network can be worse than bilinear on content
unlike anything it trained on, and the scan itself can tell. The measured probes are
split into the four sub-lattices of twice the step; the network and bilinear fill each
from one sub-lattice and are scored on the probes it left out. The least-squares weight
of the network's correction to bilinear on those held-out probes, clipped to [0, 1], is
the *trust*; the output is bilinear plus trust times the correction, so a scan on which
the network did not help held-out probes gets (nearly) bilinear. The check runs at
twice the step (1/4 of the coverage); beyond the coverages the model trained on, it
extrapolates, and can trust a network that helps at 1/4 of the coverage but not at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dosewise.analysis.interpolation import interpolate_partial
from dosewise.checkpoint import LoadedSupersampler, load_supersampler, packaged_checkpoint
from dosewise.data.normalise import inliers
from dosewise.data.partial_scans import lattice_mask, network_input
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.predictor import TiledPredictor
from dosewise.models.dlss import lattice_of, supersampler_step
from dosewise.physics.partial_scan import PartialScan, upsample_partial

DEFAULT_SUPERSAMPLER = "supersample-default.ckpt"
"""The shipped supersampler in ``dosewise/weights/`` (model card: supersample-default.md)."""


def default_supersampler_path() -> Path:
    """The shipped supersampling checkpoint; a one-line error when none is installed."""
    return packaged_checkpoint(DEFAULT_SUPERSAMPLER, "supersampling")


@dataclass(frozen=True)
class FilledScan:
    """A filled-in scan and the trust its network earned on held-out probes (``None``:
    not calibrated: calibration off, an irregular mask, or too few probes to split)."""

    image: np.ndarray
    trust: float | None


class Supersampler:
    """Partial scan in, full image out: ``supersampler(scan, mask)`` or ``.from_samples(...)``;
    ``.fill(scan, mask)`` also says how far the network was trusted (see the module doc)."""

    def __init__(self, model: str | Path | LoadedSupersampler, *, device: str = "auto",
                 tile_px: int = 256, overlap_px: int = 64, batch_size: int = 4, calibrate: bool = True) -> None:
        self.model = model if isinstance(model, LoadedSupersampler) else load_supersampler(model)
        self.predictor = TiledPredictor(self.model.network, tile_px=tile_px, overlap_px=overlap_px,
                                        batch_size=batch_size, device=device)
        self.calibrate = calibrate

    def __call__(self, scan: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The full (H, W) image; ``scan`` matters only where ``mask`` is true."""
        return self.fill(scan, mask).image

    def fill(self, scan: np.ndarray, mask: np.ndarray) -> FilledScan:
        """The full image and the network's trust; measured pixels are returned unchanged."""
        scan, known = _checked(scan, mask)
        self._check_lattice(known)
        values = inliers(scan[known])  # a few spiking probes must not set the scale
        low, span = float(np.nanmin(values)), float(np.nanmax(values) - np.nanmin(values))
        span = span if span > 0 else 1.0
        scan01 = np.where(known, np.clip((scan - low) / span, -1.0, 2.0), 0.0).astype(np.float32)
        lattice = lattice_of(torch.from_numpy(known))
        output = self._network(scan01, known, lattice)
        trust = _trust(self._network, scan01, lattice) if lattice is not None and self.calibrate else None
        if trust is not None:
            step, oy, ox = lattice
            start = interpolate_partial(scan01[oy::step, ox::step], step, known.shape, (oy, ox)).astype(np.float64)
            output = start + trust * (output - start)
        output = output * span + low
        output[known] = scan[known]
        return FilledScan(output.astype(np.float32), trust)

    def _network(self, scan01: np.ndarray, known: np.ndarray, lattice: tuple[int, int, int] | None) -> np.ndarray:
        """The network's output (float64) for one scaled scan. A regular lattice smaller than a
        tile is extended by repeating its edge probes, so it stays a lattice and the network
        starts from exact bilinear (the tiler's reflect padding would break the lattice)."""
        tile_px = self.predictor.tile_px
        if lattice is None or min(known.shape) >= tile_px:
            return self.predictor.predict_batch(network_input(scan01, known)[None])[0, 0].astype(np.float64)
        step, oy, ox = lattice
        samples = scan01[oy::step, ox::step]
        (top, rows, row_index), (left, cols, col_index) = (
            _extended_axis(length, offset, step, count, tile_px)
            for length, offset, count in zip(known.shape, (oy, ox), samples.shape))
        padded = np.zeros((max(tile_px, known.shape[0] + top), max(tile_px, known.shape[1] + left)), np.float32)
        padded_known = np.zeros(padded.shape, bool)
        padded[np.ix_(rows, cols)] = samples[np.ix_(row_index, col_index)]
        padded_known[np.ix_(rows, cols)] = True
        output = self.predictor.predict_batch(network_input(padded, padded_known)[None])[0, 0]
        return output[top : top + known.shape[0], left : left + known.shape[1]].astype(np.float64)

    def from_samples(self, samples: np.ndarray, step: int, offset: tuple[int, int] = (0, 0),
                     full_shape: tuple[int, int] | None = None) -> np.ndarray:
        """The full image from the small image of kept probe positions; by default the full
        grid is ``step`` times the small one (each probe stands for ``step`` x ``step`` pixels)."""
        return self(*full_grid(samples, step, offset, full_shape))

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


def full_grid(samples: np.ndarray, step: int, offset: tuple[int, int] = (0, 0),
              full_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scan, mask) on the full grid for the small image of a regular scan's probes."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 2:
        raise InvalidImageError(f"expected one 2-D partial scan, got shape {samples.shape}")
    shape = full_shape or (samples.shape[0] * step, samples.shape[1] * step)
    return upsample_partial(samples, step, shape, offset), lattice_mask(shape, step, offset) > 0


def _extended_axis(length: int, offset: int, step: int, count: int, tile_px: int
                   ) -> tuple[int, np.ndarray, np.ndarray]:
    """One axis of a lattice extended to a tile: the pixels added before (a multiple of the
    step, about half of what is missing), the probe positions on the extended axis and the
    index of the measured probe each repeats (edge probes are repeated)."""
    missing = max(0, tile_px - length)
    before = -(-(missing // 2) // step) * step
    positions = np.arange(offset, max(tile_px, length + before), step)
    return before, positions, np.clip((positions - before - offset) // step, 0, count - 1)


def _trust(network: Callable[[np.ndarray, np.ndarray, tuple[int, int, int]], np.ndarray], scan01: np.ndarray,
           lattice: tuple[int, int, int]) -> float | None:
    """The least-squares weight in [0, 1] of the network's correction to bilinear on held-out
    probes: each of the four sub-lattices of twice the step predicts the probes it leaves out."""
    step, oy, ox = lattice
    shape = scan01.shape
    known = lattice_mask(shape, step, (oy, ox)) > 0
    offsets = [(oy + dy, ox + dx) for dy in (0, step) for dx in (0, step)]
    if any(len(range(sy, shape[0], 2 * step)) < 2 or len(range(sx, shape[1], 2 * step)) < 2 for sy, sx in offsets):
        return None  # a sub-lattice with a single row or column: too few probes to split
    agreement = power = 0.0
    count = 0
    for sy, sx in offsets:
        kept = lattice_mask(shape, 2 * step, (sy, sx)) > 0
        held = known & ~kept
        bilinear = interpolate_partial(scan01[sy :: 2 * step, sx :: 2 * step], 2 * step, shape,
                                       (sy, sx)).astype(np.float64)
        scan_kept = np.where(kept, scan01, 0.0).astype(np.float32)
        correction = (network(scan_kept, kept, (2 * step, sy, sx)) - bilinear)[held]
        agreement += float(correction @ (scan01[held] - bilinear[held]))
        power += float(correction @ correction)
        count += correction.size
    if power <= count * 1e-12:  # no correction worth weighing (an untrained network)
        return 0.0
    return float(np.clip(agreement / power, 0.0, 1.0))


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
