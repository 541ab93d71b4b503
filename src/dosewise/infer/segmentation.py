"""Segment particles in one micrograph with a trained model and measure them.

The network gives logits; channel 0's sigmoid is the particle probability and
the mask is ``probability >= threshold``. The threshold is the caller's, else the
one the model was trained/validated with (Larsen et al. 2023 uses 0.9), else 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from dosewise.checkpoint import packaged_checkpoint
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.analysis.particles import Particle, measure_particles
from dosewise.analysis.particles import split_touching as split_particles
from dosewise.infer.predictor import TiledPredictor
from dosewise.io import validate_image

DEFAULT_THRESHOLD = 0.5

DEFAULT_SEGMENTER = "segment-particles.ckpt"
"""The shipped nanoparticle segmenter in ``dosewise/weights/`` (model card: segment-particles.md)."""


def default_segmenter_path() -> Path:
    """The shipped particle segmentation checkpoint; a one-line error when none is installed."""
    return packaged_checkpoint(DEFAULT_SEGMENTER, "particle segmentation")


class Normalisation(Protocol):
    def apply(self, image: np.ndarray) -> np.ndarray: ...


class SegmentationModel(Protocol):
    """What :func:`segment` needs from a loaded checkpoint (``LoadedModel`` fits)."""

    network: nn.Module
    normalisation: Normalisation
    threshold: float | None


@dataclass
class SegmentationResult:
    """Probability map, binary mask and the particles found in it, for one ``(H, W)`` image."""

    probability: np.ndarray
    mask: np.ndarray
    particles: list[Particle]
    threshold: float
    pixel_size_A: float | None
    labels: np.ndarray | None = None
    """Instance labels when touching particles were split (``split_touching=True``)."""


def segment(
    image: EMImage | np.ndarray,
    model: SegmentationModel,
    *,
    threshold: float | None = None,
    tile_px: int = 512,
    overlap_px: int = 64,
    batch_size: int = 4,
    device: str | torch.device = "auto",
    precision: str = "32",
    split_touching: bool = False,
) -> SegmentationResult:
    """Normalise ``image`` as the model was trained, predict tiled, threshold, measure;
    ``split_touching`` counts touching particles one by one (watershed on the distance transform).

    Pixel sizes (and so particle sizes in nm) come from an :class:`EMImage`;
    a bare array gives sizes in pixels only.
    """
    task = getattr(model, "task", "segment")
    if task != "segment":
        raise InvalidParameterError(f"model was trained for {task!r}, not segmentation")
    threshold = _pick_threshold(threshold, model.threshold)
    source = image.source if isinstance(image, EMImage) else None
    pixel_size_A = image.pixel_size_A if isinstance(image, EMImage) else None
    array = validate_image(image.data if isinstance(image, EMImage) else image, source)
    if array.ndim != 2:
        raise InvalidImageError(
            f"segment takes one (H, W) image, got a stack of shape {array.shape}; "
            "segment its frames one at a time",
            source,
        )
    normalised = np.asarray(model.normalisation.apply(array), dtype=np.float32)
    predictor = TiledPredictor(
        model.network,
        tile_px=tile_px,
        overlap_px=overlap_px,
        batch_size=batch_size,
        device=device,
        precision=precision,
    )
    probability = expit(predictor.predict(normalised)[0]).astype(np.float32)
    mask = probability >= threshold
    labels = split_particles(mask) if split_touching else None
    return SegmentationResult(
        probability=probability,
        mask=mask,
        particles=measure_particles(mask, pixel_size_A, labels=labels),
        threshold=threshold,
        pixel_size_A=pixel_size_A,
        labels=labels,
    )


def _pick_threshold(requested: float | None, model_threshold: float | None) -> float:
    for value in (requested, model_threshold):
        if value is not None:
            if not 0.0 < value < 1.0:
                raise InvalidParameterError(f"threshold must be between 0 and 1, got {value}")
            return float(value)
    return DEFAULT_THRESHOLD
