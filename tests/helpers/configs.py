"""Tiny, seconds-long recipes and model options for the tests (2 CPU cores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dosewise.models import ModelConfig
from dosewise.config import DataConfig, OptimiserConfig, TrainConfig
from dosewise.config import SupersampleConfig


def tiny_train_config(store: Path, out_dir: Path, **overrides) -> TrainConfig:
    """A seconds-long CPU segmentation recipe: 4-layer MSD-net, 32 px crops, lr 1e-2."""
    fields = {
        "task": "segment",
        "model": ModelConfig(name="msdnet", options={"depth": 4, "max_dilation": 4}),
        "data": DataConfig(store=store, crop_px=32, val_fraction=0.25),
        "optimiser": OptimiserConfig(lr=1e-2),
        "epochs": 4,
        "batch_size": 4,
        "checkpoint_every_n_epochs": 2,
        "out_dir": out_dir,
        "seed": 7,
    }
    fields.update(overrides)
    return TrainConfig(**fields)


def tiny_supersample_config(folder: Path, out_dir: Path, **overrides: object) -> SupersampleConfig:
    """A seconds-long CPU supersampling recipe on the scans in ``folder``; dict overrides merge."""
    raw = {
        "model": {"name": "dlss-two-stage", "in_channels": 2,
                  "options": {"width": 16, "inner_width": 16, "inner_blocks": 1, "outer_blocks": 1}},
        "data": {"folders": [str(folder)], "crop_px": 48, "steps": [4, 5, 6]},
        "epochs": 2, "batch_size": 8, "device": "cpu", "out_dir": str(out_dir), "seed": 0,
    }
    for key, value in overrides.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and key in raw else value
    return SupersampleConfig.validate_dict(raw)


def tiny_model_options(name: str) -> dict[str, Any]:
    """Options that make registry model ``name`` small enough to run in seconds."""
    if name.startswith("unet-"):
        return {"base_width": 8}
    return {
        "hrnet": {"width": 4},
        "msdnet": {"depth": 8},
        "madsen-unet": {"base_width": 4, "depth": 2},
        "resnet18-unet": {"decoder_channels": [16, 8, 8, 4, 4]},
        "fast-unet": {"width": 4, "levels": 2},
    }[name]
