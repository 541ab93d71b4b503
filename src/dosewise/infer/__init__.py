"""Applying trained networks to micrographs of any size.

``TiledPredictor`` runs a fully convolutional network tile by tile (exactly equal
to a whole-image run when ``overlap_px >= required_overlap_px(rf)``);
``segment`` turns a segmentation model's output into a probability map, a mask
and measured particles; ``write_particles_csv`` and ``overlay_png`` write them
out for a microscopist.
"""

from dosewise.infer.metrics import dice, iou
from dosewise.infer.overlay import overlay_png
from dosewise.infer.particles import CSV_COLUMNS, Particle, measure_particles, write_particles_csv
from dosewise.infer.predictor import PRECISIONS, TiledPredictor
from dosewise.infer.segmentation import SegmentationModel, SegmentationResult, segment
from dosewise.infer.tiling import required_overlap_px

__all__ = [
    "CSV_COLUMNS",
    "PRECISIONS",
    "Particle",
    "SegmentationModel",
    "SegmentationResult",
    "TiledPredictor",
    "dice",
    "iou",
    "measure_particles",
    "overlay_png",
    "required_overlap_px",
    "segment",
    "write_particles_csv",
]
