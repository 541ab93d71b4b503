"""Generators that fill in a partial STEM scan (Ede 2020, DLSS-STEM).

All take ``(N, 2, H, W)``: channel 0 the scan with zeros where no probe landed,
channel 1 the sampling mask (1 where it did), and return ``(N, 1, H, W)`` in which
every sampled pixel is the measured value, exactly: a network must never alter what
the microscope measured.

``TwoStageGenerator`` (the unified generator for any coverage, Ede 2020, Fig. 11):
an inner generator sees the scan at a quarter of the resolution and builds
large-scale features; an outer generator refines them at half and full resolution.
An auxiliary *trainer* head turns the inner features into a half-size image so the
inner generator gets a direct, short gradient path (Ede 2020, eq. 7); it is used in
training only. Where Ede 2020 feeds a nearest-neighbour infilling, this generator
computes a normalised-convolution interpolation from the mask (works for any mask,
regular lattice or not, and any coverage) and predicts a correction to it from a
zero-initialised head, so an untrained network starts at a smooth interpolation
instead of noise; this converges much faster on a CPU budget.

``OneStageGenerator`` (the single-coverage baseline, Ede 2020, Fig. 9): convolutions
on the small image of kept probe positions, then a sub-pixel (pixel-shuffle)
upsampling by the scan step. It needs a regular lattice of the step it was built for.

``ResidualUNetGenerator`` (dosewise's, for CPU budgets): a correction to an *exact*
classical fill — bilinear interpolation on a regular lattice, normalised convolution on
any other mask — from a fast pixel-unshuffle U-Net with a zero-initialised head. The
untrained generator reproduces bilinear to float precision, so training can only move
away from the baseline where the data say so.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from dosewise.errors import InvalidParameterError
from dosewise.models.config import ArchitectureOptions, ModelConfig, parse_options
from dosewise.models.fast_unet import FastUNet, FastUNetOptions
from dosewise.models.padding import crop_to, pad_to_multiple

TWO_STAGE = "dlss-two-stage"
ONE_STAGE = "dlss-one-stage"
RESIDUAL_UNET = "dlss-residual-unet"


class TwoStageOptions(ArchitectureOptions):
    width: int = Field(default=48, ge=4)
    inner_width: int = Field(default=64, ge=4)
    inner_blocks: int = Field(default=4, ge=1)
    outer_blocks: int = Field(default=3, ge=1)


class OneStageOptions(ArchitectureOptions):
    step: int = Field(ge=2, description="the scan step it is built for (coverage 1/step²)")
    width: int = Field(default=48, ge=4)
    blocks: int = Field(default=7, ge=1)


class ResidualUNetOptions(ArchitectureOptions):
    width: int = Field(default=24, ge=4)
    levels: int = Field(default=3, ge=1, le=5)
    convs_per_level: int = Field(default=2, ge=1)


GENERATOR_OPTIONS: dict[str, type[ArchitectureOptions]] = {TWO_STAGE: TwoStageOptions,
                                                           ONE_STAGE: OneStageOptions,
                                                           RESIDUAL_UNET: ResidualUNetOptions}
"""Partial-scan generators by name. They are described by the same :class:`ModelConfig` as
every network (name + options), but take a scan and its mask (2 channels), so they are
not in the image-to-image registry."""


def supersampler_options(config: ModelConfig) -> TwoStageOptions | OneStageOptions | ResidualUNetOptions:
    """The validated options of a generator config; a one-line error for anything else."""
    if config.name not in GENERATOR_OPTIONS:
        raise InvalidParameterError(f"unknown supersampler {config.name!r}; choose one of: "
                                    f"{', '.join(GENERATOR_OPTIONS)}")
    if (config.in_channels, config.out_channels) != (2, 1):
        raise InvalidParameterError(f"model {config.name!r} maps 2 channels (scan, mask) to 1, "
                                    f"got in_channels {config.in_channels}, out_channels {config.out_channels}")
    return parse_options(GENERATOR_OPTIONS[config.name], config.name, {}, config.options)


def supersampler_step(config: ModelConfig) -> int | None:
    """The scan step a one-stage generator serves; ``None`` for a generator of any coverage."""
    options = supersampler_options(config)
    return options.step if isinstance(options, OneStageOptions) else None


def build_supersampler(config: ModelConfig) -> nn.Module:
    """The generator of ``config`` with fresh weights (zero-initialised heads)."""
    options = supersampler_options(config)
    if isinstance(options, OneStageOptions):
        return OneStageGenerator(options.step, options.width, options.blocks)
    if isinstance(options, ResidualUNetOptions):
        return ResidualUNetGenerator(options)
    return TwoStageGenerator(options.width, options.inner_width, options.inner_blocks, options.outer_blocks)


def keep_measured(output: torch.Tensor, scan: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The output with every sampled pixel set to its measured value."""
    return torch.where(mask > 0.5, scan, output)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


