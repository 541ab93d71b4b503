"""A segmentation checkpoint written the way ``dosewise train`` writes one, without training:
random MSD-net weights and a chosen metrics record, for tests of what reads checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch

from dosewise.checkpoint import CHECKPOINT_KEY, checkpoint_record
from dosewise.config import DataConfig, TrainConfig
from dosewise.models import ModelConfig, build_model


def write_segmentation_checkpoint(path: Path, *, depth: int = 2, max_dilation: int = 2,
                                  metrics: dict[str, float] | None = None, head_seed: int | None = None) -> Path:
    """``path`` holding a small random MSD-net segmentation checkpoint with ``metrics`` recorded.

    MSD-net's head is zero-initialised, so the probability is 0.5 everywhere; ``head_seed`` draws
    a random head instead, for tests that need an output that varies with the input."""
    config = TrainConfig(task="segment",
                         model=ModelConfig(name="msdnet", options={"depth": depth, "max_dilation": max_dilation}),
                         data=DataConfig(store=path.parent / "unused.zarr"), out_dir=path.parent / "run")
    network = build_model(config.model)
    if head_seed is not None:
        generator = torch.Generator().manual_seed(head_seed)
        with torch.no_grad():
            for tensor in network.head.parameters():
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    torch.save({"state_dict": {f"network.{k}": v for k, v in network.state_dict().items()},
                "hyper_parameters": config.model_dump(mode="json"), "epoch": 3, "global_step": 40,
                CHECKPOINT_KEY: checkpoint_record("train", metrics or {"val/dice": 0.5})}, path)
    return path
