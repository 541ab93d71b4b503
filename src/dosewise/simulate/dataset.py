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

import functools
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dosewise.config.microscope import MicroscopeParams, MicroscopeRanges
from dosewise.config.simulation import DEFAULT_N0_E_PER_PX, DoseSeriesConfig, HrtemDatasetConfig
from dosewise.errors import InvalidParameterError, MissingExtraError, OutputFileError
from dosewise.io.messages import one_line_reason
from dosewise.io.store import DatasetStore, is_store
from dosewise.physics import MTFParams, MTFPreset
from dosewise.simulate.hrtem import ExitWave, compute_exit_wave, lens_margin_A, oversampling
from dosewise.simulate.render import Detector, draw_detector, render_sample, resolve_mtf
from dosewise.simulate.structures import SupportedParticle, build_supported_particle


def sample_id(structure_index: int, variant_index: int) -> str:
    return f"s{structure_index:06d}_v{variant_index:03d}"


def frame_id(frame_index: int) -> str:
    return f"f{frame_index:04d}"


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that decides the samples, resolved; stored in the dataset's attrs to guard resumes.

    Built from a recipe by :meth:`from_recipe`: the drawn ranges merged into one
    :class:`MicroscopeRanges` and the MTF spec resolved to its parameters (a preset file's
    contents, not its path). The counts (structures, variants) are not part of it, so a
    store can grow; its attrs are the same JSON as before the recipes, so older stores resume.
    """

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

    @classmethod
    def from_recipe(cls, config: HrtemDatasetConfig | DoseSeriesConfig,
                    ranges: MicroscopeRanges) -> SimulationConfig:
        """The settings of ``config``, drawing from ``ranges``."""
        return cls(seed=config.seed, size_px=config.size_px, ranges=ranges, mtf=resolve_mtf(config.mtf),
                   n0_e_per_px=config.n0_e_per_px, diameter_range_A=tuple(config.diameter_range_A),
                   max_sampling_A=config.max_sampling_A, slice_thickness_A=config.slice_thickness_A,
                   frozen_phonons=config.frozen_phonons, margin_A=config.margin_A)

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


F = TypeVar("F", bound=Callable[..., SimulationReport])


def _no_empty_store_left(simulate: F) -> F:
    """A run that fails before its first sample removes the store it created: a failed command
    leaves nothing behind, while a store with samples stays for the resume."""

    @functools.wraps(simulate)
    def wrapper(out: str | Path, *args: Any, **kwargs: Any) -> SimulationReport:
        existed = Path(out).exists()
        try:
            return simulate(out, *args, **kwargs)
        except BaseException:
            if not existed and is_store(Path(out)) and len(DatasetStore.open(out)) == 0:
                shutil.rmtree(out, ignore_errors=True)
            raise

    return wrapper  # type: ignore[return-value]


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


def _check_workers(workers: int) -> None:
    if int(workers) != workers or workers < 1:
        raise InvalidParameterError(f"workers must be an integer >= 1, got {workers}")


def _expect(config: Any, kind: type) -> None:
    if not isinstance(config, kind):
        raise InvalidParameterError(
            f"config must be a {kind.__name__} (dosewise.config), got {type(config).__name__}"
        )


class _Rendered(Protocol):
    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]


def _write_indexed(render: Callable[[Any, int], _Rendered], sample_id: Callable[[int], str], settings: Any,
                   out: str, indices: list[int]) -> int:
    """Render and write the missing samples among ``indices``; runs in a worker or in-process."""
    store = DatasetStore.open(out, mode="r+")
    written = 0
    for index in indices:
        if store.has(sample_id(index)):
            continue
        sample = render(settings, index)
        store.write_sample(sample_id(index), sample.arrays, sample.metadata)
        written += 1
    return written


@_no_empty_store_left
def _simulate_indexed(out: Path, attrs: dict[str, Any], n_images: int, *, sample_id: Callable[[int], str],
                      render: Callable[[Any, int], _Rendered], settings: Any, workers: int, progress: bool,
                      description: str, chunk: int, scheduler: str | None = None) -> SimulationReport:
    """Write samples ``0..n_images-1``, each ``render(settings, i)`` and depending on (seed, i) only,
    into the store at ``out`` (made with ``attrs``, or resumed if made with the same ones).

    Samples already complete are skipped; ``workers`` processes render chunks of ``chunk``
    images (module-level ``render`` and ``sample_id``, so they reach a worker by name), or the
    dask.distributed cluster at ``scheduler`` does. The report lists image indices as its
    "structures" (each image is its own scene).
    """
    store = _open_store(out, attrs)
    todo = [i for i in range(n_images) if not store.has(sample_id(i))]
    skipped = sorted(set(range(n_images)) - set(todo))
    with _progress(progress) as bar:
        task = bar.add_task(description, total=n_images, completed=len(skipped))
        chunks = [todo[i:i + chunk] for i in range(0, len(todo), chunk)]
        if scheduler is None and (workers == 1 or len(chunks) <= 1):
            written = 0
            for index in todo:
                written += _write_indexed(render, sample_id, settings, str(out), [index])
                bar.advance(task)
        else:
            write = functools.partial(_write_indexed, render, sample_id, settings, str(out))
            written = _run_tasks(write, [(c,) for c in chunks], workers, scheduler,
                                 lambda i: bar.advance(task, len(chunks[i])))
    return SimulationReport(path=out, structures_computed=todo, structures_skipped=skipped,
                            samples_written=written)


def _run_tasks(task: Callable[..., int], arguments: list[tuple[Any, ...]], workers: int,
               scheduler: str | None, on_done: Callable[[int], None]) -> int:
    """``task(*arguments[i])`` for every i, each returning the samples it wrote, and their sum:
    on a local forkserver/spawn pool of ``workers`` processes (abTEM, FFTW and BLAS are not
    fork-safe), or on the dask.distributed cluster at ``scheduler`` (its workers must see the
    store's path). ``on_done(i)`` runs as task i finishes; the first failure cancels the rest."""
    if scheduler is not None:
        return _run_on_dask(task, arguments, scheduler, on_done)
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    written = 0
    with ProcessPoolExecutor(max_workers=min(workers, len(arguments)),
                             mp_context=multiprocessing.get_context(method)) as pool:
        index_of = {pool.submit(task, *args): i for i, args in enumerate(arguments)}
        pending = set(index_of)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                written += future.result()
                on_done(index_of[future])
    return written


def _run_on_dask(task: Callable[..., int], arguments: list[tuple[Any, ...]], scheduler: str,
                 on_done: Callable[[int], None]) -> int:
    """:func:`_run_tasks` on a dask.distributed cluster: one future per task, gathered as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise MissingExtraError("--scheduler needs dask.distributed: pip install 'dosewise[sim]'") from exc
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidParameterError(f"cannot reach the dask scheduler {scheduler}: {one_line_reason(exc)}") from None
    with client:
        index_of = {client.submit(task, *args, pure=False): i for i, args in enumerate(arguments)}
        written = 0
        try:
            for future in as_completed(list(index_of)):
                written += future.result()
                on_done(index_of[future])
        except BaseException:
            client.cancel(list(index_of))
            raise
    return written


@_no_empty_store_left
def simulate_hrtem_dataset(
    out: str | Path,
    config: HrtemDatasetConfig,
    *,
    workers: int = 1,
    progress: bool = True,
    structure_cache: str | Path | None = None,
    scheduler: str | None = None,
) -> SimulationReport:
    """Simulate ``config.n_structures`` x ``config.variants_per_structure`` labelled images into ``out``.

    Samples ``s{structure:06d}_v{variant:03d}`` hold "clean" (float32, vacuum ≈ 1),
    "noisy" (float32 electron counts) and "mask" (uint8) plus their metadata. One exit
    wave per structure serves all its variants (Larsen et al. 2023's image epochs). Pixel size is
    drawn per structure, optics, dose and detector per variant. Structures whose
    variants are all in the store are skipped, so an interrupted run resumes where it
    stopped and produces the same samples as an uninterrupted one.

    Each structure is simulated with ``config.margin_A`` (default: the largest lens
    delocalisation any drawn optics can cause, :func:`~dosewise.simulate.hrtem.lens_margin_A`)
    around the field and cropped to ``size_px`` afterwards, so no image shows the seam of
    the periodic cell or contrast wrapped across it.

    ``workers`` processes simulate one structure each, or the workers of the dask.distributed
    cluster at ``scheduler`` do (same samples, image for image; the store's path must be
    reachable from them); ``structure_cache``: a folder where exit waves are kept and reused by
    any dataset of the same structures (other dose range or detector); see :func:`cached_structure`.
    """
    _expect(config, HrtemDatasetConfig)
    _check_workers(workers)
    n_structures, variants_per_structure = config.n_structures, config.variants_per_structure
    settings = SimulationConfig.from_recipe(config, config.drawn_ranges)
    out = Path(out)
    cache = None if structure_cache is None else Path(structure_cache)
    store = _open_store(out, {"kind": "hrtem", "simulation": settings.attrs()})
    todo = [s for s in range(n_structures)
            if not all(store.has(sample_id(s, v)) for v in range(variants_per_structure))]
    skipped = sorted(set(range(n_structures)) - set(todo))
    written = 0
    with _progress(progress) as bar:
        task = bar.add_task("simulating HRTEM", total=n_structures * variants_per_structure,
                            completed=len(skipped) * variants_per_structure)
        if scheduler is None and (workers == 1 or len(todo) <= 1):
            for s in todo:
                written += _write_structure(settings, str(out), s, variants_per_structure, cache)
                bar.advance(task, variants_per_structure)
        else:
            written = _run_tasks(_write_structure,
                                 [(settings, str(out), s, variants_per_structure, cache) for s in todo],
                                 workers, scheduler, lambda _: bar.advance(task, variants_per_structure))
    return SimulationReport(path=out, structures_computed=todo, structures_skipped=skipped,
                            samples_written=written)


@_no_empty_store_left
def simulate_dose_series(out: str | Path, config: DoseSeriesConfig, *, progress: bool = True) -> SimulationReport:
    """One structure, fixed optics and detector, frame dose rising log-spaced (dose-limit studies).

    Frames ``f0000``.. carry the same arrays and metadata as a dataset sample plus
    ``frame_index``; only the dose and the noise realisation change between frames
    (:meth:`DoseSeriesConfig.frame_doses`). ``config.microscope`` fixes the optics (its
    dose is ignored); by default they are drawn from Larsen et al. 2023, Table 1 with
    ``config.seed``. The default margin covers the delocalisation of these fixed optics.
    """
    _expect(config, DoseSeriesConfig)
    doses = config.frame_doses()
    ranges = MicroscopeRanges(pixel_size_A=(config.pixel_size_A, config.pixel_size_A))
    settings = SimulationConfig.from_recipe(config, ranges)
    fixed_rng = _variant_rng(settings, 0, 0)
    optics = config.microscope or ranges.sample(fixed_rng)
    detector: Detector = draw_detector(settings.mtf, fixed_rng, settings.n0_e_per_px)
    out = Path(out)
    attrs = {"kind": "dose_series", "simulation": {**settings.attrs(), "doses_e_per_A2": doses,
                                                   "optics": optics.model_dump()}}
    store = _open_store(out, attrs)
    todo = [f for f in range(len(doses)) if not store.has(frame_id(f))]
    if todo:
        structure = simulate_structure(settings, 0, optics=optics)
        with _progress(progress) as bar:
            task = bar.add_task("simulating dose series", total=len(doses), completed=len(doses) - len(todo))
            for f in todo:
                rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(0, 2, f)))
                frame_optics = optics.model_copy(update={"dose_e_per_A2": doses[f]})
                sample = render_sample(structure.exit_wave, structure.particle, frame_optics, detector,
                                       pixel_size_A=structure.pixel_size_A, size_px=settings.size_px, rng=rng)
                metadata = {**sample.metadata, "seed": settings.seed, "structure_index": 0, "frame_index": f,
                            "frozen_phonons": settings.frozen_phonons}
                store.write_sample(frame_id(f), sample.arrays, metadata)
                bar.advance(task)
    return SimulationReport(path=out, structures_computed=[0] if todo else [],
                            structures_skipped=[] if todo else [0], samples_written=len(todo))
