"""The Python face of ``dosewise export``: a checkpoint as an ONNX file other tools can run.

Facilities share models as ONNX (onnxruntime, Fiji's DeepImageJ, C++ pipelines at the
microscope). The export is traced at one tile size (what tiled inference feeds), stores the
checkpoint's normalisation in the ONNX metadata (the consumer must z-score frames as dosewise
does), and is refused unless onnxruntime reproduces the torch network on a random tile
(:data:`~dosewise.infer.onnx_backend.AGREEMENT` of the output range). ``--bmz``, the same
network as a BioImage.IO package, is :mod:`dosewise.workflows.bmz`.
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
from dosewise.infer.onnx_backend import SOURCE_KEY, onnx_target, write_onnx
from dosewise.io import atomic_write
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
    target = onnx_target(onnx_path)
    loaded = exportable_model(checkpoint, tile_px, "ONNX")
    tile = torch.randn(1, 1, tile_px, tile_px, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = loaded.network(tile).numpy()
    # the session is checked on the temporary: inside an output group the target appears only at its end
    with atomic_write(target, inputs=[checkpoint]) as tmp:
        actual = write_onnx(loaded.network, tmp, tile_px=tile_px,
                            metadata={SOURCE_KEY: str(checkpoint), **onnx_metadata(loaded)})(tile.numpy())
    return ExportResult(checkpoint=checkpoint, onnx=target, task=loaded.task, model=loaded.model_config.name,
                        tile_px=tile_px, max_abs_error=float(np.abs(actual - expected).max()),
                        output_range=float(np.ptp(expected)))


def exportable_model(checkpoint: Path, tile_px: int, target_format: str) -> LoadedModel:
    """The image model of ``checkpoint``, refused in one line when it is a supersampler (its
    generator finds the probe lattice from the mask in Python, which a traced graph would
    freeze) or when ``tile_px`` is too small to trace it at."""
    if tile_px < 16:
        raise InvalidParameterError(f"--tile must be >= 16 px, got {tile_px}")
    loaded = load_model(checkpoint)
    if not isinstance(loaded, LoadedModel):
        raise InvalidParameterError(f"supersampling checkpoints cannot be exported to {target_format} yet: their "
                                    "generator finds the probe lattice from the mask in Python, which a traced "
                                    "graph would freeze; run them with dosewise supersample", checkpoint)
    return loaded


def onnx_metadata(loaded: LoadedModel) -> dict[str, str]:
    """What an ONNX consumer must know to feed the network: without it a consumer feeds raw
    counts to a network that expects z-scores."""
    return {"dosewise_task": loaded.task, "dosewise_threshold": str(loaded.threshold),
            "dosewise_normalisation": json.dumps(loaded.normalisation.model_dump(mode="json"))}
