"""Pick the compute device once, the same way everywhere (``device="auto"``)."""

from __future__ import annotations

import torch

from dosewise.errors import InvalidParameterError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; otherwise the named device, checked."""
    if isinstance(device, torch.device):
        return device
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidParameterError(f"device {device!r} requested but no CUDA GPU is available")
    try:
        return torch.device(name)
    except RuntimeError as error:
        raise InvalidParameterError(f"unknown device {device!r}: use auto, cpu or cuda[:N]") from error
