"""The Python face of ``dosewise noise``: a clean image through the detector model
(Larsen et al. 2023, eq. 3), written to a file.

It exists so that a notebook adds noise to a file exactly as the command does (dose
units, MTF presets, one draw per frame, the same random stream for a seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.io import read_image, write_image
from dosewise.workflows._output import refuse_existing
from dosewise.physics import MTFParams, as_generator, detector_image, parse_mtf
from dosewise.units import DoseUnit, as_dose_unit, dose_e_per_A2, dose_e_per_px


@dataclass(frozen=True)
class NoiseResult:
    """What :func:`add_detector_noise` wrote and the detector it drew."""

    input: Path
    output: Path
    dose_e_per_px: float
    dose_e_per_A2: float | None
    mtf: MTFParams | None
    n0_e_per_px: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise noise --json``."""
        return {
            "input": str(self.input),
            "output": str(self.output),
            "dose_e_per_px": self.dose_e_per_px,
            "dose_e_per_A2": self.dose_e_per_A2,
            "mtf": self.mtf.model_dump() if self.mtf is not None else None,
            "n0_e_per_px": self.n0_e_per_px,
            "seed": self.seed,
        }


def add_detector_noise(
    input_path: str | Path,
    output: str | Path,
    *,
    dose: float,
    dose_unit: DoseUnit | str = DoseUnit.per_A2,
    pixel_size_A: float | None = None,
    mtf: str | MTFParams | None = None,
    readout_n0_e_per_px: float | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> NoiseResult:
    """MTF[Poisson(dose · I)] + Poisson(N0) of every frame of ``input_path``, written to ``output``.

    The clean image's mean is taken as intensity 1. ``dose`` is per frame, in ``dose_unit``
    (e-/Å² needs a pixel size: ``pixel_size_A`` or the file's). ``mtf`` is a preset
    ``mtf1``..``mtf5`` or preset ``.yaml`` file (one detector drawn with ``seed``), ``c0,c3,C``
    or :class:`~dosewise.physics.MTFParams`; ``readout_n0_e_per_px`` replaces the preset's N0
    (default: the preset's draw, else 0). The input is never overwritten; an existing
    ``output`` only with ``overwrite``.
    """
    input_path = Path(input_path)
    refuse_existing([Path(output)], overwrite)
    image = read_image(input_path)
    pixel_size_A = pixel_size_A if pixel_size_A is not None else image.pixel_size_A
    if as_dose_unit(dose_unit) is DoseUnit.per_A2:
        if pixel_size_A is None:
            raise InvalidParameterError(
                "file has no pixel size: give --pixel-size in Å/px or use --dose-unit e/px", input_path
            )
        dose_px = dose_e_per_px(dose, pixel_size_A)
    else:
        if dose <= 0:
            raise InvalidParameterError(f"dose must be > 0 e-/px, got {dose}")
        dose_px = float(dose)
    dose_A2 = dose_e_per_A2(dose_px, pixel_size_A) if pixel_size_A else None
    rng = as_generator(seed)
    mtf_params: MTFParams | None = None
    n0 = 0.0
    if mtf is not None:
        parsed = mtf if isinstance(mtf, MTFParams) else parse_mtf(mtf)
        if isinstance(parsed, MTFParams):
            mtf_params = parsed
        else:
            mtf_params, n0 = parsed.sample(rng)
    if readout_n0_e_per_px is not None:
        if readout_n0_e_per_px < 0:
            raise InvalidParameterError(f"readout N0 must be >= 0 e-/px, got {readout_n0_e_per_px}")
        n0 = float(readout_n0_e_per_px)

    frames = image.data if image.data.ndim == 3 else image.data[None]
    noisy = np.empty_like(frames, dtype=np.float32)
    for index, frame in enumerate(frames):
        mean = float(frame.mean())
        if mean <= 0:
            raise InvalidImageError("mean intensity must be > 0 to set a dose", input_path)
        noisy[index] = detector_image(frame / mean, dose_px, mtf=mtf_params, n0_e_per_px=n0, seed=rng)
    result = noisy if image.data.ndim == 3 else noisy[0]
    Path(output).parent.mkdir(parents=True, exist_ok=True)  # a new output folder, once all is checked
    written = write_image(output, result, inputs=[input_path], pixel_size_A=pixel_size_A)
    return NoiseResult(input=input_path, output=written, dose_e_per_px=dose_px, dose_e_per_A2=dose_A2,
                       mtf=mtf_params, n0_e_per_px=n0, seed=seed)
