"""Adaptive learning-rate clipping (ALRC; Ede & Beanland 2019, used by Ede 2020).

A few examples with huge losses (a blank crop, a detector glitch) can throw a
small-batch training run off course. ALRC tracks the running mean mu1 and second
raw moment mu2 of the loss and scales any loss above ``mu1 + n * sigma`` down to
that threshold, keeping its gradient direction but capping its size. Applied per
example, so one outlier in a batch does not clip the others.
"""

from __future__ import annotations

import torch
from torch import nn


class ALRC(nn.Module):
    """Per-example loss clipping with exponential moving moments (buffers: saved in checkpoints).

    Ede 2020's constants are the defaults: mu1 = 25, mu2 = 30, beta1 = beta2 = 0.999, n = 3.
    The paper's initial mu2 is below mu1**2, so the initial spread is taken as 0 (threshold
    mu1) until the moments have adapted to the actual losses.
    """

    def __init__(self, mu1: float = 25.0, mu2: float = 30.0, beta1: float = 0.999,
                 beta2: float = 0.999, n_sigma: float = 3.0) -> None:
        super().__init__()
        self.beta1, self.beta2, self.n_sigma = beta1, beta2, n_sigma
        self.register_buffer("mu1", torch.tensor(float(mu1), dtype=torch.float64))
        self.register_buffer("mu2", torch.tensor(float(mu2), dtype=torch.float64))

    def threshold(self) -> torch.Tensor:
        sigma = torch.sqrt(torch.clamp(self.mu2 - self.mu1**2, min=0.0))
        return self.mu1 + self.n_sigma * sigma

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        """Clipped per-example losses (same shape); in training, update the moments with them."""
        threshold = self.threshold().to(losses.dtype)
        scale = torch.where(losses.detach() > threshold, threshold / losses.detach().clamp(min=1e-12),
                            torch.ones_like(losses))
        clipped = losses * scale
        if self.training:
            values = clipped.detach().to(torch.float64)
            for value in values.flatten():  # one update per example, as with Ede 2020's batch of 1
                self.mu1.mul_(self.beta1).add_((1 - self.beta1) * value)
                self.mu2.mul_(self.beta2).add_((1 - self.beta2) * value**2)
        return clipped
