"""Torch versions of the detector model, for noise drawn inside data loaders.

Same physics and conventions as :mod:`dosewise.physics.noise` and
:mod:`dosewise.physics.mtf` (the MTF multiplies the Fourier amplitude), but on
tensors of shape (H, W) or (N, C, H, W) on any device, seeded with a
``torch.Generator`` on that device. Kept out of ``dosewise.physics``'s
namespace so importing the numpy API does not import torch.
"""

from __future__ import annotations

import math

import torch

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics.mtf import MTFParams
from dosewise.physics.noise import check_n0

Dose = float | torch.Tensor


def _check_dose(dose_e_per_px: Dose) -> Dose:
    """A float dose or a tensor of per-image doses broadcastable to the batch, all finite > 0."""
    if isinstance(dose_e_per_px, torch.Tensor):
        if not bool(torch.all(torch.isfinite(dose_e_per_px) & (dose_e_per_px > 0))):
            raise InvalidParameterError("every dose must be a finite number > 0 e-/px")
        return dose_e_per_px
    dose = float(dose_e_per_px)
    if not math.isfinite(dose) or dose <= 0:
        raise InvalidParameterError(f"dose must be a finite number > 0 e-/px, got {dose_e_per_px}")
    return dose


def _images(intensity: torch.Tensor) -> torch.Tensor:
    if intensity.ndim < 2:
        raise InvalidImageError(
            f"expected an (H, W) or (N, C, H, W) tensor, got shape {tuple(intensity.shape)}"
        )
    if not bool(torch.all(torch.isfinite(intensity))):
        raise InvalidImageError("intensity tensor contains NaN or inf")
    return intensity


def shot_noise(
    intensity: torch.Tensor, dose_e_per_px: Dose, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Counts ~ Poisson(dose_e_per_px * I); negative ``I`` counts as 0.

    ``dose_e_per_px`` may be a tensor such as shape (N, 1, 1, 1) for one dose per image.
    """
    dose = _check_dose(dose_e_per_px)
    rate = _images(intensity).clamp(min=0) * dose
    return torch.poisson(rate, generator=generator)


def mtf_transfer(
    params: MTFParams, shape: tuple[int, int], device: torch.device | str
) -> torch.Tensor:
    """MTF(q~) on the ``rfft2`` half-plane of an (H, W) image (float32, on ``device``)."""
    h, w = shape
    fy = torch.fft.fftfreq(h, dtype=torch.float64, device=device)[:, None]
    fx = torch.fft.rfftfreq(w, dtype=torch.float64, device=device)[None, :]
    q = 2.0 * torch.sqrt(fy**2 + fx**2)
    transfer = (1.0 - params.C) / (1.0 + (q / params.c0) ** params.c3) + params.C
    return transfer.to(torch.float32)


def apply_mtf(image: torch.Tensor, params: MTFParams) -> torch.Tensor:
    """Multiply the Fourier transform of the last two axes by MTF(q~); keeps the mean."""
    images = _images(image)
    shape = tuple(images.shape[-2:])
    transfer = mtf_transfer(params, shape, images.device)
    return torch.fft.irfft2(torch.fft.rfft2(images.to(torch.float32)) * transfer, s=shape)


def detector_image(
    intensity: torch.Tensor,
    dose_e_per_px: Dose,
    *,
    mtf: MTFParams | None = None,
    n0_e_per_px: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Larsen et al. 2023, eq. 3 on tensors: MTF[Poisson(N_D * I)] + Poisson(N0), in electron
    counts."""
    n0 = check_n0(n0_e_per_px)
    counts = shot_noise(intensity.to(torch.float32), dose_e_per_px, generator)
    if mtf is not None:
        counts = apply_mtf(counts, mtf)
    if n0 > 0:
        counts = counts + torch.poisson(torch.full_like(counts, n0), generator=generator)
    return counts
