"""End-to-end training on synthetic discs: exact resume, beats baselines, checkpoints reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io import DatasetStore
from dosewise.models import build_model
from dosewise.training import TrainResult, split_for, train
from dosewise.checkpoint import load_model
from dosewise.metrics.torch_batch import dice_iou
from tests.helpers.configs import tiny_train_config


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_interrupted_and_resumed_run_ends_with_identical_weights(
    disc_store: Path, tmp_path: Path
) -> None:
    whole = train(tiny_train_config(disc_store, tmp_path / "whole", epochs=4), progress=False)
    train(tiny_train_config(disc_store, tmp_path / "split", epochs=2), progress=False)
    resumed = train(tiny_train_config(disc_store, tmp_path / "split", epochs=4), progress=False)
    a, b = _weights(whole.last_checkpoint), _weights(resumed.last_checkpoint)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # the merged curve of the resumed run covers all four epochs, identically
    assert resumed.metrics_csv.read_text() == whole.metrics_csv.read_text()


def test_resume_refuses_a_different_model(disc_store: Path, tmp_path: Path) -> None:
    train(tiny_train_config(disc_store, tmp_path, epochs=1), progress=False)
    other = tiny_train_config(disc_store, tmp_path, epochs=2)
    other.model.options["depth"] = 3
    with pytest.raises(InvalidParameterError, match="different model"):
        train(other, progress=False)


def test_a_resumed_run_takes_the_configured_learning_rate(disc_store: Path, tmp_path: Path) -> None:
    """A campaign lowers the learning rate between chunks: the resumed optimiser must not keep
    the old one (at lr 1e-12 the weights of epoch 2 are those of epoch 1)."""
    first = train(tiny_train_config(disc_store, tmp_path, epochs=1), progress=False)
    before = torch.load(first.last_checkpoint, map_location="cpu", weights_only=False)
    second = train(tiny_train_config(disc_store, tmp_path, epochs=2, optimiser={"lr": 1e-12}), progress=False)
    after = torch.load(second.last_checkpoint, map_location="cpu", weights_only=False)
    assert after["epoch"] == before["epoch"] + 1
    assert after["optimizer_states"][0]["param_groups"][0]["lr"] == 1e-12
    for name, tensor in before["state_dict"].items():
        assert torch.allclose(after["state_dict"][name], tensor, rtol=0, atol=1e-8), name


@pytest.fixture(scope="module")
def trained(disc_store: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("run")
    return train(tiny_train_config(disc_store, out, epochs=6), progress=False)


def _val_dice(predict, config) -> float:
    store = DatasetStore.open(config.data.store)
    scores = []
    for sample_id in split_for(config).val:
        sample = store.sample(sample_id)
        mask = torch.from_numpy(sample.array("mask") > 0)[None, None]
        prediction = torch.from_numpy(np.asarray(predict(sample.array("noisy"))))[None, None]
        scores.append(float(dice_iou(prediction, mask)[0][0]))
    return float(np.mean(scores))


def test_training_beats_trivial_baselines(trained: TrainResult, disc_store: Path) -> None:
    config = tiny_train_config(disc_store, trained.out_dir, epochs=6)
    model = load_model(trained.last_checkpoint)
    trained_dice = _val_dice(lambda img: model.predict(img) > model.threshold, config)
    background = _val_dice(lambda img: np.zeros(img.shape, bool), config)
    foreground = _val_dice(lambda img: np.ones(img.shape, bool), config)
    torch.manual_seed(0)
    untrained = build_model(config.model).eval()

    def untrained_predict(img: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(config.data.normalisation.apply(img))[None, None]
            return (torch.sigmoid(untrained(x)) > 0.5)[0, 0].numpy()

    untrained_dice = _val_dice(untrained_predict, config)
    assert trained_dice > 0.6
    assert trained_dice > max(background, foreground, untrained_dice) + 0.2
    # the checkpoint's own validation Dice is what load_model's predictions give
    assert model.metadata["metrics"]["val/dice"] == pytest.approx(trained_dice, abs=1e-4)
    assert trained.metrics["val/dice"] == pytest.approx(trained_dice, abs=1e-4)


def test_checkpoints_logs_and_curves_exist(trained: TrainResult) -> None:
    names = [p.name for p in trained.periodic_checkpoints]
    assert names == ["epoch002.ckpt", "epoch004.ckpt", "epoch006.ckpt"]
    assert trained.best_checkpoint is not None and trained.best_checkpoint.is_file()
    assert trained.last_checkpoint.is_file()
    assert trained.config_path.is_file()
    lines = trained.metrics_csv.read_text().splitlines()
    assert lines[0].split(",")[:1] == ["epoch"] and "val/dice" in lines[0] and len(lines) == 7
    assert trained.curves_png.read_bytes()[:4] == b"\x89PNG"
    assert list((trained.out_dir / "tensorboard").rglob("events.out.tfevents*"))


def test_load_model_rebuilds_the_network_from_the_checkpoint_alone(trained: TrainResult) -> None:
    model = load_model(trained.best_checkpoint)
    assert model.task == "segment" and model.model_config.name == "msdnet"
    assert not model.network.training
    assert 1 <= model.metadata["epoch"] <= 6 and "val/dice" in model.metadata["metrics"]
    image = np.random.default_rng(0).poisson(30, size=(40, 40)).astype(np.float32)
    again = load_model(trained.best_checkpoint)
    np.testing.assert_array_equal(model.predict(image), again.predict(image))
    network = build_model(model.model_config)
    state = _weights(trained.best_checkpoint)
    network.load_state_dict({k.removeprefix("network."): v for k, v in state.items()})
    with torch.no_grad():
        x = torch.from_numpy(model.normalisation.apply(image))[None, None]
        expected = torch.sigmoid(network.eval()(x))[0, 0].numpy()
    np.testing.assert_allclose(model.predict(image), expected, rtol=0, atol=1e-6)


def test_load_model_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        load_model(tmp_path / "missing.ckpt")
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(InputFileError, match="cannot read checkpoint"):
        load_model(corrupt)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(InputFileError, match="not a dosewise"):
        load_model(foreign)
