"""Denoise frames of any size with a trained restoration model, on the GPU or CPU.

:class:`Denoiser` normalises each frame exactly as in training, runs the network
tile by tile (:class:`~dosewise.infer.predictor.TiledPredictor`) and returns the
network's output in the units it was trained for: a model trained with
``target_scale="input"`` (every ``dosewise train denoise`` recipe, and the
shipped model) returns the denoised frame in the input's own units (counts stay
counts), mapped back with the frame's normalisation; an older model with
stored-unit targets returns those units (vacuum ≈ 1 for simulated clean images).

Two backends share that tiling: ``"torch"`` (GPU when present, bf16/fp16
autocast, channels-last) and ``"onnx"`` (an ONNX export of the network, cached
beside the checkpoint as ``<checkpoint>.onnx`` and run by onnxruntime on the
CPU).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from dosewise.checkpoint import load_model, packaged_checkpoint
from dosewise.device import resolve_device
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.onnx_backend import OnnxForward, cached_session, export_onnx
from dosewise.infer.predictor import TiledPredictor
from dosewise.infer.runtime import Backend, Precision
from dosewise.infer.tiling import required_overlap_px
from dosewise.models import receptive_field_px

BACKENDS: tuple[str, ...] = tuple(backend.value for backend in Backend)
DEFAULT_MODEL_RESOURCE = "weights/denoise-default.ckpt"
"""The packaged default denoiser, relative to the ``dosewise`` package."""


class _Normalisation(Protocol):
    def apply(self, image: np.ndarray) -> np.ndarray: ...


class RestorationModel(Protocol):
    """What :class:`Denoiser` needs from a loaded checkpoint (``LoadedModel`` fits)."""

    network: nn.Module
    normalisation: _Normalisation
    task: str
    model_config: Any


def default_model_path() -> Path:
    """The packaged default denoising checkpoint; a one-line error when none is installed."""
    return packaged_checkpoint(DEFAULT_MODEL_RESOURCE.split("/")[-1], "denoising")


def default_overlap_px(model_config: Any, tile_px: int) -> int:
    """Enough overlap for the network's receptive field, at most half a tile."""
    try:
        needed = required_overlap_px(receptive_field_px(model_config))
    except Exception:  # a network without a known receptive field
        needed = tile_px // 4
    return min(needed, tile_px // 2)


class Denoiser:
    """A restoration model ready to denoise ``(H, W)`` frames or ``(N, H, W)`` stacks.

    ``backend="torch"`` runs on ``device`` (``"auto"``: CUDA when present) with
    ``precision`` ``"32"``, ``"bf16"`` or ``"fp16"`` (autocast; fp16 needs CUDA)
    and channels-last memory on CUDA unless ``channels_last`` says otherwise.
    ``backend="onnx"`` runs an ONNX export in float32 with onnxruntime on the CPU;
    the export is cached beside ``checkpoint`` when one is given.
    """

    def __init__(
        self,
        model: RestorationModel,
        *,
        backend: Backend | str = Backend.torch,
        device: str | torch.device = "auto",
        precision: Precision | str = Precision.fp32,
        tile_px: int = 512,
        overlap_px: int | None = None,
        batch_size: int = 4,
        channels_last: bool | None = None,
        checkpoint: str | Path | None = None,
    ) -> None:
        task = getattr(model, "task", "restore")
        if task != "restore":
            raise InvalidParameterError(
                f"model was trained for {task!r}, not restoration (denoising)", checkpoint
            )
        backend = backend.value if isinstance(backend, Backend) else backend
        precision = precision.value if isinstance(precision, Precision) else precision
        if backend not in BACKENDS:
            raise InvalidParameterError(
                f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
            )
        if tile_px < 16:
            raise InvalidParameterError(f"tile size must be >= 16 px, got {tile_px}")
        self.model = model
        self.backend = backend
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.precision = precision
        self.tile_px = tile_px
        self.overlap_px = (
            default_overlap_px(model.model_config, tile_px) if overlap_px is None else overlap_px
        )
        self.batch_size = batch_size
        if backend == "torch":
            torch_device = resolve_device(device)
            self.device = str(torch_device)
            self._predictor = TiledPredictor(
                model.network,
                tile_px=tile_px,
                overlap_px=self.overlap_px,
                batch_size=batch_size,
                device=torch_device,
                precision=precision,
                channels_last=torch_device.type == "cuda" if channels_last is None else channels_last,
            )
            return
        if precision != "32":
            raise InvalidParameterError(
                f"the onnx backend runs in float32, not {precision}; use backend torch for bf16/fp16"
            )
        if str(device) not in ("auto", "cpu"):
            raise InvalidParameterError(
                f"the onnx backend runs on the CPU, not {device}; use backend torch for a GPU"
            )
        self.device = "cpu"
        forward = self._onnx_session()
        self._predictor = TiledPredictor(
            forward, tile_px=tile_px, overlap_px=self.overlap_px, batch_size=batch_size
        )

    @classmethod
    def from_checkpoint(cls, path: str | Path, **options: Any) -> Denoiser:
        """Load a restoration checkpoint (``dosewise train``) and prepare a backend for it."""
        return cls(load_model(path), checkpoint=path, **options)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Denoised ``frames`` as float32 of the same shape, ``(H, W)`` or ``(N, H, W)``."""
        array = _checked(frames)
        stack = array if array.ndim == 3 else array[None]
        out = np.empty(stack.shape, np.float32)
        # A few frames at a time bound memory for long stacks; their tiles share batches.
        step = max(1, self.batch_size)
        for start in range(0, len(stack), step):
            chunk = stack[start : start + step]
            normalised = np.asarray(self.model.normalisation.apply(chunk), dtype=np.float32)
            restored = self._predictor.predict_batch(normalised)[:, 0]
            out[start : start + step] = _restore_units(self.model, restored, chunk)
        return out if array.ndim == 3 else out[0]

    def warmup(self) -> None:
        """Run one tile through the backend, so lazy set-up (CUDA kernels, onnxruntime
        allocations) is not counted in the first frame's latency."""
        self(np.random.default_rng(0).random((self.tile_px, self.tile_px), dtype=np.float32))

    def export_onnx(self, path: str | Path) -> Path:
        """Write the network as ONNX (traced at this denoiser's tile size) to ``path``."""
        return export_onnx(self.model.network, path, tile_px=self.tile_px, source=self.checkpoint)

    def _onnx_session(self) -> OnnxForward:
        if self.checkpoint is not None:
            return cached_session(self.model.network, self.checkpoint, tile_px=self.tile_px)
        with tempfile.TemporaryDirectory(prefix="dosewise-onnx-") as folder:
            path = export_onnx(self.model.network, Path(folder) / "model.onnx", tile_px=self.tile_px)
            return OnnxForward(path)  # onnxruntime holds the model in memory


def _restore_units(model: RestorationModel, output: np.ndarray, frames: np.ndarray) -> np.ndarray:
    restore = getattr(model, "restore_units", None)
    return output if restore is None else restore(output, frames)


def _checked(frames: np.ndarray) -> np.ndarray:
    array = np.asarray(frames)
    if array.ndim not in (2, 3):
        raise InvalidImageError(
            f"expected one (H, W) frame or an (N, H, W) stack, got shape {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise InvalidImageError(f"data type {array.dtype} is not a real number type")
    if array.size == 0 or min(array.shape[-2:]) < 2:
        raise InvalidImageError(f"frames need at least 2x2 pixels, got shape {array.shape}")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise InvalidImageError("frames contain NaN/inf values")
    return array
