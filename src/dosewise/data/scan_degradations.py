"""What real STEM scans have and clean simulations lack, drawn at random per training crop.

A supersampler trained on ideal simulated scans learns the simulator; the files a
microscopist opens were recorded by a real scan generator and detector and often
resampled by the software that exported them. Each degradation acts on the full scan
*before* it is sub-sampled, so input probes and target share it, exactly as a partial scan
of a real microscope shares the full scan's artefacts:

- ``probe_blur_sigma_px``: a Gaussian blur of the scan (a larger or defocused probe,
  vibration, a slow detector: real atomic columns are often much broader than an ideal
  probe makes them);
- ``zoom``: the image resampled by a factor in ``zoom_range`` with OpenCV's bicubic or
  area kernel (authors' exported files, display-resolution copies);
- ``row_jitter_px``: each scan line shifted sideways by a random sub-pixel amount
  (line-synchronisation jitter), and ``row_offset``: a random intensity offset per line
  (flyback / DC drift);
- ``shear``: a slow linear drift of the specimen during the frame (lines shifted in
  proportion to their index);
- ``invert_probability``: the contrast inverted (1 - x), as bright-field and annular
  bright-field detectors record what an annular dark-field simulation shows bright;
- ``dose_counts_per_probe``: Poisson shot noise at a dose drawn log-uniformly (counts per
  probe at the brightest pixel) on the scan plus a background of ``background`` (fraction
  of its range: a detector never reads zero counts), and Gaussian readout of
  ``readout_sigma`` (fraction of the peak).

Every draw comes from the item's own generator, so a crop is reproducible from
``(seed, epoch, index)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Range = tuple[float, float]


class ScanDegradations(BaseModel):
    """Probabilities and ranges of each degradation; ``enabled: false`` turns all off."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    invert_probability: float = Field(default=0.0, ge=0, le=1)
    probe_blur_probability: float = Field(default=0.0, ge=0, le=1)
    probe_blur_sigma_px: Range = (0.5, 3.0)
    zoom_probability: float = Field(default=0.4, ge=0, le=1)
    zoom_range: Range = (0.6, 2.0)
    jitter_probability: float = Field(default=0.5, ge=0, le=1)
    row_jitter_px: Range = (0.0, 0.6)
    row_offset: Range = (0.0, 0.04)
    shear_probability: float = Field(default=0.3, ge=0, le=1)
    shear: Range = (-0.03, 0.03)
    noise_probability: float = Field(default=0.6, ge=0, le=1)
    dose_counts_per_probe: Range = (3.0, 3000.0)
    readout_sigma: Range = (0.0, 0.03)
    background: Range = (0.02, 0.3)

    @model_validator(mode="after")
    def _ranges(self) -> ScanDegradations:
        for name in ("probe_blur_sigma_px", "zoom_range", "row_jitter_px", "row_offset", "dose_counts_per_probe", "readout_sigma",
                     "background"):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
                raise ValueError(f"{name} must be [low, high] with 0 <= low <= high, got ({low}, {high})")
        if self.zoom_range[0] <= 0 or self.dose_counts_per_probe[0] <= 0:
            raise ValueError("zoom_range and dose_counts_per_probe must be > 0")
        return self

    def crop_window_px(self, crop_px: int, zoom: float) -> int:
        """Pixels to cut from the source so that zooming by ``zoom`` gives ``crop_px``."""
        return max(2, int(math.ceil(crop_px / zoom)))


def draw_zoom(config: ScanDegradations, rng: np.random.Generator) -> float:
    """1.0, or a factor drawn log-uniformly from ``zoom_range`` with ``zoom_probability``."""
    if not config.enabled or rng.random() >= config.zoom_probability:
        return 1.0
    low, high = np.log(config.zoom_range)
    return float(np.exp(rng.uniform(low, high)))


def zoom_to(image: np.ndarray, size_px: int, rng: np.random.Generator) -> np.ndarray:
    """``image`` resampled to ``size_px`` square by OpenCV's bicubic or area kernel (50/50)."""
    method = cv2.INTER_CUBIC if rng.random() < 0.5 else cv2.INTER_AREA
    return cv2.resize(np.asarray(image, np.float32), (size_px, size_px), interpolation=method)


def degrade_scan(image01: np.ndarray, config: ScanDegradations, rng: np.random.Generator) -> np.ndarray:
    """Probe blur, inverted contrast, scan-line jitter and offsets, drift shear and detector
    noise on a [0, 1] scan (H, W). Options at probability 0 draw nothing, so a recipe without
    them sees the same crops as before they existed."""
    out = np.asarray(image01, np.float64)
    if not config.enabled:
        return out.astype(np.float32)
    height, width = out.shape
    if config.probe_blur_probability and rng.random() < config.probe_blur_probability:
        sigma_px = rng.uniform(*config.probe_blur_sigma_px)
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma_px, borderType=cv2.BORDER_REFLECT)
    if config.invert_probability and rng.random() < config.invert_probability:
        out = 1.0 - out
    if rng.random() < config.jitter_probability:
        shifts = rng.normal(0.0, rng.uniform(*config.row_jitter_px), size=height)
        out = _shift_rows(out, shifts)
        out = out + rng.normal(0.0, rng.uniform(*config.row_offset), size=(height, 1))
    if rng.random() < config.shear_probability:
        out = _shift_rows(out, rng.uniform(*config.shear) * (np.arange(height) - height / 2))
    if rng.random() < config.noise_probability:
        low, high = np.log(config.dose_counts_per_probe)
        dose = float(np.exp(rng.uniform(low, high)))
        span = float(out.max() - out.min()) or 1.0
        signal = np.clip(out - out.min(), 0.0, None) + rng.uniform(*config.background) * span
        peak = float(signal.max())
        out = rng.poisson(signal / peak * dose) / dose * peak
        out = out + rng.normal(0.0, rng.uniform(*config.readout_sigma) * peak, size=out.shape)
    return out.astype(np.float32)


def _shift_rows(image: np.ndarray, shifts_px: np.ndarray) -> np.ndarray:
    """Each row moved right by its (sub-pixel) shift, linear interpolation, edges repeated."""
    columns = np.arange(image.shape[1], dtype=np.float64)
    return np.stack([np.interp(columns - shift, columns, row) for row, shift in zip(image, shifts_px)])
