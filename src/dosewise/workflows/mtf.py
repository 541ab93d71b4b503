"""The Python face of ``dosewise fit-mtf``: the detector MTF (Larsen et al. 2023, eq. A.1 ->
eq. 1) fitted to a vacuum region of every frame of a file, with its figures, CSV and preset.

It exists so that a notebook runs the whole command (region and dose checks, unit
conversion, series fit, the files it writes) with one call and gets the numbers it reports.
"""

from __future__ import annotations

import math

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dosewise.analysis.dose_series import parse_doses
from dosewise.errors import InvalidParameterError
from dosewise.io import output_group, read_image
from dosewise.physics.mtf_fit import NoiseFloor
from dosewise.physics.mtf_presets import MTFPreset, write_preset_yaml
from dosewise.physics.mtf_series import MTFSeriesFit, crop_region, fit_mtf_series
from dosewise.report.figures import mtf_fit_figure, mtf_vs_dose_figure, readout_fit_figure
from dosewise.report.style import save_png
from dosewise.units import DoseUnit, as_dose_unit, check_pixel_size_A, dose_e_per_px
from dosewise.workflows._output import check_out_dir, refuse_existing

Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class MTFFileResult:
    """The series fit of :func:`fit_mtf_file` and the files it wrote (``files``: csv,
    mtf_vs_dose, readout_n0, preset; ``None`` where not written)."""

    input: Path
    region: Region
    plot: Path
    floor: str
    pixel_size_A: float | None
    series: MTFSeriesFit
    preset: MTFPreset | None
    files: dict[str, str | None]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per frame: dose, c0, c3, C, R² (and the floor=readout fit)."""
        return self.series.rows()

    @property
    def with_doses(self) -> bool:
        """Whether frame doses were given (the rows then carry them)."""
        return self.series.doses_e_per_px is not None

    def written(self) -> list[str]:
        """Every file written, the plot first."""
        return [str(self.plot)] + [path for path in self.files.values() if path]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dosewise fit-mtf --json``."""
        readout = self.series.readout
        return {
            "input": str(self.input), "region": list(self.region), "plot": str(self.plot), "floor": self.floor,
            "pixel_size_A": self.pixel_size_A, "fits": self.rows,
            "readout": None if readout is None else {"n0_e_per_px": readout.n0_e_per_px, "r2": readout.r2,
                                                     "fitted_with": "floor=readout C of every frame"},
            "preset": None if self.preset is None else self.preset.model_dump(), "files": self.files,
        }


