"""Labelled ADF-STEM data sets (TEMImageNet-like) written into a :class:`~dosewise.io.store.DatasetStore`.

Reproducibility: image ``i`` draws its scene (crystal, orientation, probe, background)
from ``SeedSequence(seed, spawn_key=(i, 0))`` and its dose and noise from
``SeedSequence(seed, spawn_key=(i, 1))``, so a sample depends only on (seed, i) -- not
on the worker count, the order of work or an earlier interruption -- and its labels
do not depend on the noise draws.

Parallelism is over chunks of images, one process each (``workers``), as for HRTEM:
each image is a few FFTs, so chunks amortise the process round trip, and every
worker writes its own samples (one store group per sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.config.microscope import StemRanges
from dosewise.config.simulation import StemDatasetConfig
from dosewise.simulate.dataset import (
    SimulationReport,
    _check_workers,
    _expect,
    _jsonable,
    _simulate_indexed,
)
from dosewise.simulate.stem import StemSample, stem_sample
from dosewise.simulate.stem_crystals import Zone, parse_materials, zone_name

STEM_KIND = "stem"
# Images per worker task: amortises process overhead, still updates the bar often.
CHUNK = 16


def stem_sample_id(index: int) -> str:
    return f"stem{index:06d}"


@dataclass(frozen=True)
class StemConfig:
    """Everything that decides the samples, resolved; stored in the dataset's attrs to guard resumes.

    Built from a :class:`StemDatasetConfig` by :meth:`from_recipe`: the dose and pixel size
    merged into the ranges, the materials parsed into (material, zone axis) pairs. The
    image count is not part of it, so a store can grow.
    """

    seed: int
    size_px: int
    ranges: StemRanges
    materials: tuple[tuple[str, Zone], ...]
    mask_radius_A: float = 0.5
    mask_min_relative_weight: float = 0.1

    @classmethod
    def from_recipe(cls, config: StemDatasetConfig) -> StemConfig:
        """The settings of ``config``; an unknown material is an :class:`InvalidParameterError`."""
        return cls(seed=config.seed, size_px=config.size_px, ranges=config.drawn_ranges,
                   materials=tuple(parse_materials(config.materials)), mask_radius_A=config.mask_radius_A,
                   mask_min_relative_weight=config.mask_min_relative_weight)

    def attrs(self) -> dict[str, Any]:
        return _jsonable({
            "seed": self.seed,
            "size_px": self.size_px,
            "ranges": self.ranges.model_dump(),
            "materials": [f"{m}{zone_name(z)}" for m, z in self.materials],
            "mask_radius_A": self.mask_radius_A,
            "mask_min_relative_weight": self.mask_min_relative_weight,
            "model": "incoherent linear imaging: probe intensity (x) sum of Z^n Gaussian columns",
        })


def render_stem_sample(config: StemConfig, index: int) -> StemSample:
    """Sample ``index`` of the data set ``config`` describes (arrays and metadata)."""
    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(index, stream)))

    sample = stem_sample(config.ranges, list(config.materials), size_px=config.size_px,
                         scene_rng=rng(0), noise_rng=rng(1), mask_radius_A=config.mask_radius_A,
                         mask_min_relative_weight=config.mask_min_relative_weight)
    return StemSample(arrays=sample.arrays, metadata={**sample.metadata, "seed": config.seed, "index": index})


def simulate_stem_dataset(
    out: str | Path,
    config: StemDatasetConfig,
    *,
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
) -> SimulationReport:
    """Simulate ``config.n_images`` labelled ADF-STEM images into ``out`` (see :mod:`dosewise.simulate.stem`).

    Samples ``stem{i:06d}`` hold ``noisy``, ``noise_free``, ``clean``, ``superres``
    (float32) and ``mask`` (uint8), all ``(size_px, size_px)``, with their parameters
    as metadata (:class:`~dosewise.config.StemDatasetConfig` lists what is drawn).
    Images already complete in the store are skipped, so an interrupted run resumes;
    the report lists image indices (each image is its own structure). ``workers``
    processes render chunks of images, or the dask.distributed cluster at ``scheduler`` does
    (same samples; its workers must reach the store's path).
    """
    _expect(config, StemDatasetConfig)
    _check_workers(workers)
    settings = StemConfig.from_recipe(config)
    return _simulate_indexed(Path(out), {"kind": STEM_KIND, "simulation": settings.attrs()}, config.n_images,
                             sample_id=stem_sample_id, render=render_stem_sample, settings=settings,
                             workers=workers, progress=progress, description="simulating STEM", chunk=CHUNK,
                             scheduler=scheduler)
