"""One labelled sample (clean, noisy, mask, metadata) from a structure's exit wave.

This is the cheap per-image step that Larsen et al. 2023 repeats for every image epoch:
lens + envelope + blur + binning (:func:`image_from_exit_wave`) on the whole
simulation cell, crop of the margin (the periodic cell's seam and what the lens
wrapped across it lie there), then the detector
(:func:`dosewise.physics.detector_image`: MTF-spread shot noise + readout noise)
on the cropped field at the final pixel size, with the dose converted from e-/Å² so
it means the same at any binning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dosewise.config.microscope import MicroscopeParams
from dosewise.config.simulation import DEFAULT_N0_E_PER_PX
from dosewise.errors import InvalidParameterError
from dosewise.physics import MTF_PRESETS, MTFParams, MTFPreset, detector_image, parse_mtf
from dosewise.simulate.hrtem import ExitWave, image_from_exit_wave, pixel_origin_A
from dosewise.simulate.mask import hull_mask
from dosewise.simulate.structures import SupportedParticle
from dosewise.units import dose_e_per_px

MTFSpec = str | MTFParams | MTFPreset | None


@dataclass(frozen=True)
class Detector:
    """One camera: MTF (None = direct counter, white shot noise) and readout noise N0."""

    mtf: MTFParams | None
    n0_e_per_px: float
    name: str

    def metadata(self) -> dict[str, Any]:
        return {
            "detector": self.name,
            "mtf_c0": None if self.mtf is None else self.mtf.c0,
            "mtf_c3": None if self.mtf is None else self.mtf.c3,
            "mtf_C": None if self.mtf is None else self.mtf.C,
            "n0_e_per_px": self.n0_e_per_px,
        }


def resolve_mtf(mtf: MTFSpec) -> MTFParams | MTFPreset | None:
    """A preset name, a preset file (.yaml) or 'c0,c3,C' text becomes a preset or fixed parameters."""
    if isinstance(mtf, str):
        return parse_mtf(mtf)
    if mtf is None or isinstance(mtf, (MTFParams, MTFPreset)):
        return mtf
    raise InvalidParameterError(
        f"mtf must be a preset name ({', '.join(MTF_PRESETS)}), MTFParams, MTFPreset or None, got {mtf!r}"
    )


def draw_detector(mtf: MTFParams | MTFPreset | None, rng: np.random.Generator,
                  n0_e_per_px: float = DEFAULT_N0_E_PER_PX) -> Detector:
    """A preset is sampled (MTF and N0); fixed parameters or None use ``n0_e_per_px``."""
    if isinstance(mtf, MTFPreset):
        params, n0 = mtf.sample(rng)
        return Detector(mtf=params, n0_e_per_px=n0, name=mtf.name)
    return Detector(mtf=mtf, n0_e_per_px=float(n0_e_per_px), name="fixed" if mtf else "none")


def whole_pixels(margin_A: float, pixel_size_A: float) -> int:
    """The margin in whole detector pixels; an error if ``margin_A`` is not (close to) one."""
    margin_px = int(round(margin_A / pixel_size_A))
    if margin_px < 0 or abs(margin_px * pixel_size_A - margin_A) > 1e-6 * max(pixel_size_A, margin_A):
        raise InvalidParameterError(
            f"margin {margin_A:.6g} Å is not a whole number of {pixel_size_A:.6g} Å pixels"
        )
    return margin_px


@dataclass(frozen=True)
class RenderedSample:
    """One simulated image's arrays (clean, noisy, mask) and metadata, before it is stored."""

    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]


def render_sample(
    exit_wave: ExitWave,
    particle: SupportedParticle,
    microscope: MicroscopeParams,
    detector: Detector,
    *,
    pixel_size_A: float,
    size_px: int,
    rng: np.random.Generator,
) -> RenderedSample:
    """Clean image, noisy counts and particle mask for one set of imaging conditions.

    The exit wave covers the particle's whole cell, the ``size_px`` field plus
    ``particle.margin_A`` (a whole number of pixels) on every side; the clean image
    and the mask are cropped to the field before the detector noise is drawn.
    """
    margin_px = whole_pixels(particle.margin_A, pixel_size_A)
    shape = (size_px, size_px)
    full = (size_px + 2 * margin_px,) * 2
    image = image_from_exit_wave(exit_wave.array, exit_wave.sampling_A, microscope, pixel_size_A, full)
    clean = np.ascontiguousarray(image[margin_px:margin_px + size_px, margin_px:margin_px + size_px])
    dose_px = dose_e_per_px(microscope.dose_e_per_A2, pixel_size_A)
    noisy = detector_image(clean, dose_px, mtf=detector.mtf, n0_e_per_px=detector.n0_e_per_px, seed=rng)
    origin_A = pixel_origin_A(exit_wave.sampling_A, pixel_size_A) + margin_px * pixel_size_A
    mask, hull_area_px = hull_mask(particle.au_xy_A, pixel_size_A, shape, origin_A=origin_A)
    metadata = {
        **microscope.model_dump(),
        "dose_e_per_px": dose_px,
        "pixel_size_A": pixel_size_A,
        "size_px": size_px,
        "margin_px": margin_px,
        "margin_A": margin_px * pixel_size_A,
        "exit_wave_sampling_A": exit_wave.sampling_A,
        **detector.metadata(),
        **particle.params.as_dict(),
        "hull_area_px": hull_area_px,
        "mask_area_px": int(mask.sum()),
    }
    arrays = {"clean": clean, "noisy": noisy, "mask": mask}
    return RenderedSample(arrays=arrays, metadata=metadata)
