"""Detector presets: named ranges of MTF parameters and readout noise (Larsen et al. 2023, Table 3).

A preset is a family of detectors; each draw is one detector (MTF parameters and N0).
``mtf1``..``mtf5`` are the paper's; ``dosewise fit-mtf --preset-out`` writes a preset
fitted to the user's own detector, which every ``--mtf`` option accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dosewise.errors import InputFileError, InvalidParameterError, describe_validation_error
from dosewise.io.yaml_file import read_yaml_mapping, write_yaml
from dosewise.physics._rng import Seed, as_generator
from dosewise.physics.mtf import MTFParams, make_mtf_params

_PROVENANCE_KEY = "fitted"
_PRESET_KEYS = {"name", "c0_range", "c3_range", "n0_range_e_per_px"}


class MTFPreset(BaseModel):
    """A named range of detectors (Larsen et al. 2023, Table 3); each draw is one detector.

    The scintillator MTF itself has C = 0 in the simulation: the noise floor
    comes from the readout noise Poisson(N0), added after the MTF.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    c0_range: tuple[float, float]
    c3_range: tuple[float, float]
    n0_range_e_per_px: tuple[float, float]

    @model_validator(mode="after")
    def _check_ranges(self) -> MTFPreset:
        for label, (low, high) in (
            ("c0", self.c0_range),
            ("c3", self.c3_range),
            ("N0", self.n0_range_e_per_px),
        ):
            if not 0 <= low <= high or (label != "N0" and low <= 0):
                raise ValueError(f"{label} range must satisfy 0 < low <= high, got ({low}, {high})")
        return self

    def sample(self, seed: Seed = None) -> tuple[MTFParams, float]:
        """Draw (MTF parameters, N0 in e-/px) uniformly within the ranges."""
        rng = as_generator(seed)
        c0 = rng.uniform(*self.c0_range)
        c3 = rng.uniform(*self.c3_range)
        n0_e_per_px = rng.uniform(*self.n0_range_e_per_px)
        return MTFParams(c0=c0, c3=c3, C=0.0), float(n0_e_per_px)


def _preset(name: str, c0: tuple[float, float], c3: tuple[float, float]) -> MTFPreset:
    return MTFPreset(name=name, c0_range=c0, c3_range=c3, n0_range_e_per_px=(0.005, 0.015))


MTF_PRESETS: dict[str, MTFPreset] = {
    p.name: p
    for p in (
        _preset("mtf1", (0.4, 0.6), (2.0, 3.0)),
        _preset("mtf2", (0.4, 0.6), (1.0, 5.0)),
        _preset("mtf3", (0.2, 0.3), (1.0, 5.0)),
        _preset("mtf4", (0.25, 0.6), (2.0, 5.0)),
        _preset("mtf5", (0.6, 0.8), (2.0, 5.0)),
    )
}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TRIPLE = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")


def parse_mtf(text: str) -> MTFPreset | MTFParams:
    """A preset name ('mtf1'..'mtf5'), a preset file (.yaml/.yml) or one detector 'c0,c3,C'.

    Preset files are written by ``dosewise fit-mtf --preset-out`` (see
    :func:`write_preset_yaml`); a missing or malformed one is an error.
    """
    key = text.strip().lower()
    if key in MTF_PRESETS:
        return MTF_PRESETS[key]
    if key.endswith((".yaml", ".yml")):
        return load_preset_yaml(text.strip())
    match = _TRIPLE.match(text)
    if match is None:
        names = ", ".join(MTF_PRESETS)
        raise InvalidParameterError(
            f"unknown MTF {text!r}: expected a preset ({names}), a preset file (.yaml) "
            "or 'c0,c3,C' such as '0.25,2.5,0'"
        )
    c0, c3, C = (float(g) for g in match.groups())
    return make_mtf_params(c0, c3, C)


def write_preset_yaml(
    path: str | Path,
    preset: MTFPreset,
    *,
    provenance: dict[str, Any] | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Write ``preset`` as YAML atomically; ``provenance`` goes under ``fitted:`` (ignored on load)."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InvalidParameterError(f"a preset file must end in .yaml or .yml, got {path.name!r}")
    body: dict[str, Any] = {
        "name": preset.name,
        "c0_range": _rounded(preset.c0_range),
        "c3_range": _rounded(preset.c3_range),
        "n0_range_e_per_px": _rounded(preset.n0_range_e_per_px),
    }
    if provenance:
        body[_PROVENANCE_KEY] = _plain(provenance)
    header = (
        "dosewise MTF preset (Larsen et al. 2023, eq. 1 + readout N0): use with --mtf " + path.name + "\n"
        "c0 in units of Nyquist, c3 dimensionless, N0 in e-/px; each draw is uniform in the ranges."
    )
    return write_yaml(path, body, header=header, inputs=tuple(inputs))


def load_preset_yaml(path: str | Path) -> MTFPreset:
    """Read a preset written by :func:`write_preset_yaml` (or by hand); one-line errors."""
    path = Path(path)
    data = read_yaml_mapping(path)
    data.pop(_PROVENANCE_KEY, None)
    unknown = sorted(str(k) for k in set(data) - _PRESET_KEYS)
    if unknown:
        raise InputFileError(f"unknown key(s) {', '.join(unknown)} in MTF preset (expected "
                             f"{', '.join(sorted(_PRESET_KEYS))})", path)
    data.setdefault("name", path.stem)
    try:
        return MTFPreset(**data)
    except (ValidationError, TypeError) as exc:
        reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise InputFileError(f"invalid MTF preset: {reason}", path) from None


def _rounded(values: tuple[float, float]) -> list[float]:
    """Six significant digits: far below any fit's precision, and a file people can read."""
    return [float(f"{v:.6g}") for v in values]


def _plain(value: Any) -> Any:
    """numpy scalars, tuples and paths to what yaml.safe_dump writes."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value
