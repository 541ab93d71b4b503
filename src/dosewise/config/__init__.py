"""Recipes: every configuration a user writes in YAML or passes from a notebook.

One base (:class:`Recipe`, :class:`Section`) gives every recipe strict keys, one-line
errors (a renamed key names its new spelling), YAML in and out, and
:func:`apply_overrides` for command-line flags. Each recipe has one home here;
the packages that run them (training, simulate, experiments) import them from here,
including the microscope parameter models the simulation recipes hold
(:mod:`dosewise.config.microscope`).

The names below are imported on first use: :mod:`dosewise.config.choices` (the enums the
command line offers) loads without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dosewise.lazy import lazy_exports

if TYPE_CHECKING:
    from dosewise.config.base import Recipe, Section, apply_overrides
    from dosewise.config.choices import (
        Downstream,
        PairKind,
        ParticleModality,
        Pretext,
        SupersamplerKind,
    )
    from dosewise.config.experiments import (
        CompareConfig,
        ComparePretrain,
        DoseStudyConfig,
        StudyFigure,
        StudyRun,
        StudyScale,
        StudySeries,
    )
    from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges, StemRanges
    from dosewise.config.pretraining import GanConfig, PretrainConfig, UnlabeledDataConfig
    from dosewise.config.simulation import (
        DoseSeriesConfig,
        HrtemDatasetConfig,
        ParticleDatasetConfig,
        StemDatasetConfig,
    )
    from dosewise.config.supersampling import ReplayConfig, SupersampleConfig, SupersampleDataConfig
    from dosewise.config.training import DataConfig, OptimiserConfig, RunSettings, TrainConfig

_HOMES = {
    "CompareConfig": "experiments",
    "ComparePretrain": "experiments",
    "DataConfig": "training",
    "DoseSeriesConfig": "simulation",
    "DoseStudyConfig": "experiments",
    "Downstream": "choices",
    "GanConfig": "pretraining",
    "HrtemDatasetConfig": "simulation",
    "MicroscopeParams": "microscope",
    "MicroscopeRanges": "microscope",
    "OptimiserConfig": "training",
    "PairKind": "choices",
    "ParticleDatasetConfig": "simulation",
    "ParticleModality": "choices",
    "Pretext": "choices",
    "PretrainConfig": "pretraining",
    "Recipe": "base",
    "ReplayConfig": "supersampling",
    "RunSettings": "training",
    "Section": "base",
    "StemDatasetConfig": "simulation",
    "StemRanges": "microscope",
    "StudyFigure": "experiments",
    "StudyRun": "experiments",
    "StudyScale": "experiments",
    "StudySeries": "experiments",
    "SupersampleConfig": "supersampling",
    "SupersampleDataConfig": "supersampling",
    "SupersamplerKind": "choices",
    "TrainConfig": "training",
    "UnlabeledDataConfig": "pretraining",
    "apply_overrides": "base",
}

__all__ = [
    "CompareConfig",
    "ComparePretrain",
    "DataConfig",
    "DoseSeriesConfig",
    "DoseStudyConfig",
    "Downstream",
    "GanConfig",
    "HrtemDatasetConfig",
    "MicroscopeParams",
    "MicroscopeRanges",
    "OptimiserConfig",
    "PairKind",
    "ParticleDatasetConfig",
    "ParticleModality",
    "Pretext",
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
    "SupersamplerKind",
    "TrainConfig",
    "UnlabeledDataConfig",
    "apply_overrides",
]


__getattr__ = lazy_exports(__name__, _HOMES)
