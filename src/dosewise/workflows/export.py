"""The Python face of ``dosewise export``: a checkpoint as an ONNX file other tools can run.

Facilities share models as ONNX (onnxruntime, Fiji's DeepImageJ, C++ pipelines at the
microscope). The export is traced at one tile size (what tiled inference feeds), stores the
checkpoint's normalisation in the ONNX metadata (the consumer must z-score frames as dosewise
does), and is refused unless onnxruntime reproduces the torch network on a random tile
(:data:`~dosewise.infer.onnx_backend.AGREEMENT` of the output range).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dosewise.checkpoint import LoadedModel, load_model
from dosewise.errors import InvalidParameterError
from dosewise.infer.onnx_backend import OnnxForward, export_onnx
from dosewise.workflows._output import refuse_existing


@dataclass(frozen=True)
class ExportResult:
    """What was exported and how closely onnxruntime reproduces torch on a held-out tile."""

    checkpoint: Path
    onnx: Path
    task: str
    model: str
    tile_px: int
    max_abs_error: float
    output_range: float

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint": str(self.checkpoint), "onnx": str(self.onnx), "task": self.task,
                "model": self.model, "tile_px": self.tile_px, "max_abs_error": self.max_abs_error,
                "output_range": self.output_range}


def export_checkpoint(checkpoint: str | Path, onnx_path: str | Path, *, tile_px: int = 256,
                      overwrite: bool = False) -> ExportResult:
    """Export a segmentation, restoration (denoiser) or pretraining checkpoint to ONNX.

    Partial-scan supersamplers are refused in one line: their generators find the probe lattice
    from the mask with data-dependent Python, which a traced graph would freeze at one lattice.
    An existing ``onnx_path`` is refused unless ``overwrite``.
    """
    checkpoint = Path(checkpoint)
    refuse_existing([Path(onnx_path)], overwrite)
    if tile_px < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile_px}")
    loaded = load_model(checkpoint)
    if not isinstance(loaded, LoadedModel):
        raise InvalidParameterError("supersampling checkpoints cannot be exported to ONNX yet: their generator "
                                    "finds the probe lattice from the mask in Python, which a traced graph "
                                    "would freeze; run them with dosewise supersample", checkpoint)
    path = export_onnx(loaded.network, onnx_path, tile_px=tile_px, source=checkpoint, metadata={
        # without these a consumer feeds raw counts to a network that expects z-scores
        "dosewise_task": loaded.task, "dosewise_threshold": str(loaded.threshold),
        "dosewise_normalisation": json.dumps(loaded.normalisation.model_dump(mode="json"))})
    tile = torch.randn(1, 1, tile_px, tile_px, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = loaded.network(tile).numpy()
    actual = OnnxForward(path)(tile.numpy())
    return ExportResult(checkpoint=checkpoint, onnx=path, task=loaded.task, model=loaded.model_config.name,
                        tile_px=tile_px, max_abs_error=float(np.abs(actual - expected).max()),
                        output_range=float(np.ptp(expected)))

