"""The models a server runs, loaded once and shared by every request, and the per-image work of
the JSON API (denoise, segment, supersample) on arrays: the same functions the commands call."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from dosewise.errors import InvalidParameterError


class ModelCache:
    """Loaded models by (checkpoint, backend), each with a lock: two cores gain nothing from
    running one network twice at once, and one copy in memory serves every request."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._models: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
        self._guard = threading.Lock()

    def get(self, task: str, checkpoint: Path, backend: str = "torch") -> tuple[Any, threading.Lock]:
        key = (f"{task}:{checkpoint}", backend)
        with self._guard:
            if key not in self._models:
                self._models[key] = (self._load(task, checkpoint, backend), threading.Lock())
            return self._models[key]

    def _load(self, task: str, checkpoint: Path, backend: str) -> Any:
        if task == "denoise":
            from dosewise.workflows.denoise import make_denoiser

            return make_denoiser(checkpoint, backend=backend, device=self.device)[0]
        if task == "segment":
            from dosewise.checkpoint import load_model

            loaded = load_model(checkpoint)
            if loaded.task != "segment":
                raise InvalidParameterError(f"{checkpoint.name} is a {loaded.task!r} model, not a segmentation model")
            return loaded
        from dosewise.infer.supersample import Supersampler

        return Supersampler(checkpoint, device=self.device)


def denoise_array(denoiser: Any, data: np.ndarray) -> np.ndarray:
    return np.asarray(denoiser(data), dtype=np.float32)


def segment_array(model: Any, data: np.ndarray, pixel_size_A: float | None, device: str) -> tuple[np.ndarray, dict]:
    """The mask (uint8 0/1) and the report: area fraction and the particle table."""
    from dosewise.image import EMImage
    from dosewise.infer.segmentation import segment

    frame = data if data.ndim == 2 else data[0]
    result = segment(EMImage(frame, pixel_size_A=pixel_size_A), model, device=device)
    particles = [{"label": p.label, "area_px": p.area_px, "area_nm2": p.area_nm2,
                  "equivalent_diameter_nm": p.equivalent_diameter_nm,
                  "centroid_x_px": p.centroid_x_px, "centroid_y_px": p.centroid_y_px} for p in result.particles]
    return result.mask.astype(np.uint8), {"area_fraction": float(result.mask.mean()), "threshold": result.threshold,
                                          "particles": particles}


def supersample_array(supersampler: Any, data: np.ndarray, coverage: str) -> tuple[np.ndarray, dict]:
    """The small scan of kept probes ``data`` filled to the full grid, and the trust earned."""
    from dosewise.infer.supersample import full_grid
    from dosewise.physics import parse_coverage

    step = parse_coverage(coverage)
    samples = data if data.ndim == 2 else data[0]
    shape = (samples.shape[0] * step, samples.shape[1] * step)
    filled = supersampler.fill(*full_grid(samples, step, (0, 0), shape))
    return np.asarray(filled.image, dtype=np.float32), {"coverage": f"1/{step * step}", "trust": filled.trust}
