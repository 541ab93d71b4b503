"""How a network runs at inference: the backend and the autocast precision.

The choices live here, apart from the modules that use them, because this module
imports no torch: the command line lists them in its help without loading torch.
"""

from __future__ import annotations

from enum import Enum


class Backend(str, Enum):
    """``torch`` (GPU when present, autocast) or ``onnx`` (an ONNX export run by onnxruntime on the CPU)."""

    torch = "torch"
    onnx = "onnx"


class Precision(str, Enum):
    """Autocast precision of the torch backend: ``"32"`` (none), ``"bf16"`` or ``"fp16"`` (CUDA only)."""

    fp32 = "32"
    bf16 = "bf16"
    fp16 = "fp16"
