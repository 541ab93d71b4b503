"""Labelled HRTEM datasets written into a :class:`~dosewise.io.store.DatasetStore`.

Reproducibility: all randomness of structure ``s`` comes from
``SeedSequence(seed, spawn_key=(s, ...))`` -- the same streams ``SeedSequence(seed).spawn``
hands out -- so a sample depends only on (seed, s, v), never on the order of work,
the number of workers or earlier interruptions. Keys: ``(s, 0)`` structure, pixel size
and phonons; ``(s, 1, v)`` optics, detector and noise of variant ``v``.

Parallelism is over structures, one process each (``workers``): every structure is
independent, its exit wave is the expensive part, and each worker writes its own
samples (one store group per sample). abTEM's dask parallelism would only split one
multislice across 2 cores, with scheduler overhead; processes keep each core busy.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import pickle
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dosewise.errors import InvalidParameterError, OutputFileError
from dosewise.io.store import DatasetStore
from dosewise.physics import MTFParams, MTFPreset
from dosewise.simulate.hrtem import ExitWave, compute_exit_wave, lens_margin_A, oversampling
from dosewise.simulate.microscope import MicroscopeParams, MicroscopeRanges, make_ranges
from dosewise.simulate.render import (
    DEFAULT_N0_E_PER_PX,
    Detector,
    MTFSpec,
    draw_detector,
    render_sample,
    resolve_mtf,
)
from dosewise.simulate.structures import SupportedParticle, build_supported_particle


def sample_id(structure_index: int, variant_index: int) -> str:
    return f"s{structure_index:06d}_v{variant_index:03d}"


def frame_id(frame_index: int) -> str:
    return f"f{frame_index:04d}"


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that decides the samples; stored in the dataset's attrs to guard resumes."""

    seed: int
    size_px: int
    ranges: MicroscopeRanges
    mtf: MTFParams | MTFPreset | None
    n0_e_per_px: float = DEFAULT_N0_E_PER_PX
    diameter_range_A: tuple[float, float] = (15.0, 50.0)
    max_sampling_A: float = 0.1
    slice_thickness_A: float = 2.0
    frozen_phonons: int = 0
    # Simulated frame around the field (Å, rounded up to whole pixels); None: lens_margin_A.
    margin_A: float | None = None

    def attrs(self) -> dict[str, Any]:
        values = asdict(self)
        values["ranges"] = self.ranges.model_dump()
        values["mtf"] = None if self.mtf is None else {type(self.mtf).__name__: self.mtf.model_dump()}
        return _jsonable(values)


