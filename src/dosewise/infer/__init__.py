"""Applying trained networks to micrographs of any size.

``TiledPredictor`` runs a fully convolutional network tile by tile (exactly equal
to a whole-image run when ``overlap_px >= required_overlap_px(rf)``);
``segment`` turns a segmentation model's output into a probability map, a mask
and measured particles (:mod:`dosewise.analysis.particles`); ``Denoiser`` and
``Supersampler`` restore frames and fill in partial scans.
"""

from dosewise.infer.predictor import PRECISIONS, TiledPredictor
from dosewise.infer.segmentation import SegmentationModel, SegmentationResult, segment
from dosewise.infer.tiling import required_overlap_px

__all__ = [
    "PRECISIONS",
    "SegmentationModel",
    "SegmentationResult",
    "TiledPredictor",
    "required_overlap_px",
    "segment",
]
