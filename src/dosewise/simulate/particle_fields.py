"""Bright-field TEM fields of nanoparticles at low magnification (mass-thickness contrast).

At the 25-30 kx magnifications of Katsuno et al. 2022 a particle of 30-200 nm is a dark, blurred
disc: the transmitted intensity falls as exp(-t / lambda) with the projected thickness t
of the particle (a sphere or a flattened ellipsoid here). No lattice fringes, unlike the
HRTEM simulator, so the two together cover both regimes a general denoiser meets. The
images are clean intensities (vacuum / support ≈ 1); noise is added at training time.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dosewise.physics.background import nonlinear_background


def particle_field(size_px: int, rng: np.random.Generator) -> np.ndarray:
    """One clean field: 1-12 particles of 8-80 px diameter on a faint, uneven support."""
    yy, xx = np.mgrid[:size_px, :size_px].astype(np.float64)
    thickness = np.zeros((size_px, size_px))
    for _ in range(int(rng.integers(1, 13))):
        radius = rng.uniform(4, 40)
        aspect = rng.uniform(0.6, 1.0)
        angle = rng.uniform(0, np.pi)
        cy, cx = rng.uniform(-radius, size_px + radius, 2)
        u = ((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / radius
        v = (-(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)) / (radius * aspect)
        inside = np.clip(1.0 - u**2 - v**2, 0.0, None)
        thickness += 2.0 * radius * aspect * np.sqrt(inside)  # projected ellipsoid, in px
    mean_free_path_px = rng.uniform(20, 120)
    support = 1.0 + nonlinear_background((size_px, size_px), seed=rng, amplitude=0.1)
    image = support * np.exp(-thickness / mean_free_path_px)
    return ndimage.gaussian_filter(image, rng.uniform(0.5, 2.0)).astype(np.float32)
