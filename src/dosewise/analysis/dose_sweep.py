"""How low can the dose go: segmented area and overlap scores against frame dose
(Larsen et al. 2023).

A dose sweep takes one segmentation per frame of a series whose frame dose rises and
answers the two questions of Larsen et al. 2023:

- the **50 % dose**: the lowest dose at which the segmented area reaches half of the
  target area (the true mask's area for simulated series; for a real series, the area
  segmented in the last, highest-dose frame: the pseudo ground truth of Larsen et al. 2023, §2);
  found by linear interpolation in log dose between the frames either side;
- the **convergence dose**: the lowest frame dose from which the area stays inside the
  converged band, i.e. within ``band_tolerance`` of the converged area (the median of
  the highest-dose frames' areas). The area curve is first median-filtered over three
  neighbouring doses, so one outlier frame (a flicker, a mis-segmented frame) neither
  delays the convergence nor fakes an early one. The band drawn in the figure is the
  min..max of the filtered area from the convergence dose on, as in the paper's Figs. 2-4.

Pixel-wise F1 equals Dice for binary masks; both are reported because papers use both names.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from dosewise.errors import InvalidParameterError
from dosewise.metrics import dice, iou, precision, recall
from dosewise.io import atomic_write

DEFAULT_BAND_TOLERANCE = 0.1
CONVERGED_TOP_FRAMES = 3  # highest-dose frames whose median area is the converged area


@dataclass(frozen=True)
class FrameScore:
    """One frame of a sweep: its dose, segmented area and (with a true mask) overlap scores."""

    frame: int
    dose_e_per_A2: float
    area_px: int
    area_fraction: float
    area_filtered_px: float
    true_area_px: int | None = None
    f1: float | None = None
    dice: float | None = None
    iou: float | None = None
    precision: float | None = None
    recall: float | None = None


@dataclass
class DoseSweep:
    """Area and scores against dose for one model on one series, and the doses found from them."""

    name: str
    frames: list[FrameScore]
    target_area_px: float
    target_source: str  # "true mask" or "last frame"
    converged_area_px: float
    band_tolerance: float
    dose_50_e_per_A2: float | None
    convergence_dose_e_per_A2: float | None
    band_px: tuple[float, float] | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def doses_e_per_A2(self) -> np.ndarray:
        return np.array([f.dose_e_per_A2 for f in self.frames])

    @property
    def areas_px(self) -> np.ndarray:
        return np.array([f.area_px for f in self.frames], dtype=np.float64)

    @property
    def has_truth(self) -> bool:
        return self.frames[0].f1 is not None

    def summary(self) -> dict[str, Any]:
        """The numbers a table of models needs (JSON-ready)."""
        out: dict[str, Any] = {
            "name": self.name,
            "frames": len(self.frames),
            "dose_min_e_per_A2": float(self.doses_e_per_A2.min()),
            "dose_max_e_per_A2": float(self.doses_e_per_A2.max()),
            "target_area_px": self.target_area_px,
            "target_source": self.target_source,
            "converged_area_px": self.converged_area_px,
            "band_tolerance": self.band_tolerance,
            "dose_50_e_per_A2": self.dose_50_e_per_A2,
            "convergence_dose_e_per_A2": self.convergence_dose_e_per_A2,
            "band_px": list(self.band_px) if self.band_px else None,
            **self.metadata,
        }
        if self.has_truth:
            f1 = np.array([f.f1 for f in self.frames], dtype=np.float64)
            out["mean_f1"] = float(f1.mean())
            out["final_f1"] = float(f1[-1])
        return out

    def write_csv(self, path: Path) -> Path:
        rows = [asdict(f) for f in self.frames]
        with atomic_write(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return path


def _check_series(doses_e_per_A2: np.ndarray, n_masks: int) -> np.ndarray:
    doses = np.asarray(doses_e_per_A2, dtype=np.float64).ravel()
    if doses.size != n_masks:
        raise InvalidParameterError(f"{doses.size} doses for {n_masks} frames: give one dose per frame")
    if doses.size < 2:
        raise InvalidParameterError("a dose sweep needs at least 2 frames")
    if not np.all(np.isfinite(doses)) or np.any(doses <= 0):
        raise InvalidParameterError("frame doses must be finite and > 0 e-/Å²")
    return doses


def crossing_dose(doses_e_per_A2: np.ndarray, values: np.ndarray, level: float) -> float | None:
    """Lowest dose at which ``values`` (in dose order) first reach ``level``, interpolated in log dose.

    ``None`` when the level is never reached; the first dose when it is reached at once.
    """
    doses, values = np.asarray(doses_e_per_A2, float), np.asarray(values, float)
    above = np.nonzero(values >= level)[0]
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return float(doses[0])
    v0, v1 = values[i - 1], values[i]
    t = (level - v0) / (v1 - v0) if v1 != v0 else 1.0
    log_dose = np.log(doses[i - 1]) + t * (np.log(doses[i]) - np.log(doses[i - 1]))
    return float(np.exp(log_dose))


def convergence_index(filtered_areas: np.ndarray, converged_area: float, tolerance: float) -> int | None:
    """First index from which every (filtered) area lies within ``tolerance`` of ``converged_area``."""
    if converged_area <= 0:
        return None
    inside = np.abs(filtered_areas - converged_area) <= tolerance * converged_area
    if not inside[-1]:
        return None
    outside = np.nonzero(~inside)[0]
    return 0 if outside.size == 0 else int(outside[-1]) + 1


def robust_area(areas_px: np.ndarray) -> np.ndarray:
    """Median over three neighbouring doses (edges mirrored): one outlier frame is removed."""
    areas = np.asarray(areas_px, dtype=np.float64)
    return areas if areas.size < 3 else median_filter(areas, size=3, mode="mirror")


def dose_sweep(
    doses_e_per_A2: np.ndarray | list[float],
    predicted_masks: list[np.ndarray] | np.ndarray,
    true_masks: list[np.ndarray] | np.ndarray | None = None,
    *,
    name: str = "model",
    band_tolerance: float = DEFAULT_BAND_TOLERANCE,
    metadata: dict[str, Any] | None = None,
) -> DoseSweep:
    """Score one model's masks over a dose series (frames in any order; sorted by dose here)."""
    if not 0 < band_tolerance < 1:
        raise InvalidParameterError(f"band tolerance must be in (0, 1), got {band_tolerance}")
    masks = [np.asarray(m, dtype=bool) for m in predicted_masks]
    doses = _check_series(np.asarray(doses_e_per_A2), len(masks))
    truths = None if true_masks is None else [np.asarray(m, dtype=bool) for m in true_masks]
    if truths is not None and len(truths) != len(masks):
        raise InvalidParameterError(f"{len(truths)} true masks for {len(masks)} frames")
    order = np.argsort(doses, kind="stable")
    areas = np.array([int(masks[i].sum()) for i in order], dtype=np.float64)
    filtered = robust_area(areas)
    if truths is not None:
        target = float(np.mean([truths[i].sum() for i in order]))
        target_source = "true mask"
    else:
        target = float(areas[-1])
        target_source = "last frame"
    top = min(CONVERGED_TOP_FRAMES, len(areas))
    converged = float(np.median(areas[-top:]))
    index = convergence_index(filtered, converged, band_tolerance)
    frames = []
    for rank, i in enumerate(order):
        score: dict[str, Any] = {}
        if truths is not None:
            pred, true = masks[i], truths[i]
            f1 = dice(pred, true)
            score = {
                "true_area_px": int(true.sum()),
                "f1": f1,
                "dice": f1,
                "iou": iou(pred, true),
                "precision": precision(pred, true),
                "recall": recall(pred, true),
            }
        frames.append(FrameScore(frame=int(i), dose_e_per_A2=float(doses[i]), area_px=int(areas[rank]),
                                 area_fraction=float(areas[rank] / target) if target > 0 else 0.0,
                                 area_filtered_px=float(filtered[rank]), **score))
    sorted_doses = doses[order]
    dose_50 = crossing_dose(sorted_doses, filtered, 0.5 * target) if target > 0 else None
    band = None if index is None else (float(filtered[index:].min()), float(filtered[index:].max()))
    return DoseSweep(
        name=name, frames=frames, target_area_px=target, target_source=target_source,
        converged_area_px=converged, band_tolerance=band_tolerance, dose_50_e_per_A2=dose_50,
        convergence_dose_e_per_A2=None if index is None else float(sorted_doses[index]),
        band_px=band, metadata=dict(metadata or {}),
    )
