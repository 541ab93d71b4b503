"""``device="auto"``: CUDA, else Apple's MPS, else the CPU; a named device that is not there is one line."""

from __future__ import annotations

import pytest
import torch

import dosewise.device as device_module
from dosewise.device import resolve_device
from dosewise.errors import InvalidParameterError


@pytest.mark.parametrize(("cuda", "mps", "expected"), [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch, cuda: bool, mps: bool,
                                             expected: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(device_module, "_mps_available", lambda: mps)
    assert resolve_device("auto").type == expected


def test_a_missing_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)
    for name, message in (("cuda:0", "no CUDA GPU"), ("mps", "MPS is not available"), ("tpu9", "unknown device")):
        with pytest.raises(InvalidParameterError, match=message):
            resolve_device(name)
