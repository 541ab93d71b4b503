"""Input normalisation, one definition for training and inference.

Raw counts vary by orders of magnitude with dose, so the network sees each image
standardised; the chosen :class:`Normalisation` is stored in the checkpoint so
inference applies exactly what training applied.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field


OUTLIER_PERCENTILES = (1.0, 99.0)
OUTLIER_REACH = 2.0
OUTLIER_SAMPLE = 2**14
MAX_NORMALISED = 1e3


def inliers(values: np.ndarray, *, image_axes: bool = False) -> np.ndarray:
    """``values`` as float64 with the outliers set to NaN: values farther than ``OUTLIER_REACH``
    times the central ``OUTLIER_PERCENTILES`` range beyond it (for Gaussian noise ±11.6 σ).
    Spikes (up to 1 % of the values) lose all pull on statistics taken with NaN-aware
    functions, while ordinary data never reach that far and keep exactly their statistics.
    ``image_axes``: per image over the last two axes, the range read off a grid of at most
    ``OUTLIER_SAMPLE`` pixels (a live 512² frame pays a fraction of a millisecond)."""
    x = np.asarray(values, dtype=np.float64)
    if image_axes:
        step = max(1, int(np.sqrt(x.shape[-2] * x.shape[-1] / OUTLIER_SAMPLE)))
        low, high = np.percentile(x[..., ::step, ::step], OUTLIER_PERCENTILES, axis=(-2, -1), keepdims=True)
    else:
        low, high = np.percentile(x, OUTLIER_PERCENTILES)
    reach = OUTLIER_REACH * (high - low)
    return np.where((x >= low - reach) & (x <= high + reach), x, np.nan)


class Normalisation(BaseModel):
    """How an image is scaled before the network sees it (per image, over the last two axes).

    ``zscore``: ``(x - mean(x)) / max(std(x), std_floor)`` (default);
    ``fixed``: ``(x - mean) / std`` with the stored ``mean`` and ``std``;
    ``minmax``: ``(x - min(x)) / max(max(x) - min(x), std_floor)``.

    The statistics are float64 and taken over the image clipped far outside its central range
    (:func:`inliers`): a few hot pixels or 1e30 spikes (up to 1 % of the pixels) no
    longer set the scale, while an ordinary frame, whose values never reach that far, keeps
    exactly its statistics. Normalised values are clipped to
    ``±MAX_NORMALISED`` so that any finite frame stays finite in the network.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["zscore", "fixed", "minmax"] = "zscore"
    mean: float = 0.0
    std: float = Field(default=1.0, gt=0)
    std_floor: float = Field(default=1e-6, gt=0)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The normalised image(s) as float32; works on (H, W) or (..., H, W)."""
        x = np.asarray(image, dtype=np.float64)
        offset, scale = self.affine(x)
        return np.clip((x - offset) / scale, -MAX_NORMALISED, MAX_NORMALISED).astype(np.float32)

    def affine(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(offset, scale)`` with ``apply(x) == (x - offset) / scale``, shaped to broadcast
        over the last two axes. Restoration targets in the input's units are mapped
        with the input's affine, and outputs mapped back with it (``target_scale="input"``)."""
        x = np.asarray(image, dtype=np.float64)
        if self.kind == "fixed":
            shape = (1,) * x.ndim
            return np.full(shape, self.mean), np.full(shape, self.std)
        kept = inliers(x, image_axes=True)
        # NaN-aware statistics only when there is an outlier: they cost 3x on a live frame
        mean, std, lowest, highest = ((np.nanmean, np.nanstd, np.nanmin, np.nanmax) if np.isnan(kept).any()
                                      else (np.mean, np.std, np.min, np.max))
        axes = {"axis": (-2, -1), "keepdims": True}
        if self.kind == "zscore":
            return mean(kept, **axes), np.maximum(std(kept, **axes), self.std_floor)
        low = lowest(kept, **axes)
        return low, np.maximum(highest(kept, **axes) - low, self.std_floor)

    def apply_torch(self, images: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`apply` on a tensor (..., H, W), on its device, in float32."""
        x = images.to(torch.float64)
        if self.kind == "fixed":
            out = (x - self.mean) / self.std
        else:  # the same statistics as :meth:`affine`, on the tensor's device
            step = max(1, int((x.shape[-2] * x.shape[-1] / OUTLIER_SAMPLE) ** 0.5))
            flat = x[..., ::step, ::step].flatten(-2)
            low, high = (torch.quantile(flat, q / 100.0, dim=-1, keepdim=True)[..., None]
                         for q in OUTLIER_PERCENTILES)
            reach = OUTLIER_REACH * (high - low)
            keep = (x >= low - reach) & (x <= high + reach)
            if self.kind == "zscore":
                count = keep.sum(dim=(-2, -1), keepdim=True)
                mean = torch.where(keep, x, 0).sum(dim=(-2, -1), keepdim=True) / count
                var = torch.where(keep, (x - mean) ** 2, 0).sum(dim=(-2, -1), keepdim=True) / count
                out = (x - mean) / var.sqrt().clamp(min=self.std_floor)
            else:
                lowest = torch.where(keep, x, torch.inf).amin(dim=(-2, -1), keepdim=True)
                highest = torch.where(keep, x, -torch.inf).amax(dim=(-2, -1), keepdim=True)
                out = (x - lowest) / (highest - lowest).clamp(min=self.std_floor)
        return out.clamp(-MAX_NORMALISED, MAX_NORMALISED).to(torch.float32)