def fit_mtf_file(
    input_path: str | Path,
    region: Region,
    *,
    plot: str | Path | None = None,
    frame: int = 0,
    floor: NoiseFloor | str = NoiseFloor.mtf,
    doses: str | Path | Sequence[float] | None = None,
    dose_unit: DoseUnit | str = DoseUnit.per_A2,
    pixel_size_A: float | None = None,
    out_dir: str | Path | None = None,
    preset_out: str | Path | None = None,
    min_r2: float = 0.98,
    overwrite: bool = False,
) -> MTFFileResult:
    """Fit every frame's vacuum ``region`` (x0 y0 x1 y1 in px, x = column, end exclusive).

    Writes the spectrum + fit of ``frame`` to ``plot`` (default ``<stem>_mtf_fit.png`` in
    ``out_dir``, else here). With ``out_dir``: ``mtf_series.csv`` and, with ``doses`` (one
    per frame, in ``dose_unit``: 'd1,d2,...', a text/CSV file, or numbers),
    ``mtf_vs_dose.png`` and ``readout_n0.png`` (N0 from C² = N0/(N0+N_D), Fig. 6).
    ``preset_out`` writes the fitted ranges as an MTF preset (.yaml) from the frames
    whose fit reaches ``min_r2``; it needs a stack of >= 2 frames and their doses. The files
    appear together or not at all; existing ones are refused unless ``overwrite``.
    """
    input_path = Path(input_path)
    if not (math.isfinite(min_r2) and 0.0 <= min_r2 <= 1.0):  # NaN would accept no frame, silently
        raise InvalidParameterError(f"--min-r2 must be a number in [0, 1], got {min_r2}")
    image = read_image(input_path)
    x0, y0, x1, y1 = region
    crop_region(image.data, region, input_path)
    frames = image.data if image.data.ndim == 3 else image.data[None]
    if not 0 <= frame < len(frames):
        raise InvalidParameterError(f"frame {frame} out of range 0..{len(frames) - 1}", input_path)
    pixel_size_A = pixel_size_A if pixel_size_A is not None else image.pixel_size_A
    if pixel_size_A is not None:
        check_pixel_size_A(pixel_size_A, input_path)
    inputs = [input_path]
    given = None
    if isinstance(doses, (str, Path)):
        given = parse_doses(str(doses))
        if Path(doses).is_file():
            inputs.append(Path(doses))
    elif doses is not None:
        given = [float(d) for d in doses]
    doses_px = None
    if given is not None:
        if len(given) != len(frames):
            raise InvalidParameterError(f"{len(given)} doses given for {len(frames)} frames: give one per frame",
                                        input_path)
        if as_dose_unit(dose_unit) is DoseUnit.per_A2:
            if pixel_size_A is None:
                raise InvalidParameterError(
                    "file has no pixel size: give --pixel-size in Å/px or use --dose-unit e/px", input_path
                )
            doses_px = [dose_e_per_px(d, pixel_size_A) for d in given]
        else:
            doses_px = given
    preset_out = Path(preset_out) if preset_out is not None else None
    if preset_out is not None and (doses_px is None or len(frames) < 2):
        raise InvalidParameterError("--preset-out needs the N0 fit: a stack of >= 2 frames and --doses", input_path)
    out_dir = Path(out_dir) if out_dir is not None else None
    if out_dir is not None:
        check_out_dir(out_dir)
    default_dir = out_dir if out_dir is not None else Path()
    plot_path = Path(plot) if plot is not None else default_dir / f"{input_path.stem}_mtf_fit.png"
    planned = [plot_path, preset_out]
    if out_dir is not None:
        planned += [out_dir / "mtf_series.csv"]
        if doses_px is not None:
            planned += [out_dir / "mtf_vs_dose.png"] + ([out_dir / "readout_n0.png"] if len(frames) >= 2 else [])
    refuse_existing(planned, overwrite)

    series = fit_mtf_series(frames, doses_px, region, floor, pixel_size_A=pixel_size_A, source=input_path)
    preset = series.to_preset(preset_out.stem, min_r2=min_r2) if preset_out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with output_group():
        files = _write_files(input_path, inputs, series, preset, plot_path, out_dir, doses_px is not None,
                             frame, region, min_r2, preset_out, len(frames))
    return MTFFileResult(input=input_path, region=(x0, y0, x1, y1), plot=plot_path,
                         floor=floor.value if isinstance(floor, NoiseFloor) else str(floor),
                         pixel_size_A=pixel_size_A, series=series, preset=preset, files=files)


def _write_files(input_path: Path, inputs: list[Path], series: MTFSeriesFit, preset: MTFPreset | None,
                 plot_path: Path, out_dir: Path | None, with_doses: bool, frame: int, region: Region,
                 min_r2: float, preset_out: Path | None, n_frames: int) -> dict[str, str | None]:
    """Every file of one fit: the plot, and in ``out_dir`` the table, the dose figures and the preset."""
    x0, y0, x1, y1 = region
    fits = series.fits
    figure = mtf_fit_figure(fits[frame], title=f"{input_path.name}, frame {frame}, region {x0} {y0} {x1} {y1}")
    save_png(plot_path, figure, inputs=inputs)
    files: dict[str, str | None] = {"csv": None, "mtf_vs_dose": None, "readout_n0": None, "preset": None}
    if out_dir is not None:
        files["csv"] = str(series.write_csv(out_dir / "mtf_series.csv", inputs=inputs))
        if with_doses:
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
        provenance = {"input": input_path, "region": list(region), "frames": n_frames,
                      "frames_used": len(series.accepted(min_r2)), "min_r2": min_r2,
                      "n0_e_per_px": series.readout.n0_e_per_px, "n0_r2": series.readout.r2}
        files["preset"] = str(write_preset_yaml(preset_out, preset, provenance=provenance, inputs=inputs))
    return files
