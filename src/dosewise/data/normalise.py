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


class Normalisation(BaseModel):
    """How an image is scaled before the network sees it (per image, over the last two axes).

    ``zscore``: ``(x - mean(x)) / max(std(x), std_floor)`` (default);
    ``fixed``: ``(x - mean) / std`` with the stored ``mean`` and ``std``;
    ``minmax``: ``(x - min(x)) / max(max(x) - min(x), std_floor)``.
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
        return ((x - offset) / scale).astype(np.float32)

    def affine(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(offset, scale)`` with ``apply(x) == (x - offset) / scale``, shaped to broadcast
        over the last two axes. Restoration targets in the input's units are mapped
        with the input's affine, and outputs mapped back with it (``target_scale="input"``)."""
        x = np.asarray(image, dtype=np.float64)
        if self.kind == "fixed":
            shape = (1,) * x.ndim
            return np.full(shape, self.mean), np.full(shape, self.std)
        if self.kind == "zscore":
            mean = x.mean(axis=(-2, -1), keepdims=True)
            return mean, np.maximum(x.std(axis=(-2, -1), keepdims=True), self.std_floor)
        low = x.min(axis=(-2, -1), keepdims=True)
        high = x.max(axis=(-2, -1), keepdims=True)
        return low, np.maximum(high - low, self.std_floor)

    def apply_torch(self, images: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`apply` on a tensor (..., H, W), on its device, in float32."""
        x = images.to(torch.float32)
        if self.kind == "fixed":
            return (x - self.mean) / self.std
        if self.kind == "zscore":
            mean = x.mean(dim=(-2, -1), keepdim=True)
            std = x.std(dim=(-2, -1), keepdim=True, correction=0)
            return (x - mean) / std.clamp(min=self.std_floor)
        low = x.amin(dim=(-2, -1), keepdim=True)
        high = x.amax(dim=(-2, -1), keepdim=True)
        return (x - low) / (high - low).clamp(min=self.std_floor)
