"""Load a trained (or pretrained) network from a dosewise checkpoint alone.

The checkpoint carries the whole :class:`TrainConfig` as Lightning
hyperparameters, so the network is rebuilt from its :class:`ModelConfig` and
the input normalisation, task and threshold come with it; nothing else is
needed at inference time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dosewise.data.normalise import Normalisation
from dosewise.errors import DosewiseError, InputFileError, InvalidImageError
from dosewise.models import ModelConfig, build_model
from dosewise.tasks.config import TrainConfig
from dosewise.tasks.module import CHECKPOINT_KEY
from dosewise.tasks.pretrain_config import PretrainConfig

_PREFIX = "network."


@dataclass
class LoadedModel:
    """A trained network (eval mode, CPU) and what is needed to use it correctly."""

    network: nn.Module
    model_config: ModelConfig
    normalisation: Normalisation
    task: str
    threshold: float
    metadata: dict[str, Any] = field(default_factory=dict)
    target_scale: str = "stored"
    """"input": a restoration output is in normalised input units; map it back with
    the image's own affine (:meth:`restore_units`)."""

    def restore_units(self, output: np.ndarray, image: np.ndarray) -> np.ndarray:
        """A restoration ``output`` in the units it was trained for: the input's own
        (``target_scale="input"``) or the stored target's."""
        if self.target_scale != "input":
            return output
        offset, scale = self.normalisation.affine(image)
        return (output * scale + offset).astype(np.float32)

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> np.ndarray:
        """Normalise one (H, W) image and run the network: foreground probability
        (segment) or the restored image (restore), float32 (H, W)."""
        array = np.asarray(image, dtype=np.float32)
        if array.ndim != 2:
            raise InvalidImageError(f"expected one 2-D image, got shape {array.shape}")
        device = next(self.network.parameters()).device
        x = torch.from_numpy(self.normalisation.apply(array))[None, None].to(device)
        output = self.network(x)
        if self.task == "segment":
            return torch.sigmoid(output)[0, 0].float().cpu().numpy()
        return self.restore_units(output[0, 0].float().cpu().numpy(), array)


def load_model(path: str | Path) -> LoadedModel:
    """Rebuild the network saved in a dosewise training checkpoint (``.ckpt``)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError("checkpoint not found" if not path.exists() else "is not a file", path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, or unsafe pickle content
        reason = " ".join(str(exc).split())[:200]
        raise InputFileError(f"cannot read checkpoint: {reason}", path) from exc
    if not isinstance(checkpoint, dict) or CHECKPOINT_KEY not in checkpoint:
        raise InputFileError("not a dosewise training checkpoint (no dosewise record)", path)
    try:
        config = _config_of(checkpoint["hyper_parameters"])
    except (KeyError, DosewiseError) as exc:
        raise InputFileError(f"checkpoint holds no valid training config: {exc}", path) from exc
    state = {
        key[len(_PREFIX):]: value
        for key, value in checkpoint.get("state_dict", {}).items()
        if key.startswith(_PREFIX)
    }
    network = build_model(config.model)
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InputFileError(
            f"weights do not fit model {config.model.name!r}: {reason}", path
        ) from exc
    network.eval()
    record = checkpoint[CHECKPOINT_KEY]
    is_pretrained = isinstance(config, PretrainConfig)
    return LoadedModel(
        network=network,
        model_config=config.model,
        normalisation=config.data.normalisation,
        # A pretext generator restores images (denoises / deblurs); it has no threshold.
        task="restore" if is_pretrained else config.task,
        threshold=0.5 if is_pretrained else config.threshold,
        target_scale="stored" if is_pretrained else config.data.target_scale,
        metadata={
            "epoch": int(checkpoint.get("epoch", -1)) + 1,
            "global_step": int(checkpoint.get("global_step", 0)),
            "metrics": dict(record.get("metrics", {})),
            "path": str(path),
            "kind": record.get("kind", "train"),
        },
    )


def _config_of(hyper_parameters: dict[str, Any]) -> TrainConfig | PretrainConfig:
    """The recipe a checkpoint was made with: pretraining ones have a ``pretext``."""
    if "pretext" in hyper_parameters:
        return PretrainConfig.validate_dict(hyper_parameters)
    return TrainConfig.validate_dict(hyper_parameters)
