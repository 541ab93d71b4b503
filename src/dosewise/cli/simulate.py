"""``dosewise simulate``: labelled HRTEM, ADF-STEM and nanoparticle-field data sets and dose series into a
zarr store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from dosewise.cli.common import JsonFlag, console, emit_json
from dosewise.config import (
    DoseSeriesConfig,
    HrtemDatasetConfig,
    ParticleDatasetConfig,
    Recipe,
    StemDatasetConfig,
)
from dosewise.config.choices import ParticleModality
from dosewise.config.simulation import COUNT_ERROR
from dosewise.errors import InvalidParameterError, describe_validation_error

simulate_app = typer.Typer(
    help="Simulate labelled training data (HRTEM of Au nanoparticles on CeO2, Larsen et al. 2023; "
         "ADF-STEM crystals; bright-field / ADF nanoparticle fields).",
    no_args_is_help=True
)
R = TypeVar("R", bound=Recipe)

DoseRange = Annotated[
    tuple[float, float], typer.Option(help="Frame dose limits in e-/Å² (drawn log-uniformly between them).")
]
MtfOption = Annotated[str, typer.Option(
    help="Detector MTF preset mtf1..mtf5 (Larsen et al. 2023, Table 3), a preset .yaml written by "
    "`dosewise fit-mtf --preset-out`, or c0,c3,C.")]
PixelSize = Annotated[float, typer.Option("--pixel-size", help="Final image pixel size in Å/px.")]
SchedulerOption = Annotated[str | None, typer.Option(
    help="Address of a dask.distributed scheduler (tcp://host:8786) to run on instead of local worker processes; "
         "its workers must see --out (a shared filesystem).")]


def _defaults(model: type[Recipe]) -> dict[str, Any]:
    """The recipe's defaults, so the command line and the Python API cannot drift apart."""
    return {name: field.default for name, field in model.model_fields.items()}


HRTEM, SERIES, STEM, PARTICLES = (_defaults(m) for m in (HrtemDatasetConfig, DoseSeriesConfig, StemDatasetConfig,
                                                         ParticleDatasetConfig))


