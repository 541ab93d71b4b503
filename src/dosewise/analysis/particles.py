"""Per-particle measurements from a binary mask, and their CSV table.

Particles are 8-connected regions (touching at a corner counts as touching), the
usual convention for blobs in micrographs, or the regions of a label image:
:func:`split_touching` cuts touching particles apart by a watershed on the distance
transform (each particle's centre is a maximum of the distance to the background; a neck
between two particles is a saddle of it). Sizes are given in pixels always and
in nm when the pixel size is known; particles cut by the image edge are flagged,
because their measured size is a lower bound and size statistics should drop them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.measure import label, regionprops
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.io import atomic_write
from dosewise.units import A_to_nm, check_pixel_size_A

CSV_COLUMNS: tuple[str, ...] = (
    "label",
    "area_px",
    "area_nm2",
    "equivalent_diameter_px",
    "equivalent_diameter_nm",
    "centroid_x_px",
    "centroid_y_px",
    "bbox_y0",
    "bbox_x0",
    "bbox_y1",
    "bbox_x1",
    "touches_border",
)


@dataclass(frozen=True)
class Particle:
    """One connected region of the mask.

    ``bbox`` is ``(y0, x0, y1, x1)`` with exclusive ends, so ``mask[y0:y1, x0:x1]``
    holds the particle. The equivalent diameter is that of the disc of equal area.
    ``*_nm*`` fields are ``None`` when the image has no pixel size.
    """

    label: int
    area_px: int
    area_nm2: float | None
    equivalent_diameter_px: float
    equivalent_diameter_nm: float | None
    centroid_x_px: float
    centroid_y_px: float
    bbox: tuple[int, int, int, int]
    touches_border: bool


DEFAULT_NECK_DEPTH_PX = 2.0
"""How much shallower than both particles' centres a neck must be (in px of distance to the
background) to split them: shallower dents are edge noise of one particle."""


def split_touching(mask: np.ndarray, neck_depth_px: float = DEFAULT_NECK_DEPTH_PX) -> np.ndarray:
    """Instance labels (int32, 0 = background) of ``mask`` with touching particles apart."""
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise InvalidImageError(f"particle mask must be 2-D (H, W), got shape {mask.shape}")
    if not neck_depth_px > 0:
        raise InvalidParameterError(f"neck depth must be > 0 px, got {neck_depth_px}")
    # holes inside a particle (noise in its mask) are not background: they would split it
    distance = ndimage.distance_transform_edt(ndimage.binary_fill_holes(mask))
    markers = label(h_maxima(distance, neck_depth_px), connectivity=2)
    labels = watershed(-distance, markers, mask=mask)
    # a region with no marker of its own (thinner than the depth) stays one particle
    orphans = label(mask & (labels == 0), connectivity=2)
    labels[orphans > 0] = orphans[orphans > 0] + labels.max()
    return labels.astype(np.int32)


def measure_particles(mask: np.ndarray, pixel_size_A: float | None = None, *,
                      labels: np.ndarray | None = None) -> list[Particle]:
    """Measure each particle of ``mask`` (its 8-connected regions, or the regions of
    ``labels`` such as :func:`split_touching` gives), in label order."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise InvalidImageError(f"particle mask must be 2-D (H, W), got shape {mask.shape}")
    if labels is not None and np.shape(labels) != mask.shape:
        raise InvalidImageError(f"labels of shape {np.shape(labels)} do not match the mask's {mask.shape}")
    if pixel_size_A is not None:
        check_pixel_size_A(pixel_size_A)
    nm_per_px = None if pixel_size_A is None else A_to_nm(pixel_size_A)
    height, width = mask.shape
    particles = []
    regions = label(mask.astype(bool), connectivity=2) if labels is None else np.where(mask, labels, 0)
    for region in regionprops(np.asarray(regions, dtype=np.int32)):
        area_px = int(region.area)
        diameter_px = math.sqrt(4.0 * area_px / math.pi)
        y0, x0, y1, x1 = (int(v) for v in region.bbox)
        centroid_y, centroid_x = region.centroid
        particles.append(
            Particle(
                label=int(region.label),
                area_px=area_px,
                area_nm2=None if nm_per_px is None else area_px * nm_per_px**2,
                equivalent_diameter_px=diameter_px,
                equivalent_diameter_nm=None if nm_per_px is None else diameter_px * nm_per_px,
                centroid_x_px=float(centroid_x),
                centroid_y_px=float(centroid_y),
                bbox=(y0, x0, y1, x1),
                touches_border=y0 == 0 or x0 == 0 or y1 == height or x1 == width,
            )
        )
    return particles


def write_particles_csv(
    path: str | Path, particles: Sequence[Particle], *, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write one row per particle (:data:`CSV_COLUMNS`) atomically; unknown nm sizes stay empty."""
    with atomic_write(path, inputs=inputs) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for particle in particles:
                writer.writerow(_csv_row(particle))
    return Path(path)


def _csv_row(particle: Particle) -> list[str]:
    fields = asdict(particle)
    y0, x0, y1, x1 = fields.pop("bbox")
    fields.update(bbox_y0=y0, bbox_x0=x0, bbox_y1=y1, bbox_x1=x1)
    return [_format(fields[column]) for column in CSV_COLUMNS]


def _format(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
