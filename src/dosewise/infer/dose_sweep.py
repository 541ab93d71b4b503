"""Segment every frame of a dose series with one model and score it (``dosewise dose-sweep``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dosewise.analysis.dose_series import DoseSeries
from dosewise.analysis.dose_sweep import DEFAULT_BAND_TOLERANCE, DoseSweep, dose_sweep
from dosewise.infer.segmentation import SegmentationModel, segment


@dataclass
class ModelSweep:
    """A model's sweep and the masks it produced, frame order as in the series."""

    sweep: DoseSweep
    masks: list[np.ndarray]


def sweep_model(
    model: SegmentationModel,
    series: DoseSeries,
    *,
    name: str,
    threshold: float | None = None,
    band_tolerance: float = DEFAULT_BAND_TOLERANCE,
    device: str | torch.device = "auto",
) -> ModelSweep:
    """Segment each frame (tiled, as ``dosewise segment`` does) and score area / F1 against dose."""
    results = [segment(frame, model, threshold=threshold, device=device) for frame in series.frames]
    masks = [r.mask for r in results]
    sweep = dose_sweep(series.doses_e_per_A2, masks, series.true_masks, name=name,
                       band_tolerance=band_tolerance,
                       metadata={"threshold": results[0].threshold, "series": str(series.source)})
    return ModelSweep(sweep=sweep, masks=masks)
