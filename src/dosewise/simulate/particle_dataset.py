"""Labelled nanoparticle-field data sets (:mod:`dosewise.simulate.particle_scenes`) in a
:class:`~dosewise.io.store.DatasetStore`.

A sample is a scene (bright-field or ADF, drawn per image when ``modality`` is ``both``)
seen by a detector: the dose is drawn log-uniformly in ``dose_range_e_per_px``, the camera
from the ``mtf`` preset, and ``noisy`` is :func:`dosewise.physics.detector_image` of
``clean`` -- Poisson shot noise spread by the MTF of Larsen et al. 2023 eq. 1, plus readout
noise Poisson(N0) -- in electron counts, so ``mean(noisy) ≈ dose_e_per_px · clean + N0``
(the HRTEM simulator's convention). In ADF the MTF is not a scintillator but stands for
what also correlates neighbouring pixels there: detector afterglow along the scan and the
smoothing of a tomographic reconstruction.

Reproducibility, as for :mod:`dosewise.simulate.stem_dataset`: image ``i`` draws its scene
(modality, pixel size, particles, support, contrast, blur) from
``SeedSequence(seed, spawn_key=(i, 0))`` and its dose, detector and noise from
``SeedSequence(seed, spawn_key=(i, 1))``, so a sample depends only on (seed, i), not on the
worker count or an interruption, and the labels do not depend on the noise draws. Workers
render chunks of images, each writing its own samples.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.config.simulation import ParticleDatasetConfig
from dosewise.physics import MTFParams, MTFPreset, detector_image
from dosewise.simulate.dataset import (
    SimulationReport,
    _check_workers,
    _expect,
    _jsonable,
    _simulate_indexed,
)
from dosewise.simulate.particle_scenes import MODALITIES, draw_particle_scene
from dosewise.simulate.render import draw_detector, resolve_mtf
from dosewise.units import dose_e_per_A2, nm_to_A

PARTICLES_KIND = "particles"
# Images per worker task: amortises process overhead, still updates the bar often.
CHUNK = 16


def particle_sample_id(index: int) -> str:
    return f"particles{index:06d}"


@dataclass(frozen=True)
class ParticleConfig:
    """Everything that decides the samples, resolved (the MTF spec to its parameters);
    stored in the dataset's attrs to guard resumes. The image count is not part of it,
    so a store can grow."""

    seed: int
    size_px: int
    modality: str
    dose_range_e_per_px: tuple[float, float]
    diameter_range_px: tuple[float, float]
    pixel_size_range_nm: tuple[float, float]
    blur_range_px: tuple[float, float]
    max_particles: int
    patch_fraction: float
    mtf: MTFParams | MTFPreset | None
    n0_e_per_px: float

    @classmethod
    def from_recipe(cls, config: ParticleDatasetConfig) -> ParticleConfig:
        return cls(seed=config.seed, size_px=config.size_px, modality=str(config.modality),
                   dose_range_e_per_px=tuple(config.dose_range_e_per_px),
                   diameter_range_px=tuple(config.diameter_range_px),
                   pixel_size_range_nm=tuple(config.pixel_size_range_nm),
                   blur_range_px=tuple(config.blur_range_px), max_particles=config.max_particles,
                   patch_fraction=config.patch_fraction, mtf=resolve_mtf(config.mtf),
                   n0_e_per_px=config.n0_e_per_px)

    def attrs(self) -> dict[str, Any]:
        values = asdict(self)
        values["mtf"] = None if self.mtf is None else {type(self.mtf).__name__: self.mtf.model_dump()}
        values["model"] = ("bright-field support·exp(-t/λ) or ADF ρ·support + (1-ρ)·t/t_typ, "
                           "blurred; detector MTF[Poisson(dose·clean)] + Poisson(N0)")
        return _jsonable(values)


@dataclass(frozen=True)
class ParticleSample:
    """One sample's arrays (``clean``, ``noisy`` float32; ``mask``, ``boundary`` uint8;
    ``labels`` int32) and metadata, before it is stored."""

    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]


def render_particle_sample(config: ParticleConfig, index: int) -> ParticleSample:
    """Sample ``index`` of the data set ``config`` describes."""
    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(index, stream)))

    scene_rng, noise_rng = rng(0), rng(1)
    modality = str(scene_rng.choice(MODALITIES)) if config.modality == "both" else config.modality
    low, high = config.pixel_size_range_nm
    pixel_size_nm = float(np.exp(scene_rng.uniform(math.log(low), math.log(high))))
    scene = draw_particle_scene(config.size_px, scene_rng, modality=modality, diameter_range_px=config.diameter_range_px,
                       max_particles=config.max_particles, patch_fraction=config.patch_fraction,
                       blur_range_px=config.blur_range_px)
    low, high = config.dose_range_e_per_px
    dose = float(np.exp(noise_rng.uniform(math.log(low), math.log(high))))
    detector = draw_detector(config.mtf, noise_rng, config.n0_e_per_px)
    noisy = detector_image(scene.clean, dose, mtf=detector.mtf, n0_e_per_px=detector.n0_e_per_px, seed=noise_rng)
    metadata = {
        **scene.metadata,
        "dose_e_per_px": dose,
        "dose_e_per_A2": dose_e_per_A2(dose, nm_to_A(pixel_size_nm)),
        "pixel_size_nm": pixel_size_nm,
        **detector.metadata(),
        "seed": config.seed,
        "index": index,
    }
    arrays = {"clean": scene.clean, "noisy": noisy, "mask": scene.mask, "labels": scene.labels,
              "boundary": scene.boundary}
    return ParticleSample(arrays=arrays, metadata=_jsonable(metadata))


def simulate_particle_dataset(
    out: str | Path,
    config: ParticleDatasetConfig,
    *,
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
) -> SimulationReport:
    """Simulate ``config.n_images`` labelled nanoparticle fields into ``out``.

    Samples ``particles{i:06d}`` hold ``clean`` and ``noisy`` (float32, ``noisy`` in
    electron counts), ``mask`` and ``boundary`` (uint8 0/1) and ``labels`` (int32 instance
    ids, 0 background), all ``(size_px, size_px)``, with metadata: ``modality`` (``bf`` or
    ``adf``), ``dose_e_per_px``, ``dose_e_per_A2``, ``pixel_size_nm``, ``n_particles``,
    ``shape_kinds``, ``particle_kinds`` and ``particle_diameters_px`` (one per label, in
    label order) and every other draw (:func:`~dosewise.simulate.particle_scenes.draw_particle_scene`).
    Images already complete are skipped, so an interrupted run resumes; a store made with
    other settings is refused; ``workers`` processes render chunks of images, or the dask.distributed cluster at ``scheduler`` does
    (same samples; its workers must reach the store's path).
    """
    _expect(config, ParticleDatasetConfig)
    _check_workers(workers)
    settings = ParticleConfig.from_recipe(config)
    return _simulate_indexed(Path(out), {"kind": PARTICLES_KIND, "simulation": settings.attrs()}, config.n_images,
                             sample_id=particle_sample_id, render=render_particle_sample, settings=settings,
                             workers=workers, progress=progress, description="simulating particles", chunk=CHUNK,
                             scheduler=scheduler)
