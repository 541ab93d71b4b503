"""``dosewise profile``: particle diameter, edge width and resolution from a line profile
(Katsuno et al. 2022)."""

from __future__ import annotations

import csv
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from dosewise.cli.common import JsonFlag, console, emit_json, user_errors_exit_2
from dosewise.errors import DosewiseError, InvalidImageError, InvalidParameterError, OutputFileError


class PolarityChoice(str, Enum):
    dark = "dark"
    bright = "bright"


@user_errors_exit_2
def profile_command(
    image_path: Annotated[Path, typer.Argument(metavar="IMAGE", help="Micrograph (raw, e.g. low-dose).")],
    start: Annotated[
        tuple[float, float], typer.Option(metavar="X Y", help="Start point A in pixels (x = column).")
    ],
    end: Annotated[
        tuple[float, float], typer.Option(metavar="X Y", help="End point B in pixels (x = column).")
    ],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if missing).")],
    denoised: Annotated[
        Path | None, typer.Option(help="The same field of view restored (same shape); its profile is fitted too.")
    ] = None,
    width: Annotated[int, typer.Option(help="Band width in px averaged across the line.")] = 1,
    pixel_size: Annotated[
        float | None, typer.Option("--pixel-size", help="Pixel size in Å/px (overrides the file's).")
    ] = None,
    particles: Annotated[
        int | None, typer.Option(help="Particles on the line, 1 or 2 (default: count the dips).")
    ] = None,
    polarity: Annotated[
        PolarityChoice, typer.Option(help="dark: particles darker than background (bright-field TEM).")
    ] = PolarityChoice.dark,
    background_fraction: Annotated[
        float, typer.Option(help="Fraction of the line at each end taken as background.")
    ] = 0.15,
    as_json: JsonFlag = False,
) -> None:
    """Fit blurred spheres to the profile A→B: background, diameters, edge width, (d1+d2)/2 < l.

    Writes profile.csv, profile.png and profile.json to the output folder.
    """
    from dosewise.analysis import analyse_profile, line_profile
    from dosewise.io import atomic_write, read_image
    from dosewise.report.style import save_png
    from dosewise.report.profile_figure import ProfilePanel, profile_figure

    if width < 1:
        raise InvalidParameterError(f"--width must be >= 1 px, got {width}")
    if particles is not None and particles not in (1, 2):
        raise InvalidParameterError(f"--particles must be 1 or 2, got {particles}")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFileError("exists and is not a folder", out_dir)
    raw = _read_2d(image_path, read_image)
    inputs = [image_path]
    images = {"raw": (image_path, raw)}
    if denoised is not None:
        restored = _read_2d(denoised, read_image)
        if restored.data.shape != raw.data.shape:
            raise InvalidImageError(
                f"shape {restored.data.shape} differs from {image_path}'s {raw.data.shape}; "
                "the profile needs the same field of view", denoised,
            )
        images["denoised"] = (denoised, restored)
        inputs.append(denoised)
    pixel_size_A = pixel_size if pixel_size is not None else raw.pixel_size_A
    if pixel_size_A is None and denoised is not None:
        pixel_size_A = images["denoised"][1].pixel_size_A

    primary = "denoised" if denoised is not None else "raw"
    panels: dict[str, ProfilePanel] = {}
    for label, (path, image) in images.items():
        try:
            profile = line_profile(image.data, start, end, width_px=width, pixel_size_A=pixel_size_A)
        except DosewiseError as error:
            raise type(error)(error.problem, path) from None
        try:
            analysis = analyse_profile(profile, n_particles=particles, polarity=polarity.value,
                                       background_fraction=background_fraction)
            panels[label] = ProfilePanel(label, profile, analysis)
        except DosewiseError as error:
            if label == primary:
                raise type(error)(error.problem, path) from None
            panels[label] = ProfilePanel(label, profile, error=error.problem)

    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path, json_path = out_dir / "profile.csv", out_dir / "profile.png", out_dir / "profile.json"
    report = _report(image_path, denoised, panels, pixel_size_A, csv_path, png_path, json_path)
    with atomic_write(csv_path, inputs=inputs) as tmp:
        _write_csv(tmp, panels)
    figure = profile_figure(images[primary][1].data, list(panels.values()), title=image_path.name)
    save_png(png_path, figure, inputs=inputs)
    with atomic_write(json_path, inputs=inputs) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        emit_json(report)
    else:
        _print_table(report)


def _read_2d(path: Path, read_image: Any) -> Any:
    image = read_image(path)
    if image.data.ndim != 2:
        raise InvalidImageError(f"is a stack of shape {image.data.shape}; profiles need one 2-D image", path)
    return image


def _report(
    image_path: Path, denoised: Path | None, panels: dict[str, Any], pixel_size_A: float | None,
    csv_path: Path, png_path: Path, json_path: Path,
) -> dict[str, Any]:
    first = next(iter(panels.values())).profile
    profiles: dict[str, Any] = {}
    for label, panel in panels.items():
        profiles[label] = panel.analysis.to_dict() if panel.analysis is not None else {"error": panel.error}
    return {
        "image": str(image_path),
        "denoised": str(denoised) if denoised is not None else None,
        "start_xy": list(first.start_xy),
        "end_xy": list(first.end_xy),
        "width_px": first.width_px,
        "length_px": first.length_px,
        "pixel_size_A": pixel_size_A,
        "profiles": profiles,
        "csv": str(csv_path),
        "png": str(png_path),
        "json": str(json_path),
    }


def _write_csv(path: Path, panels: dict[str, Any]) -> None:
    first = next(iter(panels.values())).profile
    columns: dict[str, np.ndarray] = {"distance_px": first.distance_px}
    if first.distance_nm is not None:
        columns["distance_nm"] = first.distance_nm
    columns["x_px"], columns["y_px"] = first.x_px, first.y_px
    for label, panel in panels.items():
        columns[f"{label}_intensity"] = panel.profile.values
        if panel.analysis is not None:
            columns[f"{label}_model"] = panel.analysis.model
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in zip(*columns.values(), strict=True):
            writer.writerow([f"{value:.7g}" for value in row])


def _print_table(report: dict[str, Any]) -> None:
    nm = report["pixel_size_A"] is not None
    unit = "nm" if nm else "px"
    table = Table(title=f"line profile of {Path(report['image']).name}, {report['width_px']} px wide")
    for column in ("profile", "particle", f"centre ({unit})", f"diameter ({unit})", f"edge width ({unit})",
                   "background"):
        table.add_column(column, justify="right")
    verdicts = []
    for label, result in report["profiles"].items():
        if "error" in result:
            table.add_row(label, "-", "-", "-", "-", result["error"])
            continue
        for index, particle in enumerate(result["particles"], start=1):
            se = particle[f"diameter_se_{unit}"]
            diameter = f"{particle[f'diameter_{unit}']:.4g}" + (f" ± {se:.2g}" if se is not None else "")
            table.add_row(
                label, str(index), f"{particle[f'centre_{unit}']:.4g}", diameter,
                f"{result[f'edge_width_{unit}']:.3g}", f"{result['background']:.4g}",
            )
        if result["resolved"] is not None:
            verdicts.append(f"{label}: l = {result[f'separation_{unit}']:.4g} {unit}, "
                            f"{'resolved' if result['resolved'] else 'not resolved'} ((d1 + d2)/2 < l)")
    console.print(table)
    for line in verdicts:
        console.print(line)
    console.print(f"wrote {report['csv']}, {report['png']}, {report['json']}")
