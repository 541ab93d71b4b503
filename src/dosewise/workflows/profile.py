"""The Python face of ``dosewise profile``: particle diameters, edge width and resolution
from a line profile through a file (Katsuno et al. 2022), with its CSV, figure and JSON.

It exists so that a notebook gets the command's report (and files) in one call;
:func:`dosewise.analysis.line_profile` and :func:`dosewise.analysis.analyse_profile` are
the steps it calls for the raw image and, when given, its denoised twin.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.analysis import analyse_profile, line_profile
from dosewise.analysis.profile_result import Polarity, as_polarity
from dosewise.errors import DosewiseError, InvalidImageError, InvalidParameterError
from dosewise.image import EMImage
from dosewise.io import atomic_write, output_group, read_image
from dosewise.report.profile_figure import ProfilePanel, profile_figure
from dosewise.report.style import save_png
from dosewise.workflows._output import check_out_dir, refuse_existing


@dataclass(frozen=True)
class ProfileResult:
    """The report :func:`profile_file` wrote to ``json`` (and emits), its files and panels."""

    report: dict[str, Any]
    csv: Path
    png: Path
    json: Path
    panels: dict[str, ProfilePanel]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise profile --json`` (the content of profile.json)."""
        return self.report


def profile_file(
    image_path: str | Path,
    start: tuple[float, float],
    end: tuple[float, float],
    out_dir: str | Path,
    *,
    denoised: str | Path | None = None,
    width_px: int = 1,
    pixel_size_A: float | None = None,
    particles: int | None = None,
    polarity: Polarity | str = Polarity.dark,
    background_fraction: float = 0.15,
    overwrite: bool = False,
) -> ProfileResult:
    """Fit blurred spheres to the profile ``start`` -> ``end`` (x, y in px; x = column) of the
    2-D image ``image_path``, averaged over ``width_px``; with ``denoised`` (the same field of
    view restored) its profile is fitted too and drawn. Writes ``profile.csv``,
    ``profile.png`` and ``profile.json`` into ``out_dir``.

    ``particles`` forces 1 or 2 (default: count the dips); ``pixel_size_A`` overrides the
    file's (else the denoised file's) and gives lengths in nm. The three files appear together
    or not at all; existing ones are refused unless ``overwrite``.
    """
    image_path = Path(image_path)
    denoised = Path(denoised) if denoised is not None else None
    out_dir = Path(out_dir)
    if width_px < 1:
        raise InvalidParameterError(f"--width must be >= 1 px, got {width_px}")
    if particles is not None and particles not in (1, 2):
        raise InvalidParameterError(f"--particles must be 1 or 2, got {particles}")
    polarity = as_polarity(polarity)
    check_out_dir(out_dir)
    csv_path, png_path, json_path = out_dir / "profile.csv", out_dir / "profile.png", out_dir / "profile.json"
    refuse_existing([csv_path, png_path, json_path], overwrite)
    raw = _read_2d(image_path)
    inputs = [image_path]
    images = {"raw": (image_path, raw)}
    if denoised is not None:
        restored = _read_2d(denoised)
        if restored.data.shape != raw.data.shape:
            raise InvalidImageError(
                f"shape {restored.data.shape} differs from {image_path}'s {raw.data.shape}; "
                "the profile needs the same field of view", denoised,
            )
        images["denoised"] = (denoised, restored)
        inputs.append(denoised)
    pixel_size_A = pixel_size_A if pixel_size_A is not None else raw.pixel_size_A
    if pixel_size_A is None and denoised is not None:
        pixel_size_A = images["denoised"][1].pixel_size_A

    primary = "denoised" if denoised is not None else "raw"
    panels: dict[str, ProfilePanel] = {}
    for label, (path, image) in images.items():
        try:
            profile = line_profile(image.data, start, end, width_px=width_px, pixel_size_A=pixel_size_A)
        except DosewiseError as error:
            raise type(error)(error.problem, path) from None
        try:
            analysis = analyse_profile(profile, n_particles=particles, polarity=polarity,
                                       background_fraction=background_fraction)
            panels[label] = ProfilePanel(label, profile, analysis)
        except DosewiseError as error:
            if label == primary:
                raise type(error)(error.problem, path) from None
            panels[label] = ProfilePanel(label, profile, error=error.problem)

    out_dir.mkdir(parents=True, exist_ok=True)
    report = _report(image_path, denoised, panels, pixel_size_A, csv_path, png_path, json_path)
    figure = profile_figure(images[primary][1].data, list(panels.values()), title=image_path.name)
    with output_group():
        with atomic_write(csv_path, inputs=inputs) as tmp:
            _write_csv(tmp, panels)
        save_png(png_path, figure, inputs=inputs)
        with atomic_write(json_path, inputs=inputs) as tmp:
            tmp.write_text(json.dumps(report, indent=2) + "\n")
    return ProfileResult(report=report, csv=csv_path, png=png_path, json=json_path, panels=panels)


def _read_2d(path: Path) -> EMImage:
    image = read_image(path)
    if image.data.ndim != 2:
        raise InvalidImageError(f"is a stack of shape {image.data.shape}; profiles need one 2-D image", path)
    return image


def _report(
    image_path: Path, denoised: Path | None, panels: dict[str, ProfilePanel], pixel_size_A: float | None,
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


def _write_csv(path: Path, panels: dict[str, ProfilePanel]) -> None:
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
