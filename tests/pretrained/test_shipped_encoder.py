"""The shipped pretrained encoder: small, loads offline, and is where fine-tuning starts."""

from __future__ import annotations

from pathlib import Path

import torch

from dosewise.checkpoint import checkpoint_model, network_state
from dosewise.models import build_model
from dosewise.training.finetune import DEFAULT_FINETUNE_MODEL, PRETRAINED_WEIGHTS, resolve_init
from dosewise.training.transfer import transfer_weights


def test_every_shipped_encoder_is_small_and_holds_only_its_generator() -> None:
    for model, name in PRETRAINED_WEIGHTS.items():
        path = resolve_init("pretrained", model)
        assert path is not None and path.name == name and path.stat().st_size < 10 * 2**20
        assert checkpoint_model(path).name == model
        assert network_state(path)  # generator weights; the pretext's discriminator is not shipped
        assert not any(key.startswith("discriminator.") for key in torch.load(path, weights_only=True)["state_dict"])
    assert resolve_init("pretrained", None) == resolve_init("pretrained", DEFAULT_FINETUNE_MODEL)


def test_finetuning_from_the_shipped_weights_copies_every_tensor_but_the_head() -> None:
    path = resolve_init("pretrained", None)
    assert isinstance(path, Path)
    network = build_model(checkpoint_model(path).model_copy(update={"in_channels": 1, "out_channels": 1}))
    report = transfer_weights(network, path)
    assert report.head and not report.missing and not report.shape_mismatch
    assert len(report.transferred) + len(report.head) == len(network.state_dict())
    source, copied = network_state(path), network.state_dict()
    for name in report.transferred:
        assert torch.equal(copied[name], source[name])
    assert not any(torch.equal(copied[name], source[name]) for name in report.head if copied[name].numel() > 1)
