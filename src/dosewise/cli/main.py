"""The ``dosewise`` command line: image commands, the simulator group and the demo.

Every command turns a :class:`~dosewise.errors.DosewiseError` into one line on
stderr and exit code 2; every command that reports numbers takes ``--json`` and
then prints exactly one JSON object on stdout (progress goes to stderr).
"""

from __future__ import annotations

from enum import Enum
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.cli.denoise import denoise_command
from dosewise.cli.dose_sweep import dose_study_command, dose_sweep_command
from dosewise.cli.pretrain import compare_command, finetune_command, pretrain_command
from dosewise.cli.profile import profile_command
from dosewise.cli.segment import segment_command
from dosewise.cli.simulate import simulate_app
from dosewise.cli.stream import stream_command
from dosewise.cli.supersample import evaluate_app, supersample_command, train_supersample
from dosewise.cli.train import train_app
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.physics.mtf_fit import NoiseFloor

app = typer.Typer(
    help="dosewise: see more with fewer electrons. Low-dose EM image simulation, restoration and analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(simulate_app, name="simulate")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")


def _version_callback(value: bool) -> None:
    if value:
        print(f"dosewise {version('dosewise')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """dosewise: see more with fewer electrons."""


# --------------------------------------------------------------------------- info
@app.command()
@user_errors_exit_2
def info(
    path: Annotated[Path, typer.Argument(help="Image file (TIFF, PNG, NPY, MRC, DM3/DM4, EMD, SER, HSPY/HDF5).")],
    as_json: JsonFlag = False,
) -> None:
    """Shape, dtype, pixel size, value range and format of an image file."""
    from dosewise.io import read_image

    image = read_image(path)
    data = image.data
    summary = {
        "file": str(path),
        "format": image.format,
        "shape": list(image.shape),
        "n_frames": image.n_frames,
        "dtype": image.original_dtype,
        "pixel_size_A": image.pixel_size_A,
        "min": float(data.min()),
        "max": float(data.max()),
        "mean": float(data.mean()),
        "std": float(data.std()),
    }
    if as_json:
        emit_json(summary)
        return
    table = Table(show_header=False, title=str(path))
    for key, value in summary.items():
        if key == "pixel_size_A" and value is None:
            value = "not calibrated"
        elif isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(key, str(value))
    Console().print(table)


# --------------------------------------------------------------------------- noise
class DoseUnit(str, Enum):
    per_A2 = "e/A2"
    per_px = "e/px"


@app.command()
@user_errors_exit_2
def noise(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Clean image (its mean is taken as intensity 1).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file (.tif, .npy, .png).")],
    dose: Annotated[float, typer.Option(help="Frame dose, in the unit of --dose-unit.")],
    dose_unit: Annotated[DoseUnit, typer.Option(help="Unit of --dose.")] = DoseUnit.per_A2,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    mtf: Annotated[
        str | None, typer.Option(help="Detector MTF: a preset mtf1..mtf5 or preset .yaml file (drawn with --seed), or c0,c3,C.")
    ] = None,
    readout: Annotated[
        float | None, typer.Option(help="Readout noise N0 in e-/px (default: the preset's draw, else 0).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Add detector noise (Larsen et al. 2023, eq. 3): MTF[Poisson(dose · I)] + Poisson(N0)."""
    from dosewise.io import read_image, write_image
    from dosewise.physics import MTFParams, detector_image, parse_mtf
    from dosewise.units import dose_e_per_px

    image = read_image(input_path)
    pixel_size_A = pixel_size if pixel_size is not None else image.pixel_size_A
    if dose_unit is DoseUnit.per_A2:
        if pixel_size_A is None:
            raise InvalidParameterError(
                "file has no pixel size: give --pixel-size in Å/px or use --dose-unit e/px", input_path
            )
        dose_px = dose_e_per_px(dose, pixel_size_A)
    else:
        if dose <= 0:
            raise InvalidParameterError(f"dose must be > 0 e-/px, got {dose}")
        dose_px = float(dose)
    rng = np.random.default_rng(seed)
    mtf_params: MTFParams | None = None
    n0 = 0.0
    if mtf is not None:
        parsed = parse_mtf(mtf)
        if isinstance(parsed, MTFParams):
            mtf_params = parsed
        else:
            mtf_params, n0 = parsed.sample(rng)
    if readout is not None:
        if readout < 0:
            raise InvalidParameterError(f"readout N0 must be >= 0 e-/px, got {readout}")
        n0 = float(readout)

    frames = image.data if image.data.ndim == 3 else image.data[None]
    noisy = np.empty_like(frames, dtype=np.float32)
    for index, frame in enumerate(frames):
        mean = float(frame.mean())
        if mean <= 0:
            raise InvalidImageError("mean intensity must be > 0 to set a dose", input_path)
        noisy[index] = detector_image(frame / mean, dose_px, mtf=mtf_params, n0_e_per_px=n0, seed=rng)
    result = noisy if image.data.ndim == 3 else noisy[0]
    written = write_image(output, result, inputs=[input_path], pixel_size_A=pixel_size_A)
    report = {
        "input": str(input_path),
        "output": str(written),
        "dose_e_per_px": dose_px,
        "dose_e_per_A2": dose_px / pixel_size_A**2 if pixel_size_A else None,
        "mtf": mtf_params.model_dump() if mtf_params is not None else None,
        "n0_e_per_px": n0,
        "seed": seed,
    }
    if as_json:
        emit_json(report)
    else:
        console.print(f"wrote {written} (dose {dose_px:.4g} e-/px, N0 {n0:.4g} e-/px)")


# --------------------------------------------------------------------------- fit-mtf
@app.command("fit-mtf")
@user_errors_exit_2
def fit_mtf_command(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Image (or stack) with a vacuum region.")],
    region: Annotated[
        tuple[int, int, int, int],
        typer.Option(help="Vacuum region x0 y0 x1 y1 in pixels (x = column, end exclusive)."),
    ],
    plot: Annotated[
        Path | None,
        typer.Option(help="PNG of spectrum + fit (default: <IN stem>_mtf_fit.png in --out, else here)."),
    ] = None,
    frame: Annotated[int, typer.Option(help="Frame of a stack to plot (all frames are fitted).")] = 0,
    floor: Annotated[
        NoiseFloor,
        typer.Option(
            help="Spectrum form: 'mtf' fits Larsen et al. 2023, eq. A.1 (tail C belongs to the "
            "MTF); 'readout' fits the eq. 3 vacuum spectrum sqrt(N_D·MTF²+N0), unbiased C for an "
            "N0 fit over a dose series."
        ),
    ] = NoiseFloor.mtf,
    doses: Annotated[
        str | None,
        typer.Option(help="Dose of every frame, 'd1,d2,...' or a text/CSV file with one per line; "
                     "fits N0 from C² = N0/(N0+N_D) (Larsen et al. 2023, Fig. 6)."),
    ] = None,
    dose_unit: Annotated[DoseUnit, typer.Option(help="Unit of --doses.")] = DoseUnit.per_A2,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="Folder (created if missing) for mtf_series.csv and, with doses, "
                     "mtf_vs_dose.png and readout_n0.png."),
    ] = None,
    preset_out: Annotated[
        Path | None,
        typer.Option(help="Write the fitted ranges as an MTF preset (.yaml) for --mtf of the simulator."),
    ] = None,
    min_r2: Annotated[
        float, typer.Option(help="Frames whose fit reaches this R² shape the preset and get a white dot.")
    ] = 0.98,
    as_json: JsonFlag = False,
) -> None:
    """Fit the detector MTF (Larsen et al. 2023, eq. A.1 -> eq. 1) to a vacuum region's noise
    spectrum.

    With the frame doses: c0, c3, C against dose (Fig. 5), readout N0 (eq. 2, Fig. 6) and a preset.
    """
    from dosewise.analysis.dose_series import parse_doses
    from dosewise.errors import OutputFileError
    from dosewise.io import read_image
    from dosewise.physics.mtf_presets import write_preset_yaml
    from dosewise.physics.mtf_series import crop_region, fit_mtf_series
    from dosewise.report.figures import mtf_fit_figure, mtf_vs_dose_figure, readout_fit_figure
    from dosewise.report.style import save_png
    from dosewise.units import dose_e_per_px

    image = read_image(input_path)
    x0, y0, x1, y1 = region
    crop_region(image.data, region, input_path)
    frames = image.data if image.data.ndim == 3 else image.data[None]
    if not 0 <= frame < len(frames):
        raise InvalidParameterError(f"frame {frame} out of range 0..{len(frames) - 1}", input_path)
    pixel_size_A = pixel_size if pixel_size is not None else image.pixel_size_A
    if pixel_size_A is not None and pixel_size_A <= 0:
        raise InvalidParameterError(f"pixel size must be > 0 Å/px, got {pixel_size_A}", input_path)
    inputs = [input_path]
    given, unit = None, dose_unit
    if doses is not None:
        given = parse_doses(doses)
        if Path(doses).is_file():
            inputs.append(Path(doses))
    doses_px = None
    if given is not None:
        if len(given) != len(frames):
            raise InvalidParameterError(f"{len(given)} doses given for {len(frames)} frames: give one per frame",
                                        input_path)
        if unit is DoseUnit.per_A2:
            if pixel_size_A is None:
                raise InvalidParameterError(
                    "file has no pixel size: give --pixel-size in Å/px or use --dose-unit e/px", input_path
                )
            doses_px = [dose_e_per_px(d, pixel_size_A) for d in given]
        else:
            doses_px = given
    if preset_out is not None and (doses_px is None or len(frames) < 2):
        raise InvalidParameterError("--preset-out needs the N0 fit: a stack of >= 2 frames and --doses", input_path)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)

    series = fit_mtf_series(frames, doses_px, region, floor.value, pixel_size_A=pixel_size_A, source=input_path)
    preset = series.to_preset(preset_out.stem, min_r2=min_r2) if preset_out is not None else None
    fits = series.fits

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    default_dir = out_dir if out_dir is not None else Path()
    plot_path = plot if plot is not None else default_dir / f"{input_path.stem}_mtf_fit.png"
    figure = mtf_fit_figure(fits[frame], title=f"{input_path.name}, frame {frame}, region {x0} {y0} {x1} {y1}")
    save_png(plot_path, figure, inputs=inputs)
    files: dict[str, str | None] = {"csv": None, "mtf_vs_dose": None, "readout_n0": None, "preset": None}
    if out_dir is not None:
        files["csv"] = str(series.write_csv(out_dir / "mtf_series.csv", inputs=inputs))
        if doses_px is not None:
            files["mtf_vs_dose"] = str(save_png(
                out_dir / "mtf_vs_dose.png",
                mtf_vs_dose_figure(series, min_r2=min_r2, title=f"{input_path.name}: MTF fits against dose"),
                inputs=inputs))
    if series.readout is not None and out_dir is not None:
        figure = readout_fit_figure(
            series.doses_e_per_px, [f.readout_fit.C for f in series.frames], series.readout.n0_e_per_px,
            squared=True, r2=series.readout.r2, title=f"{input_path.name}: readout noise (eq. 2)")
        files["readout_n0"] = str(save_png(out_dir / "readout_n0.png", figure, inputs=inputs))
    if preset_out is not None:
        provenance = {"input": input_path, "region": list(region), "frames": len(frames),
                      "frames_used": len(series.accepted(min_r2)), "min_r2": min_r2,
                      "n0_e_per_px": series.readout.n0_e_per_px, "n0_r2": series.readout.r2}
        files["preset"] = str(write_preset_yaml(preset_out, preset, provenance=provenance, inputs=inputs))

    rows = series.rows()
    if as_json:
        readout = series.readout
        emit_json({
            "input": str(input_path), "region": [x0, y0, x1, y1], "plot": str(plot_path), "floor": floor.value,
            "pixel_size_A": pixel_size_A, "fits": rows,
            "readout": None if readout is None else {"n0_e_per_px": readout.n0_e_per_px, "r2": readout.r2,
                                                     "fitted_with": "floor=readout C of every frame"},
            "preset": None if preset is None else preset.model_dump(), "files": files,
        })
        return
    table = Table(title=f"MTF fit (eq. 1) of {input_path.name}, region {x0} {y0} {x1} {y1}")
    with_dose = doses_px is not None
    columns = ("frame", "e⁻/Å²", "e⁻/px", "c0", "c3", "C", "R²") if with_dose else ("frame", "c0", "c3", "C", "R²")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        cells = [str(row["frame"])]
        if with_dose:
            a2 = row["dose_e_per_A2"]
            cells += ["" if a2 is None else f"{a2:.4g}", f"{row['dose_e_per_px']:.4g}"]
        cells += [f"{row['c0']:.4f}", f"{row['c3']:.3f}", f"{row['C']:.4f}", f"{row['r2']:.4f}"]
        table.add_row(*cells)
    Console().print(table)
    if series.readout is not None:
        console.print(f"readout noise N0 = {series.readout.n0_e_per_px:.4g} e-/px "
                      f"(eq. 2 on the floor=readout tails, R² {series.readout.r2:.3f})")
    console.print(f"wrote {', '.join([str(plot_path)] + [v for v in files.values() if v])}")


