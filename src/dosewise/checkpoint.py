"""The dosewise checkpoint: what marks one, how it is read, and how any kind is loaded.

Every training run (segmentation, restoration, pretraining, supersampling) saves a
Lightning checkpoint whose hyperparameters are the run's whole recipe and whose
``dosewise`` record names its kind. This module is the only reader: a checkpoint alone
rebuilds the network, its normalisation, task and threshold, with nothing else needed
at inference time. Training writes the record with :func:`checkpoint_record`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from dosewise.config.pretraining import PretrainConfig
from dosewise.config.supersampling import SupersampleConfig
from dosewise.config.training import TrainConfig
from dosewise.data.normalise import Normalisation
from dosewise.errors import DosewiseError, InputFileError, InvalidImageError, InvalidParameterError
from dosewise.io import atomic_write
from dosewise.models import ModelConfig, build_model
from dosewise.models.dlss import build_supersampler

CHECKPOINT_KEY = "dosewise"
CHECKPOINT_FORMAT = 1
NETWORK_PREFIX = "network."
"""The LightningModule attribute that holds the network; only these tensors are loaded."""

Kind = Literal["train", "pretrain-gan", "pretrain-dae", "supersample"]
SHIPPED_KEYS = ("state_dict", "hyper_parameters", CHECKPOINT_KEY, "epoch", "global_step")
"""What a shipped checkpoint keeps: the network, its recipe and record; not the optimiser."""


def packaged_checkpoint(name: str, what: str, hint: str = "pass --model CKPT") -> Path:
    """A checkpoint shipped in ``dosewise/weights/``; a one-line error ending in ``hint`` when
    this installation lacks it."""
    resource = resources.files("dosewise").joinpath("weights", name)
    if not resource.is_file():
        raise InvalidParameterError(f"no default {what} model is installed (dosewise/weights/{name}); {hint}")
    return Path(str(resource))


def slim_checkpoint(source: str | Path, target: str | Path, *, keep_prefix: str | None = None,
                    half: bool = False) -> Path:
    """Write ``source`` without optimiser state and callbacks (a third of the size) to ship it;
    ``keep_prefix`` keeps only those weights (``"network."``: a pretraining run's generator
    without the discriminator that only the pretext needs); ``half`` stores floating tensors as
    float16 (half the file; loading casts back to the network's float32)."""
    checkpoint = read_checkpoint(source)
    slim = {key: checkpoint[key] for key in SHIPPED_KEYS}
    if keep_prefix is not None:
        slim["state_dict"] = {k: v for k, v in slim["state_dict"].items() if k.startswith(keep_prefix)}
    if half:
        slim["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in slim["state_dict"].items()}
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as tmp:
        torch.save(slim, tmp)
    return target


def checkpoint_record(kind: str, metrics: Mapping[str, float]) -> dict[str, Any]:
    """What marks a file as a dosewise checkpoint: format, kind and the latest metrics."""
    return {"format": CHECKPOINT_FORMAT, "kind": kind, "metrics": dict(metrics)}


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint mapping (tensors on the CPU, no pickled code executed)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError("checkpoint not found" if not path.exists() else "is not a file", path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, or unsafe pickle content
        reason = " ".join(str(exc).split())[:200]
        raise InputFileError(f"cannot read checkpoint: {reason}", path) from exc
    if not isinstance(checkpoint, dict):
        raise InputFileError("not a dosewise checkpoint (no dosewise record)", path)
    return checkpoint


def network_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The network tensors (``network.`` prefix removed) of any dosewise checkpoint."""
    checkpoint = read_checkpoint(path)
    state = _network_tensors(checkpoint)
    if not state:
        raise InputFileError("checkpoint holds no network weights", path)
    return state


def checkpoint_model(path: str | Path) -> ModelConfig:
    """The network description stored in a training or pretraining checkpoint."""
    checkpoint = read_checkpoint(path)
    try:
        return ModelConfig.model_validate(checkpoint["hyper_parameters"]["model"])
    except Exception as exc:  # no model record, or one of another kind
        raise InputFileError("not a dosewise checkpoint with a model record", path) from exc


def checkpoint_kind(checkpoint: Mapping[str, Any], path: str | Path) -> str:
    """The kind a checkpoint's dosewise record names; refused when there is no record."""
    record = checkpoint.get(CHECKPOINT_KEY)
    if not isinstance(record, dict):
        raise InputFileError("not a dosewise training checkpoint (no dosewise record)", path)
    return str(record.get("kind", "train"))


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


@dataclass
class LoadedSupersampler:
    """A trained partial-scan generator (eval mode, CPU), its config and the run's record."""

    network: nn.Module
    model_config: ModelConfig
    steps: list[int]
    target_blur_sigma_px: float
    metadata: dict[str, Any] = field(default_factory=dict)
    task: str = "supersample"


def load_model(path: str | Path) -> LoadedModel | LoadedSupersampler:
    """Rebuild the network of any dosewise checkpoint (``.ckpt``): segmentation and
    restoration (``train``), pretraining (a restoration generator) or supersampling."""
    path = Path(path)
    checkpoint = read_checkpoint(path)
    if checkpoint_kind(checkpoint, path) == "supersample":
        return _supersampler(checkpoint, path)
    return _image_model(checkpoint, path)


def load_supersampler(path: str | Path) -> LoadedSupersampler:
    """:func:`load_model` for a checkpoint that must be a supersampler."""
    path = Path(path)
    checkpoint = read_checkpoint(path)
    if CHECKPOINT_KEY not in checkpoint or checkpoint_kind(checkpoint, path) != "supersample":
        raise InputFileError("not a dosewise supersampling checkpoint (train one with "
                             "'dosewise train supersample')", path)
    return _supersampler(checkpoint, path)


def _image_model(checkpoint: dict[str, Any], path: Path) -> LoadedModel:
    kind = checkpoint_kind(checkpoint, path)
    try:
        config = _config_of(checkpoint["hyper_parameters"])
    except (KeyError, DosewiseError) as exc:
        raise InputFileError(f"checkpoint holds no valid training config: {exc}", path) from exc
    network = _with_weights(build_model(config.model), checkpoint, path, f"model {config.model.name!r}")
    is_pretrained = isinstance(config, PretrainConfig)
    return LoadedModel(
        network=network,
        model_config=config.model,
        normalisation=config.data.normalisation,
        # A pretext generator restores images (denoises / deblurs); it has no threshold.
        task="restore" if is_pretrained else config.task,
        threshold=0.5 if is_pretrained else config.threshold,
        target_scale="stored" if is_pretrained else config.data.target_scale,
        metadata={**_run_metadata(checkpoint, path), "kind": kind,
                  "global_step": int(checkpoint.get("global_step", 0)),
                  # started from another checkpoint's weights (``init``): its papers are this one's too
                  "fine_tuned": isinstance(config, TrainConfig) and config.init is not None},
    )


def _supersampler(checkpoint: dict[str, Any], path: Path) -> LoadedSupersampler:
    try:
        config = SupersampleConfig.validate_dict(SupersampleConfig.migrate(checkpoint["hyper_parameters"]))
    except (KeyError, DosewiseError) as exc:
        raise InputFileError(f"checkpoint holds no valid supersampling config: {exc}", path) from exc
    network = _with_weights(build_supersampler(config.model), checkpoint, path,
                            f"the {config.model.name} generator")
    return LoadedSupersampler(
        network=network, model_config=config.model, steps=sorted(set(config.data.steps)),
        target_blur_sigma_px=config.data.target_blur_sigma_px,
        metadata=_run_metadata(checkpoint, path),
    )


def _with_weights(network: nn.Module, checkpoint: dict[str, Any], path: Path, what: str) -> nn.Module:
    try:
        network.load_state_dict(_network_tensors(checkpoint))
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InputFileError(f"weights do not fit {what}: {reason}", path) from exc
    return network.eval()


def _network_tensors(checkpoint: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    state = checkpoint.get("state_dict", {})
    return {k[len(NETWORK_PREFIX):]: v for k, v in state.items() if k.startswith(NETWORK_PREFIX)}


def _run_metadata(checkpoint: Mapping[str, Any], path: Path) -> dict[str, Any]:
    record = checkpoint.get(CHECKPOINT_KEY) or {}
    return {"epoch": int(checkpoint.get("epoch", -1)) + 1, "path": str(path),
            "metrics": dict(record.get("metrics", {}))}


def _config_of(hyper_parameters: dict[str, Any]) -> TrainConfig | PretrainConfig:
    """The recipe a checkpoint was made with (pretraining ones have a ``pretext``), with keys
    renamed since the checkpoint was written moved to their new spelling."""
    recipe = PretrainConfig if "pretext" in hyper_parameters else TrainConfig
    return recipe.validate_dict(recipe.migrate(hyper_parameters))