def _jsonable(value: Any) -> Any:
    """Tuples to lists, so attrs compare equal after a JSON round trip."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class SimulationReport:
    """What a run did: structures computed now vs. found complete, samples written."""

    path: Path
    structures_computed: list[int] = field(default_factory=list)
    structures_skipped: list[int] = field(default_factory=list)
    samples_written: int = 0


@dataclass(frozen=True)
class SimulatedStructure:
    """A structure with its exit wave, ready for any number of image variants."""

    particle: SupportedParticle
    exit_wave: ExitWave
    pixel_size_A: float


def structure_margin_A(config: SimulationConfig, pixel_size_A: float, sampling_A: float,
                       optics: MicroscopeRanges | MicroscopeParams | None = None) -> float:
    """The margin simulated around the field: ``config.margin_A`` or the lens delocalisation
    for ``optics`` (default: every optics ``config.ranges`` can draw), in whole pixels."""
    margin_A = config.margin_A
    if margin_A is None:
        margin_A = lens_margin_A(optics if optics is not None else config.ranges, sampling_A)
    return math.ceil(margin_A / pixel_size_A - 1e-9) * pixel_size_A


def simulate_structure(config: SimulationConfig, structure_index: int, *,
                       optics: MicroscopeRanges | MicroscopeParams | None = None) -> SimulatedStructure:
    """Build structure ``structure_index`` and its exit wave (the expensive step).

    The cell is the field plus a margin (:func:`structure_margin_A`) that covers the
    lens delocalisation of ``optics``, by default of every optics the ranges can draw.
    """
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(structure_index, 0)))
    pixel_size_A = config.ranges.sample_pixel_size_A(rng)
    sampling_A = pixel_size_A / oversampling(pixel_size_A, config.max_sampling_A)
    particle = build_supported_particle(config.size_px * pixel_size_A, seed=rng,
                                        diameter_range_A=config.diameter_range_A,
                                        margin_A=structure_margin_A(config, pixel_size_A, sampling_A, optics))
    exit_wave = compute_exit_wave(
        particle.atoms,
        sampling_A=sampling_A,
        energy_eV=config.ranges.energy_eV,
        seed=rng,
        slice_thickness_A=config.slice_thickness_A,
        frozen_phonons=config.frozen_phonons,
    )
    return SimulatedStructure(particle=particle, exit_wave=exit_wave, pixel_size_A=pixel_size_A)


def structure_key(config: SimulationConfig, structure_index: int) -> str:
    """What decides structure ``structure_index`` and its exit wave: every setting but the
    detector and the dose range (those only change the images rendered from it)."""
    values = config.attrs()
    for detector_field in ("mtf", "n0_e_per_px"):
        values.pop(detector_field)
    values["ranges"].pop("dose_e_per_A2", None)
    text = json.dumps({"structure": structure_index, **values}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_structure(config: SimulationConfig, structure_index: int, cache_dir: Path | None) -> SimulatedStructure:
    """:func:`simulate_structure`, reusing an exit wave computed before for the same structure.

    Datasets that differ only in dose range or detector (Larsen et al. 2023, Tables 2-3) share their
    structures, so a study computes each multislice once. Our own pickles, written atomically.
    """
    if cache_dir is None:
        return simulate_structure(config, structure_index)
    path = Path(cache_dir) / f"{structure_key(config, structure_index)}.pkl"
    if path.is_file():
        with open(path, "rb") as handle:
            return pickle.load(handle)
    structure = simulate_structure(config, structure_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(structure, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return structure


def _variant_rng(config: SimulationConfig, structure_index: int, variant_index: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence(config.seed, spawn_key=(structure_index, 1, variant_index))
    )


def _write_structure(config: SimulationConfig, out: str, structure_index: int, n_variants: int,
                     cache_dir: Path | None = None) -> int:
    """Simulate one structure and write its missing variants; returns how many were written.

    Runs in a worker process (or in-process for ``workers=1``).
    """
    store = DatasetStore.open(out, mode="r+")
    missing = [v for v in range(n_variants) if not store.has(sample_id(structure_index, v))]
    if not missing:
        return 0
    structure = cached_structure(config, structure_index, cache_dir)
    for v in missing:
        rng = _variant_rng(config, structure_index, v)
        microscope = config.ranges.sample(rng)
        detector = draw_detector(config.mtf, rng, config.n0_e_per_px)
        sample = render_sample(structure.exit_wave, structure.particle, microscope, detector,
                               pixel_size_A=structure.pixel_size_A, size_px=config.size_px, rng=rng)
        metadata = {**sample.metadata, "seed": config.seed, "structure_index": structure_index,
                    "variant_index": v, "frozen_phonons": config.frozen_phonons}
        store.write_sample(sample_id(structure_index, v), sample.arrays, metadata)
    return len(missing)


def _open_store(out: Path, attrs: dict[str, Any]) -> DatasetStore:
    """Create the store, or reopen it for a resume if it was made with the same settings."""
    attrs = _jsonable(attrs)
    store = DatasetStore.create(out, exist_ok=True)
    previous = {key: _jsonable(store.attrs.get(key)) for key in attrs}
    if len(store) == 0:
        store.attrs.update(attrs)
    elif previous != attrs:
        raise OutputFileError(
            "exists and holds samples simulated with different settings; choose a new path", out
        )
    return store


def _progress(enabled: bool) -> Progress:
    """A progress bar on stderr, so ``--json`` output on stdout stays parseable."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), disable=not enabled, console=Console(stderr=True))


