"""Simulated HRTEM training data (Larsen et al. 2023): CeO2-supported Au particles, abTEM, CTF,
MTF, noise.

Pipeline: :func:`build_supported_particle` (ASE) -> :func:`compute_exit_wave` (abTEM
multislice, the expensive step, once per structure) -> :func:`image_from_exit_wave`
(lens, envelope, blur, binning; cheap, once per image) -> detector noise at the final
pixel size -> :func:`hull_mask` label. :func:`simulate_hrtem_dataset` and
:func:`simulate_dose_series` write the results into a ``DatasetStore``, each from one
recipe (:class:`HrtemDatasetConfig`, :class:`DoseSeriesConfig`; :class:`StemDatasetConfig`
for :func:`simulate_stem_dataset`; :class:`ParticleDatasetConfig` for
:func:`simulate_particle_dataset`, labelled bright-field / ADF nanoparticle fields), defined in
:mod:`dosewise.config`.
"""

from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges, StemRanges
from dosewise.config.simulation import (
    DoseSeriesConfig,
    HrtemDatasetConfig,
    ParticleDatasetConfig,
    StemDatasetConfig,
)
from dosewise.simulate.dataset import (
    SimulationReport,
    frame_id,
    sample_id,
    simulate_dose_series,
    simulate_hrtem_dataset,
)
from dosewise.simulate.hrtem import ExitWave, compute_exit_wave, image_from_exit_wave, oversampling
from dosewise.simulate.mask import hull_mask
from dosewise.simulate.particle_dataset import (
    ParticleConfig,
    ParticleSample,
    particle_sample_id,
    render_particle_sample,
    simulate_particle_dataset,
)
from dosewise.simulate.particle_scenes import (
    ParticleScene,
    draw_particle_scene,
    instance_boundary,
    particle_thickness,
)
from dosewise.simulate.stem import Probe, stem_sample
from dosewise.simulate.stem_crystals import MATERIALS as STEM_MATERIALS
from dosewise.simulate.stem_crystals import parse_materials, projected_crystal
from dosewise.simulate.stem_dataset import (
    StemConfig,
    render_stem_sample,
    simulate_stem_dataset,
    stem_sample_id,
)
from dosewise.simulate.structures import (
    StructureParams,
    SupportedParticle,
    build_supported_particle,
)

__all__ = [
    "STEM_MATERIALS",
    "DoseSeriesConfig",
    "ExitWave",
    "HrtemDatasetConfig",
    "MicroscopeParams",
    "MicroscopeRanges",
    "ParticleConfig",
    "ParticleDatasetConfig",
    "ParticleSample",
    "ParticleScene",
    "Probe",
    "SimulationReport",
    "StemConfig",
    "StemDatasetConfig",
    "StemRanges",
    "StructureParams",
    "SupportedParticle",
    "build_supported_particle",
    "compute_exit_wave",
    "draw_particle_scene",
    "frame_id",
    "hull_mask",
    "image_from_exit_wave",
    "instance_boundary",
    "oversampling",
    "parse_materials",
    "particle_sample_id",
    "particle_thickness",
    "projected_crystal",
    "render_particle_sample",
    "render_stem_sample",
    "sample_id",
    "simulate_dose_series",
    "simulate_hrtem_dataset",
    "simulate_particle_dataset",
    "simulate_stem_dataset",
    "stem_sample",
    "stem_sample_id",
]