# --------------------------------------------------------------------------- subsample
@app.command()
@user_errors_exit_2
def subsample(
    input_path: Annotated[Path, typer.Argument(metavar="IN", help="Full STEM image.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file (.tif, .npy, .png).")],
    coverage: Annotated[str, typer.Option(help="Probe coverage 1/s², e.g. 1/25.")],
    offset: Annotated[tuple[int, int], typer.Option(help="Grid offset (row, column) of the first probe.")] = (0, 0),
    samples_only: Annotated[
        bool, typer.Option("--samples-only", help="Write only the small image of kept probe positions.")
    ] = False,
    mask_out: Annotated[Path | None, typer.Option(help="Also write the sampling mask here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Partial STEM scan (Ede 2020): keep every s-th probe position, fill the rest by nearest
    neighbour."""
    from dosewise.io import read_image, write_image
    from dosewise.physics import parse_coverage, partial_scan

    image = read_image(input_path)
    if image.data.ndim != 2:
        raise InvalidImageError(f"expected one 2-D image, got shape {image.shape}", input_path)
    step = parse_coverage(coverage)
    if any(o < 0 or o >= step for o in offset):
        raise InvalidParameterError(f"offset {offset} must lie in 0..{step - 1} for coverage 1/{step * step}")
    scan = partial_scan(image.data, step, offset=offset)
    written = write_image(output, scan.samples if samples_only else scan.filled, inputs=[input_path])
    if mask_out is not None:
        write_image(mask_out, scan.mask.astype(np.float32), inputs=[input_path])
    report = {
        "input": str(input_path),
        "output": str(written),
        "mask": str(mask_out) if mask_out else None,
        "step": step,
        "coverage": scan.coverage,
        "offset": list(offset),
        "probe_positions": int(scan.mask.sum()),
        "samples_shape": list(scan.samples.shape),
    }
    if as_json:
        emit_json(report)
    else:
        console.print(
            f"wrote {written}: {report['probe_positions']} probe positions "
            f"({scan.samples.shape[0]}x{scan.samples.shape[1]}), coverage 1/{step * step}"
        )


# --------------------------------------------------------------------------- models
@app.command()
@user_errors_exit_2
def models(as_json: JsonFlag = False) -> None:
    """The network registry: name, parameter count and theoretical receptive field."""
    from dosewise.models import ModelConfig, list_models, model_info

    rows = [model_info(ModelConfig(name=name)) for name in list_models()]
    if as_json:
        emit_json({"models": rows})
        return
    table = Table(title="dosewise models (defaults; `--json` adds descriptions)")
    for column in ("name", "parameters", "receptive field (px)"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in rows:
        table.add_row(row["name"], f"{row['parameters']:,}", str(row["receptive_field_px"]))
    Console().print(table)


app.command("segment")(segment_command)
app.command("denoise")(denoise_command)
app.command("stream")(stream_command)
app.command("pretrain")(user_errors_exit_2(pretrain_command))
app.command("finetune")(user_errors_exit_2(finetune_command))
app.command("compare")(user_errors_exit_2(compare_command))
app.command("profile")(profile_command)
app.command("supersample")(supersample_command)
app.command("dose-sweep")(dose_sweep_command)
app.command("dose-study")(dose_study_command)
train_app.command("supersample")(train_supersample)


# --------------------------------------------------------------------------- demo
@app.command()
@user_errors_exit_2
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for report.html and its data.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    quick: Annotated[bool, typer.Option(help="A smaller, faster run (about a minute) for a first look.")] = False,
) -> None:
    """Simulate Au/CeO2 HRTEM, fit the MTF, train and apply a segmentation net; write <out>/report.html."""
    from dosewise.experiments.demo import FULL, QUICK, run_demo

    report_path = run_demo(out, seed=seed, settings=QUICK if quick else FULL, console=console)
    console.print(f"[bold green]report:[/] {report_path}")