def _gaussian_kernel_1d(sigma_px: torch.Tensor, radius_px: int) -> torch.Tensor:
    """(N, 2r+1) normalised Gaussian weights, one row per image."""
    offsets = torch.arange(-radius_px, radius_px + 1, device=sigma_px.device, dtype=sigma_px.dtype)
    weights = torch.exp(-0.5 * (offsets[None, :] / sigma_px[:, None]) ** 2)
    return weights / weights.sum(dim=1, keepdim=True)


def _blur_per_image(x: torch.Tensor, sigma_px: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with one sigma per image (zero padding,
    which normalised convolution divides out)."""
    n, c, h, w = x.shape
    radius = int(math.ceil(3 * float(sigma_px.max())))
    kernel = _gaussian_kernel_1d(sigma_px, radius).to(x.dtype)  # (N, K)
    flat = x.reshape(1, n * c, h, w)
    rows = kernel.repeat_interleave(c, dim=0)[:, None, :, None]  # (N*C, 1, K, 1)
    cols = kernel.repeat_interleave(c, dim=0)[:, None, None, :]
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius)), rows, groups=n * c)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0)), cols, groups=n * c)
    return flat.reshape(n, c, h, w)


def interpolate_from_mask(scan: torch.Tensor, mask: torch.Tensor, scale: float = 0.5) -> torch.Tensor:
    """Normalised convolution: blur(scan * mask) / blur(mask), with sigma = ``scale`` x the mean
    probe spacing of each image (sqrt(area / samples)). A smooth interpolation for any mask."""
    samples = mask.flatten(1).sum(dim=1).clamp(min=1.0)
    spacing_px = torch.sqrt(mask[0, 0].numel() / samples)
    sigma_px = (scale * spacing_px).clamp(min=0.5)
    both = _blur_per_image(torch.cat([scan * mask, mask], dim=1), sigma_px)
    return both[:, :1] / both[:, 1:].clamp(min=1e-6)


class TwoStageGenerator(nn.Module):
    """Inner (1/4 resolution) and outer (1/2 and full resolution) generators; see the module doc."""

    multiple = 4

    def __init__(self, width: int = 48, inner_width: int = 64, inner_blocks: int = 4,
                 outer_blocks: int = 3) -> None:
        super().__init__()
        features_in = 4  # smooth fill, smoother fill, mask, scan
        self.inner_stem = nn.Conv2d(features_in, inner_width, 3, padding=1, padding_mode="reflect")
        self.inner = nn.Sequential(*(ResidualBlock(inner_width) for _ in range(inner_blocks)))
        self.trainer = nn.Sequential(  # auxiliary: inner features -> half-size image
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(inner_width, width, 3, padding=1, padding_mode="reflect"), nn.ReLU(),
            nn.Conv2d(width, 1, 3, padding=1, padding_mode="reflect"),
        )
        self.outer_stem = nn.Conv2d(features_in, width, 4, stride=2, padding=1, padding_mode="reflect")
        self.merge = nn.Conv2d(width + inner_width, width, 1)
        self.outer = nn.Sequential(*(ResidualBlock(width) for _ in range(outer_blocks)))
        self.up = nn.Sequential(nn.Conv2d(width, 4 * 16, 3, padding=1, padding_mode="reflect"),
                                nn.PixelShuffle(2))
        self.full = nn.Conv2d(16 + features_in, 16, 3, padding=1, padding_mode="reflect")
        self.head = nn.Conv2d(16, 1, 3, padding=1, padding_mode="reflect")
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(output (N, 1, H, W), auxiliary half-size image (N, 1, ceil(H/2), ceil(W/2)))."""
        size = x.shape[-2:]
        x, _ = pad_to_multiple(x, self.multiple, min_size=8)
        scan, mask = x[:, :1], x[:, 1:2]
        smooth = interpolate_from_mask(scan, mask, 0.5)
        features = torch.cat([smooth, interpolate_from_mask(scan, mask, 1.0), mask, scan * mask], 1)
        inner = self.inner(self.inner_stem(F.avg_pool2d(features, 4)))
        aux = self.trainer(inner)
        half = self.outer_stem(features)
        half = self.merge(torch.cat([half, F.interpolate(inner, size=half.shape[-2:], mode="bilinear",
                                                          align_corners=False)], 1))
        full = F.relu(self.up(self.outer(half)))
        full = self.full(torch.cat([full, features], 1))
        output = keep_measured(smooth + self.head(F.relu(full)), scan, mask)
        half_size = (-(-size[0] // 2), -(-size[1] // 2))
        return crop_to(output, size), crop_to(aux, half_size)


class OneStageGenerator(nn.Module):
    """Convolutions on the kept probe positions, then pixel-shuffle upsampling by ``step``."""

    def __init__(self, step: int, width: int = 48, blocks: int = 7) -> None:
        super().__init__()
        self.step = step
        self.stem = nn.Conv2d(1, width, 3, padding=1, padding_mode="replicate")
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.expand = nn.Sequential(nn.Conv2d(width, 16 * step * step, 3, padding=1,
                                              padding_mode="replicate"), nn.PixelShuffle(step))
        self.head = nn.Conv2d(16, 1, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scan, mask = x[:, :1], x[:, 1:2]
        outputs = [self._one(scan[i : i + 1], mask[i, 0]) for i in range(len(x))]
        return keep_measured(torch.cat(outputs), scan, mask)

    def _one(self, scan: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One image: find the lattice offset from the mask, upsample one step of margin
        beyond each edge, and cut the output back onto the full grid."""
        s, (height, width) = self.step, scan.shape[-2:]
        rows = torch.nonzero(mask.any(dim=1)).flatten()
        cols = torch.nonzero(mask.any(dim=0)).flatten()
        if len(rows) == 0 or len(cols) == 0:
            raise ValueError("the sampling mask is empty")
        oy, ox = int(rows[0]), int(cols[0])
        samples = F.pad(scan[..., oy::s, ox::s], (1, 1, 1, 1), mode="replicate")
        nearest = samples.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1)
        # Upsampled pixel u = j*s + r belongs to padded sample j (kept position k = j - 1, at
        # oy + k*s); centring each block on its position (ties to the lower sample, as
        # upsample_partial) puts full-grid pixel g at u = g + s + (s-1)//2 - oy.
        features = F.relu(self.expand(self.blocks(self.stem(samples))))
        up = nearest + self.head(features)
        top, left = s + (s - 1) // 2 - oy, s + (s - 1) // 2 - ox
        return up[..., top : top + height, left : left + width]


def lattice_of(mask: torch.Tensor) -> tuple[int, int, int] | None:
    """(step, row offset, column offset) when ``mask`` (H, W) is a regular square lattice of
    probes (every ``step``-th row and column from the offset), else ``None``."""
    rows = torch.nonzero(mask.any(dim=1)).flatten()
    cols = torch.nonzero(mask.any(dim=0)).flatten()
    if len(rows) < 2 or len(cols) < 2:
        return None
    step = int(rows[1] - rows[0])
    oy, ox = int(rows[0]), int(cols[0])
    if step < 1 or int(cols[1] - cols[0]) != step or oy >= step or ox >= step:
        return None
    lattice = torch.zeros_like(mask)
    lattice[oy::step, ox::step] = True
    return (step, oy, ox) if torch.equal(lattice, mask) else None


def bilinear_on_lattice(scan: torch.Tensor, step: int, oy: int, ox: int) -> torch.Tensor:
    """Bilinear interpolation of the probes of ``scan`` (H, W) on a regular lattice, with each
    sample exactly at its probe position and the edge sample repeated outside: the same
    weights as :func:`dosewise.analysis.interpolation.interpolate_partial` (float64)."""
    height, width = scan.shape
    samples = scan[oy::step, ox::step].to(torch.float64)
    rows = _linear_weights(height, step, oy, samples.shape[0], scan.device)
    cols = _linear_weights(width, step, ox, samples.shape[1], scan.device)
    return (rows @ samples @ cols.T).to(scan.dtype)


def _linear_weights(n_full: int, step: int, offset: int, n_samples: int, device: torch.device) -> torch.Tensor:
    position = (torch.arange(n_full, dtype=torch.float64, device=device) - offset) / step
    base = torch.floor(position)
    frac = position - base
    low = base.clamp(0, n_samples - 1).long()
    high = (base + 1).clamp(0, n_samples - 1).long()
    weights = torch.zeros(n_full, n_samples, dtype=torch.float64, device=device)
    rows = torch.arange(n_full, device=device)
    weights.index_put_((rows, low), 1.0 - frac, accumulate=True)
    weights.index_put_((rows, high), frac, accumulate=True)
    return weights / weights.sum(dim=1, keepdim=True)


class ResidualUNetGenerator(nn.Module):
    """A correction to an exact classical fill, learned by a fast pixel-unshuffle U-Net.

    The start is bilinear interpolation on a regular probe lattice (the best classical
    baseline on real scans in Ede 2020, Table 2) and normalised convolution on any other
    mask; the U-Net sees the start, the mask and the measured values and adds a correction
    from a zero-initialised head, so an untrained generator *is* the baseline and training
    can only move away from it where the data say so.
    """

    def __init__(self, options: ResidualUNetOptions) -> None:
        super().__init__()
        self.body = FastUNet(3, 1, FastUNetOptions(width=options.width, levels=options.levels,
                                                   convs_per_level=options.convs_per_level))
        nn.init.zeros_(self.body.head.weight)
        nn.init.zeros_(self.body.head.bias)

    def start(self, scan: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The classical fill each image starts from, (N, 1, H, W)."""
        fills = []
        for i in range(len(scan)):
            lattice = lattice_of(mask[i, 0] > 0.5)
            if lattice is None:
                fills.append(interpolate_from_mask(scan[i : i + 1], mask[i : i + 1], 0.5)[0, 0])
            else:
                fills.append(bilinear_on_lattice(scan[i, 0], *lattice))
        return torch.stack(fills)[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scan, mask = x[:, :1], x[:, 1:2]
        start = self.start(scan * mask, mask)
        correction = self.body(torch.cat([start, mask, scan * mask], dim=1))
        return keep_measured(start + correction, scan, mask)
