"""dosewise for hyperspy users: a ``Signal2D`` in, a ``Signal2D`` out, calibrated as it came.

Materials microscopists keep their data as hyperspy signals (a DM4 opened with ``hs.load``, a
stack of frames, a lazy signal too large for memory). These functions run the shipped (or any)
dosewise model over every image of such a signal with ``Signal.map``, so stacks and lazy signals
work as hyperspy users expect, and return a new signal with the same axes (names, units, scales,
offsets), a deep copy of the metadata and ``original_metadata``, and one record per dosewise step
appended to ``metadata.Processing.dosewise``: operation, dosewise version, model file and its
SHA-256, the dose when known, and the settings. hyperspy is an optional import
(``pip install 'dosewise[hyperspy]'``).

    import hyperspy.api as hs
    from dosewise import hyperspy as dw

    frame = hs.load("particle.dm4")
    clean = dw.denoise(frame)                    # the shipped denoiser
    mask = dw.segment(clean)                     # the shipped particle segmenter, boolean
    full = dw.supersample(hs.load("scan.dm4"), coverage="1/25")   # a 5x larger, finer-scaled signal
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dosewise.checkpoint import load_model
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.infer.segmentation import default_segmenter_path
from dosewise.infer.segmentation import segment as segment_image
from dosewise.infer.supersample import Supersampler, default_supersampler_path, full_grid
from dosewise.io.metadata import processing_record
from dosewise.physics.partial_scan import parse_coverage

PROCESSING_PATH = "Processing.dosewise"
"""Where in ``metadata`` the list of dosewise steps is kept."""


def denoise(signal: Any, model: str | Path | None = None, *, backend: str = "torch", device: str = "auto",
            dose_e_per_A2: float | None = None) -> Any:
    """Every image of ``signal`` denoised (float32, the input's units), same axes and metadata."""
    checkpoint = Path(model) if model is not None else default_model_path()
    denoiser = Denoiser.from_checkpoint(checkpoint, backend=backend, device=device)
    out = _map(signal, denoiser, np.float32)
    return _recorded(out, signal, "denoise", checkpoint, dose_e_per_A2, {"backend": backend})


def segment(signal: Any, model: str | Path | None = None, *, threshold: float | None = None,
            device: str = "auto", dose_e_per_A2: float | None = None) -> Any:
    """The particle mask (bool) of every image of ``signal``, same axes and metadata."""
    checkpoint = Path(model) if model is not None else default_segmenter_path()
    loaded = load_model(checkpoint)
    if loaded.task != "segment":
        raise InvalidParameterError(f"checkpoint is a {loaded.task!r} model, not a segmentation model", checkpoint)
    out = _map(signal, lambda image: segment_image(image, loaded, threshold=threshold, device=device).mask, bool)
    used = loaded.threshold if threshold is None else threshold
    return _recorded(out, signal, "segment", checkpoint, dose_e_per_A2, {"threshold": used})


def supersample(signal: Any, coverage: str | float, model: str | Path | None = None, *,
                offset: tuple[int, int] = (0, 0), device: str = "auto", dose_e_per_A2: float | None = None) -> Any:
    """``signal`` holds the probes of a partial scan at coverage 1/s² (every s-th probe of the full
    grid, from ``offset``); the result is the full grid, s times larger with s times finer scales."""
    step = parse_coverage(coverage)
    checkpoint = Path(model) if model is not None else default_supersampler_path()
    supersampler = Supersampler(checkpoint, device=device)

    def fill(samples: np.ndarray) -> np.ndarray:
        shape = (samples.shape[0] * step, samples.shape[1] * step)
        return supersampler.fill(*full_grid(np.asarray(samples, np.float32), step, offset, shape)).image

    out = _map(signal, fill, np.float32, scale=step)
    for axis in out.axes_manager.signal_axes:
        axis.scale = axis.scale / step
    return _recorded(out, signal, "supersample", checkpoint, dose_e_per_A2,
                     {"coverage": f"1/{step * step}", "offset_px": list(offset)})


def _map(signal: Any, function: Any, dtype: Any, scale: int = 1) -> Any:
    """``function`` over every image of ``signal`` (eager or lazy), axes and metadata kept."""
    _check_signal2d(signal)
    height, width = (axis.size for axis in reversed(signal.axes_manager.signal_axes))
    out = signal.map(lambda image: function(np.asarray(image, np.float32)).astype(dtype), inplace=False,
                     show_progressbar=False, output_dtype=dtype, output_signal_size=(height * scale, width * scale))
    # map(inplace=False) deep-copies metadata, original_metadata and the navigation axes; the
    # signal axes keep names, units and offsets (scales are the caller's when the size changes)
    for source, target in zip(signal.axes_manager.signal_axes, out.axes_manager.signal_axes):
        target.name, target.units, target.offset, target.scale = source.name, source.units, source.offset, source.scale
    return out


def _check_signal2d(signal: Any) -> None:
    manager = getattr(signal, "axes_manager", None)
    if manager is None or not hasattr(signal, "map"):
        raise InvalidImageError(f"expected a hyperspy signal, got {type(signal).__name__}")
    if manager.signal_dimension != 2:
        raise InvalidImageError(f"expected a Signal2D (images), got a signal of dimension {manager.signal_dimension}: "
                                "use signal.as_signal2D((x, y)) to say which axes are the image")


def _recorded(out: Any, source: Any, operation: str, checkpoint: Path, dose_e_per_A2: float | None,
              settings: dict[str, Any]) -> Any:
    """``out`` with this step appended to ``metadata.Processing.dosewise`` and a title saying so."""
    steps = list(source.metadata.get_item(PROCESSING_PATH, default=[]) or [])
    steps.append(processing_record(operation, checkpoint, dose_e_per_A2=dose_e_per_A2, **settings))
    out.metadata.set_item(PROCESSING_PATH, steps)
    title = source.metadata.get_item("General.title", default="") or "image"
    out.metadata.set_item("General.title", f"{title} ({operation}d by dosewise)" if operation != "segment"
                          else f"{title} (particle mask, dosewise)")
    return out
