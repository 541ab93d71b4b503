"""Detector and scan physics: electron noise, scintillator MTF, partial scans, backgrounds.

Pure functions on float32 numpy arrays; every random function takes
``seed: int | np.random.Generator | None`` and the same seed gives the same
result. Torch versions for data loaders live in :mod:`dosewise.physics.torch_ops`
(imported separately so that this package does not import torch).
"""

from dosewise.physics._rng import as_generator
from dosewise.physics.background import gaussian_blur, linear_background, nonlinear_background
from dosewise.physics.mtf import (
    MTFParams,
    apply_mtf,
    make_mtf_params,
    mtf_curve,
    radial_frequency_nyquist,
)
from dosewise.physics.mtf_fit import (
    MTFFit,
    ReadoutFit,
    azimuthal_amplitude_spectrum,
    c_from_n0,
    fit_mtf,
    fit_readout_n0,
    mtf_a1,
    vacuum_amplitude,
)
from dosewise.physics.mtf_presets import MTF_PRESETS, MTFPreset, parse_mtf
from dosewise.physics.noise import detector_image, readout_noise, shot_noise
from dosewise.physics.partial_scan import (
    PartialScan,
    loss_normaliser_p,
    p_raw,
    parse_coverage,
    partial_scan,
    upsample_partial,
)

__all__ = [
    "as_generator",
    "MTFFit",
    "MTFParams",
    "MTFPreset",
    "MTF_PRESETS",
    "PartialScan",
    "ReadoutFit",
    "apply_mtf",
    "azimuthal_amplitude_spectrum",
    "c_from_n0",
    "detector_image",
    "fit_mtf",
    "fit_readout_n0",
    "gaussian_blur",
    "linear_background",
    "loss_normaliser_p",
    "make_mtf_params",
    "mtf_a1",
    "mtf_curve",
    "nonlinear_background",
    "p_raw",
    "parse_coverage",
    "parse_mtf",
    "partial_scan",
    "radial_frequency_nyquist",
    "readout_noise",
    "shot_noise",
    "upsample_partial",
    "vacuum_amplitude",
]
