"""Applying trained networks to micrographs of any size.

``TiledPredictor`` runs a fully convolutional network tile by tile (exactly equal
to a whole-image run when ``overlap_px >= required_overlap_px(rf)``);
``segment`` turns a segmentation model's output into a probability map, a mask
and measured particles (:mod:`dosewise.analysis.particles`); ``Denoiser`` and
``Supersampler`` restore frames and fill in partial scans.

The names below are imported on first use, so that the torch-free choices of
:mod:`dosewise.infer.runtime` (``Backend``, ``Precision``) load without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dosewise.lazy import lazy_exports

if TYPE_CHECKING:
    from dosewise.infer.predictor import PRECISIONS, TiledPredictor
    from dosewise.infer.runtime import Backend, Precision
    from dosewise.infer.segmentation import SegmentationModel, SegmentationResult, segment
    from dosewise.infer.tiling import required_overlap_px

_HOMES = {
    "Backend": "runtime",
    "PRECISIONS": "predictor",
    "Precision": "runtime",
    "SegmentationModel": "segmentation",
    "SegmentationResult": "segmentation",
    "TiledPredictor": "predictor",
    "required_overlap_px": "tiling",
    "segment": "segmentation",
}

__all__ = [
    "PRECISIONS",
    "Backend",
    "Precision",
    "SegmentationModel",
    "SegmentationResult",
    "TiledPredictor",
    "required_overlap_px",
    "segment",
]


__getattr__ = lazy_exports(__name__, _HOMES)