def _recipe(model: type[R], flags: Mapping[str, tuple[str, Any]]) -> R:
    """The recipe that ``flags`` (field: (flag, value)) describe; a refused value is the
    recipe's one-line message, with the flag in place of the field name."""
    try:
        return model.model_validate({field: value for field, (_, value) in flags.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        text = describe_validation_error(exc)
        if field not in flags:
            raise InvalidParameterError(text) from None
        flag = flags[field][0]
        if first["type"] == COUNT_ERROR:  # the flag is an integer already: only the bound is news
            raise InvalidParameterError(f"{flag} must be >= 1, got {first['ctx']['value']}") from None
        raise InvalidParameterError(flag + text.removeprefix(field)) from None


def _check_workers(workers: int) -> None:
    if workers < 1:
        raise InvalidParameterError(f"--workers must be >= 1, got {workers}")


def hrtem(
    out: Annotated[Path, typer.Option(help="Output zarr store (created, or resumed if it exists).")],
    n: Annotated[int, typer.Option(help="Number of structures (exit waves).")] = HRTEM["n_structures"],
    variants: Annotated[int, typer.Option(help="Images drawn from each exit wave (optics, MTF, dose).")] = (
        HRTEM["variants_per_structure"]),
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = HRTEM["size_px"],
    pixel_size: PixelSize = HRTEM["pixel_size_A"],
    dose_range: DoseRange = HRTEM["dose_range_e_per_A2"],
    mtf: MtfOption = HRTEM["mtf"],
    seed: Annotated[int, typer.Option(help="Random seed.")] = HRTEM["seed"],
    workers: Annotated[int, typer.Option(help="Worker processes (one structure each).")] = 1,
    scheduler: SchedulerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Au/CeO2 HRTEM images with masks; each exit wave is reused for several image variants."""
    from dosewise.io import DatasetStore
    from dosewise.simulate import simulate_hrtem_dataset

    config = _recipe(HrtemDatasetConfig, {
        "n_structures": ("--n", n), "variants_per_structure": ("--variants", variants), "size_px": ("--size", size),
        "pixel_size_A": ("--pixel-size", pixel_size), "dose_range_e_per_A2": ("--dose-range", dose_range),
        "mtf": ("--mtf", mtf), "seed": ("--seed", seed),
    })
    _check_workers(workers)
    simulate_hrtem_dataset(out, config, workers=workers, scheduler=scheduler)
    count = len(DatasetStore.open(out))
    if as_json:
        emit_json({"store": str(out), "samples": count, "structures": n, "variants_per_structure": variants})
    else:
        console.print(f"{out}: {count} labelled images")


def dose_series(
    out: Annotated[Path, typer.Option(help="Output zarr store.")],
    dose_range: DoseRange = SERIES["dose_range_e_per_A2"],
    frames: Annotated[int, typer.Option(help="Number of frames, doses log-spaced over the range.")] = (
        SERIES["n_frames"]),
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = SERIES["size_px"],
    pixel_size: PixelSize = SERIES["pixel_size_A"],
    mtf: MtfOption = SERIES["mtf"],
    seed: Annotated[int, typer.Option(help="Random seed.")] = SERIES["seed"],
    as_json: JsonFlag = False,
) -> None:
    """One structure, fixed optics, frame dose rising log-spaced over the range."""
    from dosewise.simulate import simulate_dose_series

    config = _recipe(DoseSeriesConfig, {
        "dose_range_e_per_A2": ("--dose-range", dose_range), "n_frames": ("--frames", frames),
        "size_px": ("--size", size), "pixel_size_A": ("--pixel-size", pixel_size), "mtf": ("--mtf", mtf),
        "seed": ("--seed", seed),
    })
    simulate_dose_series(out, config)
    doses = config.frame_doses()
    if as_json:
        emit_json({"store": str(out), "frames": frames, "doses_e_per_A2": doses})
    else:
        console.print(f"{out}: {frames} frames from {doses[0]:.3g} to {doses[-1]:.3g} e-/Å²")


def stem(
    out: Annotated[Path, typer.Option(help="Output zarr store (created, or resumed if it exists).")],
    n: Annotated[int, typer.Option(help="Number of images.")] = STEM["n_images"],
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = STEM["size_px"],
    dose_range: Annotated[
        tuple[float, float],
        typer.Option(help="Dose limits in e-/Å² at the brightest column (drawn log-uniformly)."),
    ] = STEM["dose_range_e_per_A2"],
    pixel_size_range: Annotated[
        tuple[float, float], typer.Option(help="Pixel size limits in Å/px (drawn uniformly).")
    ] = STEM["pixel_size_range_A"],
    materials: Annotated[
        str, typer.Option(help="Comma-separated materials, e.g. 'Au,SrTiO3[110]'; 'all' for every one.")
    ] = "all",
    seed: Annotated[int, typer.Option(help="Random seed.")] = STEM["seed"],
    workers: Annotated[int, typer.Option(help="Worker processes (chunks of images each).")] = 1,
    scheduler: SchedulerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """ADF-STEM crystal images (incoherent model) with noisy, noise_free, clean, superres and mask."""
    from dosewise.io import DatasetStore
    from dosewise.simulate import simulate_stem_dataset

    config = _recipe(StemDatasetConfig, {
        "n_images": ("--n", n), "size_px": ("--size", size), "dose_range_e_per_A2": ("--dose-range", dose_range),
        "pixel_size_range_A": ("--pixel-size-range", pixel_size_range), "materials": ("--materials", materials),
        "seed": ("--seed", seed),
    })
    _check_workers(workers)
    simulate_stem_dataset(out, config, workers=workers, scheduler=scheduler)
    count = len(DatasetStore.open(out))
    if as_json:
        emit_json({"store": str(out), "samples": count, "size_px": size})
    else:
        console.print(f"{out}: {count} labelled STEM images")


def particles(
    out: Annotated[Path, typer.Option(help="Output zarr store (created, or resumed if it exists).")],
    n: Annotated[int, typer.Option(help="Number of images.")] = PARTICLES["n_images"],
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = PARTICLES["size_px"],
    seed: Annotated[int, typer.Option(help="Random seed.")] = PARTICLES["seed"],
    modality: Annotated[ParticleModality, typer.Option(
        help="bf: bright-field TEM (dark particles), adf: ADF/HAADF-STEM (bright particles), both: drawn per image."
    )] = ParticleModality.both,
    dose_range: Annotated[
        tuple[float, float],
        typer.Option(help="Dose limits in e-/px at intensity 1 (bright-field support, ADF particle peak; "
                          "drawn log-uniformly)."),
    ] = PARTICLES["dose_range_e_per_px"],
    diameter_range: Annotated[
        tuple[float, float], typer.Option(help="Particle diameter limits in px (circumscribed).")
    ] = PARTICLES["diameter_range_px"],
    mtf: MtfOption = PARTICLES["mtf"],
    workers: Annotated[int, typer.Option(help="Worker processes (chunks of images each).")] = 1,
    scheduler: SchedulerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Nanoparticle fields (spheres, rods, tetrahedra, prisms, cubes; isolated or touching) with clean,
    noisy, mask, labels (instances) and boundary (where particles touch)."""
    from dosewise.io import DatasetStore
    from dosewise.simulate import simulate_particle_dataset

    config = _recipe(ParticleDatasetConfig, {
        "n_images": ("--n", n), "size_px": ("--size", size), "seed": ("--seed", seed),
        "modality": ("--modality", modality), "dose_range_e_per_px": ("--dose-range", dose_range),
        "diameter_range_px": ("--diameter-range", diameter_range), "mtf": ("--mtf", mtf),
    })
    _check_workers(workers)
    simulate_particle_dataset(out, config, workers=workers, scheduler=scheduler)
    count = len(DatasetStore.open(out))
    if as_json:
        emit_json({"store": str(out), "samples": count, "size_px": size, "modality": config.modality})
    else:
        console.print(f"{out}: {count} labelled particle fields")
