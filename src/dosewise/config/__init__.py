"""Recipes: every configuration a user writes in YAML or passes from a notebook.

One base (:class:`Recipe`, :class:`Section`) gives every recipe strict keys, one-line
errors, YAML in and out, and :func:`apply_overrides` for command-line flags. The
simulation recipes (:mod:`dosewise.config.simulation`) and the microscope parameter
models they hold (:mod:`dosewise.config.microscope`) live here too.
"""

from dosewise.config.base import Recipe, Section, apply_overrides
from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges, StemRanges
from dosewise.config.simulation import DoseSeriesConfig, HrtemDatasetConfig, StemDatasetConfig

__all__ = [
    "DoseSeriesConfig",
    "HrtemDatasetConfig",
    "MicroscopeParams",
    "MicroscopeRanges",
    "Recipe",
    "Section",
    "StemDatasetConfig",
    "StemRanges",
    "apply_overrides",
]
