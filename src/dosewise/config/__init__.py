"""Recipes: every configuration a user writes in YAML or passes from a notebook.

One base (:class:`Recipe`, :class:`Section`) gives every recipe strict keys, one-line
errors (a renamed key names its new spelling), YAML in and out, and
:func:`apply_overrides` for command-line flags. Each recipe has one home here;
the packages that run them (training, simulate, experiments) import them from here,
including the microscope parameter models the simulation recipes hold
(:mod:`dosewise.config.microscope`).
"""

from dosewise.config.base import Recipe, Section, apply_overrides
from dosewise.config.experiments import (
    ComparePretrain,
    CompareConfig,
    DoseStudyConfig,
    StudyFigure,
    StudyRun,
    StudyScale,
    StudySeries,
)
from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges, StemRanges
from dosewise.config.pretraining import GanConfig, PretrainConfig, UnlabeledDataConfig
from dosewise.config.simulation import DoseSeriesConfig, HrtemDatasetConfig, StemDatasetConfig
from dosewise.config.supersampling import ReplayConfig, SupersampleConfig, SupersampleDataConfig
from dosewise.config.training import DataConfig, OptimiserConfig, RunSettings, TrainConfig

__all__ = [
    "CompareConfig",
    "ComparePretrain",
    "DataConfig",
    "DoseSeriesConfig",
    "DoseStudyConfig",
    "GanConfig",
    "HrtemDatasetConfig",
    "MicroscopeParams",
    "MicroscopeRanges",
    "OptimiserConfig",
    "PretrainConfig",
    "Recipe",
    "ReplayConfig",
    "RunSettings",
    "Section",
    "StemDatasetConfig",
    "StemRanges",
    "StudyFigure",
    "StudyRun",
    "StudyScale",
    "StudySeries",
    "SupersampleConfig",
    "SupersampleDataConfig",
    "TrainConfig",
    "UnlabeledDataConfig",
    "apply_overrides",
]