def _pixel_size_range(pixel_size_A: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(pixel_size_A, (int, float)):
        return (float(pixel_size_A), float(pixel_size_A))
    low, high = pixel_size_A
    return (float(low), float(high))


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if int(value) != value or value < 1:
            raise InvalidParameterError(f"{name} must be an integer >= 1, got {value}")


def _check_margin(margin_A: float | None) -> float | None:
    if margin_A is None:
        return None
    if not (np.isfinite(margin_A) and margin_A >= 0):
        raise InvalidParameterError(f"margin_A must be None (automatic) or >= 0 Å, got {margin_A}")
    return float(margin_A)


def simulate_hrtem_dataset(
    out: str | Path,
    *,
    n_structures: int,
    variants_per_structure: int = 10,
    size_px: int = 512,
    pixel_size_A: float | tuple[float, float] = (0.07, 0.08),
    dose_range_e_per_A2: tuple[float, float] = (1e2, 1e6),
    mtf: MTFSpec = "mtf4",
    seed: int = 0,
    workers: int = 1,
    microscope: MicroscopeRanges | None = None,
    n0_e_per_px: float = DEFAULT_N0_E_PER_PX,
    diameter_range_A: tuple[float, float] = (15.0, 50.0),
    max_sampling_A: float = 0.1,
    frozen_phonons: int = 0,
    margin_A: float | None = None,
    progress: bool = True,
    structure_cache: str | Path | None = None,
) -> SimulationReport:
    """Simulate ``n_structures`` x ``variants_per_structure`` labelled images into ``out``.

    Samples ``s{structure:06d}_v{variant:03d}`` hold "clean" (float32, vacuum ≈ 1),
    "noisy" (float32 electron counts) and "mask" (uint8) plus their metadata. One exit
    wave per structure serves all its variants (Larsen et al. 2023's image epochs). Pixel size is
    drawn per structure, optics, dose and detector per variant. Structures whose
    variants are all in the store are skipped, so an interrupted run resumes where it
    stopped and produces the same samples as an uninterrupted one.

    Each structure is simulated with ``margin_A`` (default: the largest lens
    delocalisation any drawn optics can cause, :func:`~dosewise.simulate.hrtem.lens_margin_A`)
    around the field and cropped to ``size_px`` afterwards, so no image shows the seam of
    the periodic cell or contrast wrapped across it.

    ``structure_cache``: a folder where exit waves are kept and reused by any dataset of
    the same structures (other dose range or detector); see :func:`cached_structure`.
    """
    _check_counts(n_structures=n_structures, variants_per_structure=variants_per_structure,
                  size_px=size_px, workers=workers)
    base = microscope or MicroscopeRanges()
    ranges = make_ranges(**{**base.model_dump(), "dose_e_per_A2": tuple(dose_range_e_per_A2),
                            "pixel_size_A": _pixel_size_range(pixel_size_A)})
    config = SimulationConfig(seed=int(seed), size_px=int(size_px), ranges=ranges, mtf=resolve_mtf(mtf),
                              n0_e_per_px=float(n0_e_per_px), diameter_range_A=tuple(diameter_range_A),
                              max_sampling_A=float(max_sampling_A), frozen_phonons=int(frozen_phonons),
                              margin_A=_check_margin(margin_A))
    out = Path(out)
    cache = None if structure_cache is None else Path(structure_cache)
    store = _open_store(out, {"kind": "hrtem", "simulation": config.attrs()})
    todo = [s for s in range(n_structures)
            if not all(store.has(sample_id(s, v)) for v in range(variants_per_structure))]
    skipped = sorted(set(range(n_structures)) - set(todo))
    written = 0
    with _progress(progress) as bar:
        task = bar.add_task("simulating HRTEM", total=n_structures * variants_per_structure,
                            completed=len(skipped) * variants_per_structure)
        if workers == 1 or len(todo) <= 1:
            for s in todo:
                written += _write_structure(config, str(out), s, variants_per_structure, cache)
                bar.advance(task, variants_per_structure)
        else:
            written = _run_parallel(config, out, todo, variants_per_structure, workers,
                                    lambda: bar.advance(task, variants_per_structure), cache)
    return SimulationReport(path=out, structures_computed=todo, structures_skipped=skipped,
                            samples_written=written)


def _run_parallel(config: SimulationConfig, out: Path, todo: list[int], n_variants: int,
                  workers: int, on_done: Callable[[], None], cache_dir: Path | None = None) -> int:
    """One task per structure on a spawn/forkserver pool (abTEM and FFTW are not fork-safe)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    written = 0
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                             mp_context=multiprocessing.get_context(method)) as pool:
        pending = {pool.submit(_write_structure, config, str(out), s, n_variants, cache_dir) for s in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                written += future.result()
                on_done()
    return written


def simulate_dose_series(
    out: str | Path,
    *,
    doses_e_per_A2: list[float] | None = None,
    dose_min_e_per_A2: float = 10.0,
    dose_max_e_per_A2: float = 1e4,
    n_frames: int = 20,
    size_px: int = 512,
    pixel_size_A: float = 0.075,
    mtf: MTFSpec = "mtf4",
    seed: int = 0,
    microscope: MicroscopeParams | None = None,
    n0_e_per_px: float = DEFAULT_N0_E_PER_PX,
    diameter_range_A: tuple[float, float] = (15.0, 50.0),
    max_sampling_A: float = 0.1,
    frozen_phonons: int = 0,
    margin_A: float | None = None,
    progress: bool = True,
) -> SimulationReport:
    """One structure, fixed optics and detector, frame dose rising log-spaced (dose-limit studies).

    Frames ``f0000``.. carry the same arrays and metadata as a dataset sample plus
    ``frame_index``; only the dose and the noise realisation change between frames.
    ``microscope`` fixes the optics (its dose is ignored); by default they are drawn
    from Larsen et al. 2023, Table 1 with ``seed``. The default margin covers the delocalisation
    of these fixed optics.
    """
    if doses_e_per_A2 is None:
        _check_counts(n_frames=n_frames)
        if not 0 < dose_min_e_per_A2 <= dose_max_e_per_A2:
            raise InvalidParameterError(
                f"dose range must satisfy 0 < min <= max e-/Å², got {dose_min_e_per_A2}..{dose_max_e_per_A2}"
            )
        doses = np.geomspace(dose_min_e_per_A2, dose_max_e_per_A2, n_frames).tolist()
    else:
        doses = [float(d) for d in doses_e_per_A2]
        if not doses or min(doses) <= 0:
            raise InvalidParameterError(f"doses must be a non-empty list of values > 0 e-/Å², got {doses}")
    _check_counts(size_px=size_px)
    ranges = make_ranges(pixel_size_A=_pixel_size_range(pixel_size_A))
    config = SimulationConfig(seed=int(seed), size_px=int(size_px), ranges=ranges, mtf=resolve_mtf(mtf),
                              n0_e_per_px=float(n0_e_per_px), diameter_range_A=tuple(diameter_range_A),
                              max_sampling_A=float(max_sampling_A), frozen_phonons=int(frozen_phonons),
                              margin_A=_check_margin(margin_A))
    fixed_rng = _variant_rng(config, 0, 0)
    optics = microscope or ranges.sample(fixed_rng)
    detector: Detector = draw_detector(config.mtf, fixed_rng, config.n0_e_per_px)
    out = Path(out)
    attrs = {"kind": "dose_series", "simulation": {**config.attrs(), "doses_e_per_A2": doses,
                                                   "optics": optics.model_dump()}}
    store = _open_store(out, attrs)
    todo = [f for f in range(len(doses)) if not store.has(frame_id(f))]
    if todo:
        structure = simulate_structure(config, 0, optics=optics)
        with _progress(progress) as bar:
            task = bar.add_task("simulating dose series", total=len(doses), completed=len(doses) - len(todo))
            for f in todo:
                rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0, 2, f)))
                frame_optics = optics.model_copy(update={"dose_e_per_A2": doses[f]})
                sample = render_sample(structure.exit_wave, structure.particle, frame_optics, detector,
                                       pixel_size_A=structure.pixel_size_A, size_px=config.size_px, rng=rng)
                metadata = {**sample.metadata, "seed": config.seed, "structure_index": 0, "frame_index": f,
                            "frozen_phonons": config.frozen_phonons}
                store.write_sample(frame_id(f), sample.arrays, metadata)
                bar.advance(task)
    return SimulationReport(path=out, structures_computed=[0] if todo else [],
                            structures_skipped=[] if todo else [0], samples_written=len(todo))
