"""``dosewise simulate``: labelled HRTEM and ADF-STEM data sets and dose series into a zarr store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from dosewise.cli.common import JsonFlag, console, emit_json
from dosewise.errors import InvalidParameterError

simulate_app = typer.Typer(
    help="Simulate labelled training data (HRTEM of Au nanoparticles on CeO2, Larsen et al. 2023; "
         "ADF-STEM crystals).",
    no_args_is_help=True
)

DoseRange = Annotated[
    tuple[float, float], typer.Option(help="Frame dose limits in e-/Å² (drawn log-uniformly between them).")
]
MtfOption = Annotated[str, typer.Option(
    help="Detector MTF preset mtf1..mtf5 (Larsen et al. 2023, Table 3), a preset .yaml written by "
    "`dosewise fit-mtf --preset-out`, or c0,c3,C.")]
PixelSize = Annotated[float, typer.Option("--pixel-size", help="Final image pixel size in Å/px.")]


def _check_dose_range(dose_range: tuple[float, float]) -> None:
    low, high = dose_range
    if not 0 < low <= high:
        raise InvalidParameterError(f"dose range must satisfy 0 < A <= B e-/Å², got {low} {high}")


def hrtem(
    out: Annotated[Path, typer.Option(help="Output zarr store (created, or resumed if it exists).")],
    n: Annotated[int, typer.Option(help="Number of structures (exit waves).")] = 10,
    variants: Annotated[int, typer.Option(help="Images drawn from each exit wave (optics, MTF, dose).")] = 4,
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = 256,
    pixel_size: PixelSize = 0.25,
    dose_range: DoseRange = (1e2, 1e6),
    mtf: MtfOption = "mtf4",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (one structure each).")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Au/CeO2 HRTEM images with masks; each exit wave is reused for several image variants."""
    from dosewise.io import DatasetStore
    from dosewise.simulate import simulate_hrtem_dataset

    _check_dose_range(dose_range)
    for name, value in (("--n", n), ("--variants", variants), ("--size", size), ("--workers", workers)):
        if value < 1:
            raise InvalidParameterError(f"{name} must be >= 1, got {value}")
    simulate_hrtem_dataset(
        out,
        n_structures=n,
        variants_per_structure=variants,
        size_px=size,
        pixel_size_A=pixel_size,
        dose_range_e_per_A2=dose_range,
        mtf=mtf,
        seed=seed,
        workers=workers,
    )
    count = len(DatasetStore.open(out))
    if as_json:
        emit_json({"store": str(out), "samples": count, "structures": n, "variants_per_structure": variants})
    else:
        console.print(f"{out}: {count} labelled images")


def dose_series(
    out: Annotated[Path, typer.Option(help="Output zarr store.")],
    dose_range: DoseRange = (10.0, 1e4),
    frames: Annotated[int, typer.Option(help="Number of frames, doses log-spaced over the range.")] = 20,
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = 256,
    pixel_size: PixelSize = 0.25,
    mtf: MtfOption = "mtf3",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """One structure, fixed optics, frame dose rising log-spaced over the range."""
    from dosewise.simulate import simulate_dose_series

    _check_dose_range(dose_range)
    if frames < 2:
        raise InvalidParameterError(f"--frames must be >= 2, got {frames}")
    doses = np.geomspace(dose_range[0], dose_range[1], frames)
    simulate_dose_series(out, doses_e_per_A2=doses, size_px=size, pixel_size_A=pixel_size, mtf=mtf, seed=seed)
    if as_json:
        emit_json({"store": str(out), "frames": frames, "doses_e_per_A2": doses})
    else:
        console.print(f"{out}: {frames} frames from {doses[0]:.3g} to {doses[-1]:.3g} e-/Å²")


def stem(
    out: Annotated[Path, typer.Option(help="Output zarr store (created, or resumed if it exists).")],
    n: Annotated[int, typer.Option(help="Number of images.")] = 100,
    size: Annotated[int, typer.Option(help="Image size in pixels (square).")] = 256,
    dose_range: Annotated[
        tuple[float, float],
        typer.Option(help="Dose limits in e-/Å² at the brightest column (drawn log-uniformly)."),
    ] = (1e2, 1e5),
    pixel_size_range: Annotated[
        tuple[float, float], typer.Option(help="Pixel size limits in Å/px (drawn uniformly).")
    ] = (0.08, 0.2),
    materials: Annotated[
        str, typer.Option(help="Comma-separated materials, e.g. 'Au,SrTiO3[110]'; 'all' for every one.")
    ] = "all",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (chunks of images each).")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """ADF-STEM crystal images (incoherent model) with noisy, noise_free, clean, superres and mask."""
    from dosewise.io import DatasetStore
    from dosewise.simulate import simulate_stem_dataset

    _check_dose_range(dose_range)
    for name, value in (("--n", n), ("--size", size), ("--workers", workers)):
        if value < 1:
            raise InvalidParameterError(f"{name} must be >= 1, got {value}")
    low, high = pixel_size_range
    if not 0 < low <= high:
        raise InvalidParameterError(f"pixel size range must satisfy 0 < A <= B Å/px, got {low} {high}")
    simulate_stem_dataset(
        out,
        n,
        size_px=size,
        dose_range_e_per_A2=dose_range,
        pixel_size_range_A=pixel_size_range,
        materials=None if materials.strip().lower() == "all" else materials,
        seed=seed,
        workers=workers,
    )
    count = len(DatasetStore.open(out))
    if as_json:
        emit_json({"store": str(out), "samples": count, "size_px": size})
    else:
        console.print(f"{out}: {count} labelled STEM images")
