"""Load a series of frames of rising dose for a dose sweep.

Three sources, one result (:class:`DoseSeries`):

- a store written by ``dosewise simulate dose-series`` (or any simulated store): frames,
  exact masks and each frame's dose from its metadata;
- one multi-frame file (TIFF stack, DM4/EMD series, MRC, NPY): one frame per dose;
- a folder of single images, in name order.

For real files the doses are given (``doses``): no reader finds per-frame doses in vendor
metadata yet, and a series whose doses are unknown is refused rather than guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io import SUPPORTED_SUFFIXES, DatasetStore, read_image
from dosewise.io.store import is_store
from dosewise.units import DoseUnit, as_dose_unit, dose_e_per_A2 as to_e_per_A2


@dataclass
class DoseSeries:
    """Frames (each ``(H, W)`` float32), their doses in e-/Å² and, when known, the true masks."""

    frames: list[np.ndarray]
    doses_e_per_A2: np.ndarray
    names: list[str]
    source: Path
    true_masks: list[np.ndarray] | None = None
    pixel_size_A: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def nearest_frame(self, dose_e_per_A2: float) -> int:
        """Index of the frame whose dose is closest in log dose."""
        return int(np.argmin(np.abs(np.log(self.doses_e_per_A2) - np.log(dose_e_per_A2))))


def parse_doses(text: str) -> list[float]:
    """Doses as 'd1,d2,...' or the path of a text/CSV file with one dose per line (first column);
    every dose a finite positive number."""
    path = Path(text)
    source = path if path.is_file() else None
    if source is not None:
        values = []
        for line in path.read_text(encoding="utf-8").splitlines():
            field = line.split(",")[0].strip()
            if not field or field.startswith("#"):
                continue
            try:
                values.append(float(field))
            except ValueError:
                if values:  # a header is allowed on the first line only
                    raise InvalidParameterError(f"not a dose: {field!r}", path) from None
    else:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise InvalidParameterError(
                f"doses must be 'd1,d2,...' in e-/Å² or an existing file with one dose per line, got {text!r}"
            ) from None
    for value in values:
        if not (math.isfinite(value) and value > 0):
            raise InvalidParameterError(f"a dose must be a finite number > 0, got {value}", source)
    return values


def load_dose_series(
    path: str | Path,
    *,
    doses: list[float] | None = None,
    dose_unit: DoseUnit | str = DoseUnit.per_A2,
    pixel_size_A: float | None = None,
    store_key: str = "noisy",
) -> DoseSeries:
    """Read a series; ``doses`` (in ``dose_unit``, 'e/A2' or 'e/px') override any metadata."""
    path = Path(path)
    if not path.exists():
        raise InputFileError("not found", path)
    if is_store(path):
        series = _from_store(path, store_key)
    elif path.is_dir():
        series = _from_folder(path)
    else:
        series = _from_file(path)
    if pixel_size_A is not None:
        series.pixel_size_A = float(pixel_size_A)
    if doses is not None:
        series.doses_e_per_A2 = _given_doses(doses, dose_unit, len(series), series.pixel_size_A, path)
    if np.isnan(series.doses_e_per_A2).any():
        missing = int(np.isnan(series.doses_e_per_A2).sum())
        raise InvalidParameterError(
            f"the dose of {missing} of {len(series)} frames is unknown: give --doses (one per frame)", path)
    if np.any(series.doses_e_per_A2 <= 0):
        raise InvalidParameterError("frame doses must be > 0", path)
    if len(series) < 2:
        raise InvalidParameterError("a dose series needs at least 2 frames", path)
    return series


def _given_doses(doses: list[float], unit: DoseUnit | str, n_frames: int, pixel_size_A: float | None,
                 path: Path) -> np.ndarray:
    if len(doses) != n_frames:
        raise InvalidParameterError(f"{len(doses)} doses given for {n_frames} frames", path)
    values = np.asarray(doses, dtype=np.float64)
    if as_dose_unit(unit) is DoseUnit.per_A2:
        return values
    if pixel_size_A is None:
        raise InvalidParameterError("doses in e-/px need a pixel size: the file has none, give --pixel-size",
                                    path)
    return np.array([to_e_per_A2(d, pixel_size_A) for d in values])


def _from_store(path: Path, key: str) -> DoseSeries:
    store = DatasetStore.open(path)
    ids = store.ids()
    frames, masks, doses, pixel_sizes = [], [], [], []
    for sample_id in ids:
        sample = store.sample(sample_id)
        if key not in sample.names:
            raise InvalidParameterError(f"sample {sample_id} has no array {key!r} (has {sample.names})", path)
        frames.append(sample.array(key).astype(np.float32))
        if "mask" in sample.names:
            masks.append(sample.array("mask") > 0)
        doses.append(float(sample.metadata.get("dose_e_per_A2", np.nan)))
        pixel_sizes.append(sample.metadata.get("pixel_size_A"))
    return DoseSeries(frames=frames, doses_e_per_A2=np.asarray(doses), names=ids, source=path,
                      true_masks=masks if len(masks) == len(frames) else None,
                      pixel_size_A=pixel_sizes[0] if pixel_sizes else None)


def _unknown_doses(n_frames: int) -> np.ndarray:
    return np.full(n_frames, np.nan)


def _from_file(path: Path) -> DoseSeries:
    image = read_image(path)
    data = image.data if image.data.ndim == 3 else image.data[None]
    return DoseSeries(frames=list(data), doses_e_per_A2=_unknown_doses(len(data)),
                      names=[f"{path.stem}[{i}]" for i in range(len(data))], source=path,
                      pixel_size_A=image.pixel_size_A)


def _from_folder(path: Path) -> DoseSeries:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        raise InputFileError(f"no readable images ({', '.join(SUPPORTED_SUFFIXES)}) in the folder", path)
    images = [read_image(p, frame=0) for p in files]
    shapes = {im.data.shape for im in images}
    if len(shapes) > 1:
        raise InvalidParameterError(f"frames of a series must share one shape, found {sorted(shapes)}", path)
    return DoseSeries(frames=[im.data for im in images],
                      doses_e_per_A2=_unknown_doses(len(images)),
                      names=[p.name for p in files], source=path, pixel_size_A=images[0].pixel_size_A)
