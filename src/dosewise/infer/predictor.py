"""Run a fully convolutional network over images of any size, tile by tile.

Whole micrographs (4k x 4k and more) do not fit through a network at once, and
fixed-size tiles batch well on a GPU. Tiles overlap, and each tile's margin of
half the overlap is discarded when the output is assembled (see
:mod:`dosewise.infer.tiling`), so with ``overlap_px >= required_overlap_px(rf)``
the result equals a whole-image run of the same network in eval mode.

The per-batch forward pass is pluggable: a torch ``nn.Module`` runs on the
resolved device (autocast, channels-last), while any other callable mapping a
``(B, 1, T, T)`` float32 array to ``(B, C, T, T)`` (an onnxruntime session, see
:mod:`dosewise.infer.onnx_backend`) reuses the same tiling unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
from torch import nn

from dosewise.device import resolve_device
from dosewise.errors import InvalidImageError, InvalidParameterError
from dosewise.infer.runtime import Precision
from dosewise.infer.tiling import AxisTile, check_tiling, plan_axis

PRECISIONS: dict[str, torch.dtype | None] = {
    Precision.fp32.value: None,
    Precision.bf16.value: torch.bfloat16,
    Precision.fp16.value: torch.float16,
}

_Tile = tuple[int, AxisTile, AxisTile]  # frame index, row tile, column tile

BatchForward = Callable[[np.ndarray], np.ndarray]
"""One batch of tiles ``(B, 1, T, T)`` float32 -> network outputs ``(B, C, T, T)``."""


class TiledPredictor:
    """Tiled, batched inference of ``network`` ((N, 1, H, W) -> (N, C, H, W)).

    A torch network is moved to the resolved device and put in eval mode:
    inference in training mode (dropout, batch statistics) would make tiles
    disagree. ``precision`` ``"bf16"``/``"fp16"`` runs under ``torch.autocast``;
    fp16 needs CUDA. Any other callable is a :data:`BatchForward` on numpy
    arrays; ``device``, ``precision`` and ``channels_last`` are then the
    callable's business and must stay at their defaults. Outputs are always float32.
    """

    def __init__(
        self,
        network: nn.Module | BatchForward,
        *,
        tile_px: int = 512,
        overlap_px: int = 64,
        batch_size: int = 4,
        device: str | torch.device = "auto",
        precision: Precision | str = Precision.fp32,
        channels_last: bool = False,
    ) -> None:
        check_tiling(tile_px, overlap_px)
        if batch_size < 1:
            raise InvalidParameterError(f"batch size must be >= 1, got {batch_size}")
        self.tile_px = tile_px
        self.overlap_px = overlap_px
        self.batch_size = batch_size
        precision = precision.value if isinstance(precision, Precision) else precision
        self.precision = precision
        if not isinstance(network, nn.Module):
            if precision != "32" or channels_last or str(device) not in ("auto", "cpu"):
                raise InvalidParameterError(
                    "device, precision and channels_last apply to torch networks only"
                )
            self.device = None
            self.network = None
            self._forward: BatchForward = network
            return
        self.device = resolve_device(device)
        self._autocast_dtype = _autocast_dtype(precision, self.device)
        self._memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.network = network.to(self.device, memory_format=self._memory_format).eval()
        self._forward = self._run_torch

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Raw outputs ``(C, H, W)`` float32 for one normalised ``(H, W)`` image."""
        image = np.asarray(image)
        if image.ndim != 2:
            raise InvalidImageError(f"predict takes one (H, W) image, got shape {image.shape}")
        return self.predict_batch(image[None])[0]

    def predict_batch(self, frames: np.ndarray) -> np.ndarray:
        """Raw outputs ``(N, C, H, W)`` float32 for normalised frames ``(N, H, W)``, or
        ``(N, C_in, H, W)`` for a network with several input channels (image and mask).

        Tiles of all frames share batches, so a stack of small frames still fills them.
        """
        frames = _checked_frames(frames)
        n_frames, (height, width) = frames.shape[0], frames.shape[-2:]
        padded, (top, left) = _pad_to_tile(frames, self.tile_px)
        rows = plan_axis(padded.shape[-2], self.tile_px, self.overlap_px)
        cols = plan_axis(padded.shape[-1], self.tile_px, self.overlap_px)
        tiles = [(n, row, col) for n in range(n_frames) for row in rows for col in cols]
        out: np.ndarray | None = None
        for batch in _chunks(tiles, self.batch_size):
            outputs = self._run(np.stack([self._cut(padded, tile) for tile in batch]))
            if out is None:
                out = np.empty((n_frames, outputs.shape[1], *padded.shape[-2:]), np.float32)
            for (n, row, col), output in zip(batch, outputs):
                out[n, :, row.keep_lo : row.keep_hi, col.keep_lo : col.keep_hi] = output[
                    :,
                    row.keep_lo - row.start : row.keep_hi - row.start,
                    col.keep_lo - col.start : col.keep_hi - col.start,
                ]
        assert out is not None  # there is always at least one tile
        return np.ascontiguousarray(out[:, :, top : top + height, left : left + width])

    def _cut(self, padded: np.ndarray, tile: _Tile) -> np.ndarray:
        n, row, col = tile
        return padded[n, ..., row.start : row.start + self.tile_px, col.start : col.start + self.tile_px]

    def _run(self, tiles: np.ndarray) -> np.ndarray:
        """One batch of ``(B, T, T)`` (or ``(B, C_in, T, T)``) tiles through the network ->
        ``(B, C, T, T)`` float32."""
        batch = tiles[:, None] if tiles.ndim == 3 else tiles
        output = np.asarray(self._forward(np.ascontiguousarray(batch)))
        if (
            output.ndim != 4
            or output.shape[0] != len(tiles)
            or tuple(output.shape[2:]) != (self.tile_px, self.tile_px)
        ):
            raise InvalidParameterError(
                f"network must map (B, C_in, {self.tile_px}, {self.tile_px}) to (B, C, "
                f"{self.tile_px}, {self.tile_px}) for tiling, got {tuple(output.shape)}"
            )
        return output.astype(np.float32, copy=False)

    def _run_torch(self, tiles: np.ndarray) -> np.ndarray:
        assert self.network is not None
        batch = torch.from_numpy(tiles).to(self.device)
        batch = batch.contiguous(memory_format=self._memory_format)
        with torch.inference_mode(), self._autocast():
            output = self.network(batch)
        return output.float().cpu().numpy()

    def _autocast(self) -> AbstractContextManager[object]:
        if self._autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self._autocast_dtype)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision``, refused where the device cannot run it."""
    if precision not in PRECISIONS:
        raise InvalidParameterError(
            f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    dtype = PRECISIONS[precision]
    if dtype is None:
        return None
    if dtype == torch.float16 and device.type != "cuda":
        raise InvalidParameterError(f"precision fp16 needs a CUDA device, got {device}")
    if not torch.amp.is_autocast_available(device.type):
        raise InvalidParameterError(f"precision {precision} is not supported on {device}")
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise InvalidParameterError(f"precision bf16 is not supported by the GPU {device}")
    return dtype


def _checked_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4) or min(frames.shape) < 1:
        raise InvalidImageError(f"expected frames of shape (N, H, W) or (N, C, H, W), got {frames.shape}")
    if frames.dtype.kind not in "biuf":
        raise InvalidImageError(f"data type {frames.dtype} is not a real number type")
    frames = frames.astype(np.float32, copy=False)
    if not np.isfinite(frames).all():
        raise InvalidImageError("image contains NaN/inf values")
    return frames


def _pad_to_tile(frames: np.ndarray, tile_px: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad axes shorter than a tile, centred; return it and the (top, left) offset."""
    widths = [(0, 0)] * (frames.ndim - 2)
    for length in frames.shape[-2:]:
        missing = max(0, tile_px - length)
        widths.append((missing // 2, missing - missing // 2))
    if all(before == after == 0 for before, after in widths):
        return frames, (0, 0)
    mode = "reflect" if min(frames.shape[-2:]) > 1 else "edge"  # reflect needs 2 pixels
    return np.pad(frames, widths, mode=mode), (widths[-2][0], widths[-1][0])


def _chunks(items: list[_Tile], size: int) -> Iterator[list[_Tile]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
