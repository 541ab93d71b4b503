"""The fixed sets of values recipes (and the commands that build them) choose from.

Each is a ``str`` enum: a recipe field takes the member or its value and holds the
value (plain text in YAML and checkpoints). They live here, apart from the recipes,
because this module imports no torch: the command line lists them in its help
without loading torch.
"""

from __future__ import annotations

from enum import Enum


class Pretext(str, Enum):
    """Self-supervised pretext task: ``gan`` (Pix2Pix, Kazimi et al. 2024) or ``dae``
    (denoising autoencoder, the Kazimi et al. abstract)."""

    gan = "gan"
    dae = "dae"


class Downstream(str, Enum):
    """Fine-tuning tasks: segmentation, denoising, noise & background removal, super-resolution."""

    segment = "segment"
    denoise = "denoise"
    nbgr = "nbgr"
    superres = "superres"


class PairKind(str, Enum):
    """Denoising training pairs (Katsuno et al. 2022): low/high dose (``paired``), two
    exposures (``noise2noise``), or a simulator store (``simulated``)."""

    paired = "paired"
    noise2noise = "noise2noise"
    simulated = "simulated"


class SupersamplerKind(str, Enum):
    """Partial-scan generator: ``two-stage`` (Ede 2020, every coverage), ``one-stage`` (Ede 2020,
    one coverage) or ``residual-unet`` (a correction to exact bilinear, every coverage); the
    model names are ``dlss-<kind>``."""

    two_stage = "two-stage"
    one_stage = "one-stage"
    residual_unet = "residual-unet"

    @property
    def model_name(self) -> str:
        """The generator's name in :mod:`dosewise.models.dlss`."""
        return f"dlss-{self.value}"


class ParticleModality(str, Enum):
    """Contrast of a simulated nanoparticle field: ``bf`` (bright-field TEM, mass-thickness:
    dark particles on a bright support), ``adf`` (ADF/HAADF-STEM, Z-contrast: bright particles
    on a darker support) or ``both`` (drawn per image, half each)."""

    bf = "bf"
    adf = "adf"
    both = "both"
