"""Initialise a network from a pretrained checkpoint: every tensor whose name and shape
match is copied, the output layer (the head) is always left new.

The head of a pretext generator predicts an image; a downstream task predicts a mask or
another image, so its last layer is re-learned even when the shapes happen to agree
(Kazimi et al. 2024, §3.3). What was and was not transferred is reported, never silent.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch import nn

from dosewise.checkpoint import network_state
from dosewise.io import atomic_write

@dataclass
class TransferReport:
    """Names of the tensors copied, left new because they are the head, or not matched."""

    source: str
    transferred: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"transferred {len(self.transferred)} tensors from {self.source}; new: head "
                f"{len(self.head)}, not in checkpoint {len(self.missing)}, shape differs "
                f"{len(self.shape_mismatch)}; unused from checkpoint {len(self.unused)}")

    def write_json(self, path: Path) -> Path:
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        return path


def head_prefix(network: nn.Module) -> str:
    """Qualified name of the output layer: the last convolution in module order."""
    convolutions = [name for name, module in network.named_modules() if isinstance(module, nn.Conv2d)]
    if not convolutions:
        raise ValueError(f"{type(network).__name__} has no convolution to treat as its head")
    return convolutions[-1] + "."


def transfer_weights(network: nn.Module, checkpoint_path: str | Path) -> TransferReport:
    """Copy matching tensors from ``checkpoint_path`` into ``network`` in place."""
    source = network_state(checkpoint_path)
    report = TransferReport(source=str(checkpoint_path))
    head = head_prefix(network)
    target = network.state_dict()
    update = {}
    for name, tensor in target.items():
        if name.startswith(head):
            report.head.append(name)
        elif name not in source:
            report.missing.append(name)
        elif source[name].shape != tensor.shape:
            report.shape_mismatch.append(name)
        else:
            update[name] = source[name].to(tensor.dtype)
            report.transferred.append(name)
    report.unused = sorted(set(source) - set(update))
    network.load_state_dict(update, strict=False)
    return report
