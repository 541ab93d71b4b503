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

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.config.microscope import StemRanges
from dosewise.config.simulation import StemDatasetConfig
from dosewise.io.store import DatasetStore
from dosewise.simulate.dataset import (
    SimulationReport,
    _check_workers,
    _expect,
    _jsonable,
    _open_store,
    _progress,
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


def _write_samples(config: StemConfig, out: str, indices: list[int]) -> int:
    """Render and write the missing samples among ``indices``; runs in a worker or in-process."""
    store = DatasetStore.open(out, mode="r+")
    written = 0
    for index in indices:
        if store.has(stem_sample_id(index)):
            continue
        sample = render_stem_sample(config, index)
        store.write_sample(stem_sample_id(index), sample.arrays, sample.metadata)
        written += 1
    return written


def simulate_stem_dataset(
    out: str | Path,
    config: StemDatasetConfig,
    *,
    workers: int = 1,
    progress: bool = True,
) -> SimulationReport:
    """Simulate ``config.n_images`` labelled ADF-STEM images into ``out`` (see :mod:`dosewise.simulate.stem`).

    Samples ``stem{i:06d}`` hold ``noisy``, ``noise_free``, ``clean``, ``superres``
    (float32) and ``mask`` (uint8), all ``(size_px, size_px)``, with their parameters
    as metadata (:class:`~dosewise.config.StemDatasetConfig` lists what is drawn).
    Images already complete in the store are skipped, so an interrupted run resumes;
    the report lists image indices (each image is its own structure). ``workers``
    processes render chunks of images.
    """
    _expect(config, StemDatasetConfig)
    _check_workers(workers)
    n_images = config.n_images
    settings = StemConfig.from_recipe(config)
    out = Path(out)
    store = _open_store(out, {"kind": STEM_KIND, "simulation": settings.attrs()})
    todo = [i for i in range(n_images) if not store.has(stem_sample_id(i))]
    skipped = sorted(set(range(n_images)) - set(todo))
    with _progress(progress) as bar:
        task = bar.add_task("simulating STEM", total=n_images, completed=len(skipped))
        chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
        if workers == 1 or len(chunks) <= 1:
            written = 0
            for index in todo:
                written += _write_samples(settings, str(out), [index])
                bar.advance(task)
        else:
            written = _run_parallel(settings, out, chunks, workers, lambda n: bar.advance(task, n))
    return SimulationReport(path=out, structures_computed=todo, structures_skipped=skipped,
                            samples_written=written)


def _run_parallel(config: StemConfig, out: Path, chunks: list[list[int]], workers: int,
                  on_done: Callable[[int], None]) -> int:
    """One task per chunk on a forkserver/spawn pool (the parent may hold FFT or BLAS threads)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    written = 0
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)),
                             mp_context=multiprocessing.get_context(method)) as pool:
        pending = {pool.submit(_write_samples, config, str(out), chunk): len(chunk) for chunk in chunks}
        futures = set(pending)
        while futures:
            done, futures = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise future.exception()
                written += future.result()
                on_done(pending[future])
    return written
