"""A detector measured from a real dose series of vacuum (Larsen et al. 2023, Figs. 5 and 6).

:func:`fit_mtf_series` fits eq. 1 to the vacuum region of every frame (Fig. 5:
c0, c3, C against dose) and, when the frame doses are known, eq. 2
C² = N0 / (N0 + N_D) to the tails (Fig. 6). :meth:`MTFSeriesFit.to_preset`
turns the result into an :class:`~dosewise.physics.mtf.MTFPreset` that the
simulator samples like mtf1..mtf5, and :func:`~dosewise.physics.mtf_presets.write_preset_yaml` /
:func:`~dosewise.physics.mtf_presets.load_preset_yaml` keep it in a file that ``--mtf my_detector.yaml``
accepts wherever a preset name is accepted.

Two fits per frame when ``floor="mtf"``: the requested eq. A.1 fit (the values
of Larsen et al. 2023, Fig. 5) and a ``floor="readout"`` fit of the exact eq. 3 vacuum spectrum.
N0 and the preset come from the readout fits: their C is unbiased for eq. 2
(see :func:`dosewise.physics.mtf_fit.fit_mtf`), and their c0, c3 describe the
C = 0 scintillator MTF that the simulator applies before adding Poisson(N0).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pydantic import ValidationError

from dosewise.errors import DosewiseError, InvalidParameterError, describe_validation_error
from dosewise.io import atomic_write
from dosewise.physics.mtf_presets import MTFPreset
from dosewise.units import check_pixel_size_A, dose_e_per_A2
from dosewise.physics.mtf_fit import MTFFit, NoiseFloor, ReadoutFit, fit_mtf, fit_readout_n0

# Larsen et al. 2023, Fig. 5 marks the fits with R² >= 0.98; only those shape a preset by default.
DEFAULT_MIN_R2 = 0.98
# c0 and c3 ranges of a preset: the 5th..95th percentile of the accepted frames (min..max
# for a handful of frames, one outlier of a long series does not widen the range).
PRESET_PERCENTILES = (5.0, 95.0)
# N0 of a preset: the fitted value +-50 %, as Larsen et al. 2023 does (N0 = 0.01 -> [0.005, 0.015]).
N0_SPREAD = 0.5

Region = tuple[int, int, int, int]


def crop_region(frame: np.ndarray, region: Region | None, source: str | Path | None = None) -> np.ndarray:
    """``frame[..., y0:y1, x0:x1]`` for ``region = (x0, y0, x1, y1)`` (x = column, end exclusive)."""
    if region is None:
        return frame
    x0, y0, x1, y1 = (int(v) for v in region)
    height, width = frame.shape[-2:]
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InvalidParameterError(
            f"region {x0} {y0} {x1} {y1} is not inside the {width}x{height} image (need x0<x1<=W, y0<y1<=H)",
            source,
        )
    return frame[..., y0:y1, x0:x1]


@dataclass(frozen=True)
class FrameMTF:
    """One frame: its dose (``None`` when unknown) and the fits of its vacuum region."""

    frame: int
    dose_e_per_px: float | None
    dose_e_per_A2: float | None
    fit: MTFFit  # the requested floor (eq. A.1 for "mtf")
    readout_fit: MTFFit  # floor="readout": the C for eq. 2 and the preset's c0, c3

    def row(self) -> dict[str, Any]:
        """Flat record for CSV and JSON."""
        f = self.fit
        return {
            "frame": self.frame,
            "dose_e_per_A2": self.dose_e_per_A2,
            "dose_e_per_px": self.dose_e_per_px,
            "c0": f.c0,
            "c3": f.c3,
            "C": f.C,
            "r2": f.r2,
            "c1": f.c1,
            "c2": f.c2,
            "c0_readout": self.readout_fit.c0,
            "c3_readout": self.readout_fit.c3,
            "C_readout": self.readout_fit.C,
            "r2_readout": self.readout_fit.r2,
        }


@dataclass(frozen=True)
class MTFSeriesFit:
    """Per-frame MTF fits of a series and, with known doses (>= 2 frames), the eq. 2 N0 fit."""

    frames: list[FrameMTF]
    floor: NoiseFloor
    readout: ReadoutFit | None
    pixel_size_A: float | None = None

    @property
    def fits(self) -> list[MTFFit]:
        return [f.fit for f in self.frames]

    @property
    def doses_e_per_px(self) -> np.ndarray | None:
        if any(f.dose_e_per_px is None for f in self.frames):
            return None
        return np.array([f.dose_e_per_px for f in self.frames], dtype=np.float64)

    def rows(self) -> list[dict[str, Any]]:
        return [f.row() for f in self.frames]

    def accepted(self, min_r2: float = DEFAULT_MIN_R2) -> list[FrameMTF]:
        """Frames whose readout-form fit reaches ``min_r2``."""
        return [f for f in self.frames if f.readout_fit.r2 >= min_r2]

    def to_preset(
        self,
        name: str,
        *,
        min_r2: float = DEFAULT_MIN_R2,
        percentiles: tuple[float, float] = PRESET_PERCENTILES,
        n0_spread: float = N0_SPREAD,
    ) -> MTFPreset:
        """A simulator preset: c0, c3 over the accepted frames, N0 = fitted N0 ± ``n0_spread``.

        The c0 and c3 ranges are the ``percentiles`` (default 5..95 %) of the readout-form
        fits with R² >= ``min_r2`` (default 0.98, the paper's mark in Fig. 5); frames below
        it -- mostly the lowest doses, where readout noise flattens the spectrum -- are
        left out. The N0 range is N0 · (1 ∓ 0.5), as Larsen et al. 2023 varies its fitted N0.
        """
        if self.readout is None:
            raise InvalidParameterError("a preset needs the N0 fit: give the dose of every frame (>= 2 frames)")
        if not 0.0 <= n0_spread < 1.0:
            raise InvalidParameterError(f"N0 spread must lie in [0, 1), got {n0_spread}")
        good = self.accepted(min_r2)
        if not good:
            best = max(f.readout_fit.r2 for f in self.frames)
            raise InvalidParameterError(
                f"no frame's MTF fit reaches R² >= {min_r2:g} (best {best:.3f}): lower the R² threshold "
                "or use a larger vacuum region"
            )
        c0 = np.percentile([f.readout_fit.c0 for f in good], percentiles)
        c3 = np.percentile([f.readout_fit.c3 for f in good], percentiles)
        n0 = self.readout.n0_e_per_px
        try:
            return MTFPreset(
                name=name,
                c0_range=(float(c0[0]), float(c0[1])),
                c3_range=(float(c3[0]), float(c3[1])),
                n0_range_e_per_px=(n0 * (1.0 - n0_spread), n0 * (1.0 + n0_spread)),
            )
        except ValidationError as exc:
            raise InvalidParameterError(f"invalid preset {name!r}: {describe_validation_error(exc)}") from None

    def write_csv(self, path: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
        """``frame, dose_e_per_A2, dose_e_per_px, c0, c3, C, r2, ...`` (empty = unknown), atomically."""
        rows = self.rows()
        with atomic_write(path, inputs=inputs) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        return Path(path)


def fit_mtf_series(
    frames: np.ndarray | Sequence[np.ndarray],
    doses_e_per_px: Sequence[float] | np.ndarray | None = None,
    region: Region | None = None,
    floor: NoiseFloor = NoiseFloor.mtf,
    *,
    pixel_size_A: float | None = None,
    source: str | Path | None = None,
) -> MTFSeriesFit:
    """Fit eq. 1 to the vacuum ``region`` (x0, y0, x1, y1; None = whole frame) of every frame.

    ``frames`` is an ``(N, H, W)`` stack, a list of ``(H, W)`` frames or one ``(H, W)``
    image. With ``doses_e_per_px`` (one per frame, > 0) the tails C of the readout-form
    fits are fitted with eq. 2 for N0 (needs >= 2 frames); ``pixel_size_A`` adds the
    doses in e-/Å². A failed frame raises an error naming its index (and ``source``).
    """
    if floor not in ("mtf", "readout"):
        raise InvalidParameterError(f"floor must be 'mtf' or 'readout', got {floor!r}")
    stack = [np.asarray(frames)] if np.ndim(frames) == 2 else [np.asarray(f) for f in frames]
    if not stack:
        raise InvalidParameterError("no frames to fit", source)
    doses = _check_doses(doses_e_per_px, len(stack), source)
    if pixel_size_A is not None:
        check_pixel_size_A(pixel_size_A, source)
    results = []
    for index, frame in enumerate(stack):
        vacuum = crop_region(frame, region, source)
        try:
            fit = fit_mtf(vacuum, floor=floor)
            readout_fit = fit if floor == "readout" else fit_mtf(vacuum, floor="readout")
        except DosewiseError as exc:
            where = f"frame {index}: " if len(stack) > 1 else ""
            raise type(exc)(f"{where}{exc.problem}", source) from None
        dose = None if doses is None else float(doses[index])
        dose_A2 = None if dose is None or pixel_size_A is None else dose_e_per_A2(dose, pixel_size_A)
        results.append(FrameMTF(index, dose, dose_A2, fit, readout_fit))
    readout = None
    if doses is not None and len(stack) >= 2:
        readout = fit_readout_n0(np.array([r.readout_fit.C for r in results]), doses)
    return MTFSeriesFit(frames=results, floor=floor, readout=readout, pixel_size_A=pixel_size_A)


def _check_doses(
    doses: Sequence[float] | np.ndarray | None, n_frames: int, source: str | Path | None = None
) -> np.ndarray | None:
    if doses is None:
        return None
    values = np.asarray(doses, dtype=np.float64).ravel()
    if values.size != n_frames:
        raise InvalidParameterError(f"{values.size} doses given for {n_frames} frames: give one dose per frame",
                                    source)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InvalidParameterError("frame doses must be finite and > 0 e-/px", source)
    return values


# --------------------------------------------------------------------------- preset files
