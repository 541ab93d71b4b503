"""Pick the compute device once, the same way everywhere (``device="auto"``)."""

from __future__ import annotations

import torch

from dosewise.errors import InvalidParameterError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else Apple's MPS (M-series Macs), else CPU; otherwise
    the named device, checked."""
    if isinstance(device, torch.device):
        return device
    name = device.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidParameterError(f"device {device!r} requested but no CUDA GPU is available")
    if name == "mps" and not _mps_available():
        raise InvalidParameterError(f"device {device!r} requested but Apple's MPS is not available here")
    try:
        return torch.device(name)
    except RuntimeError as error:
        raise InvalidParameterError(f"unknown device {device!r}: use auto, cpu, cuda[:N] or mps") from error


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
