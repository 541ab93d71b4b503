"""TrainConfig: YAML round trip, task defaults, one-line errors naming field and file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.config import TrainConfig
from dosewise.training import make_loss
from tests.helpers.configs import tiny_train_config
from tests.helpers.paths import REPO_ROOT


def test_yaml_round_trip(tmp_path: Path) -> None:
    config = tiny_train_config(tmp_path / "d.zarr", tmp_path / "out",
                               data={"store": tmp_path / "d.zarr", "extra_noise_dose_e_per_px": [5, 50],
                                     "normalisation": {"kind": "fixed", "mean": 2.0, "std": 3.0}})
    path = config.to_yaml(tmp_path / "c.yaml")
    assert TrainConfig.from_yaml(path) == config
    assert config.loss == "bce" and config.data.target == "mask"
    assert config.optimiser.lr == 1e-2


def test_task_defaults() -> None:
    config = TrainConfig.validate_dict({"task": "restore", "model": {"name": "msdnet"},
                                        "data": {"store": "x.zarr"}})
    assert (config.loss, config.data.target, config.optimiser.lr) == ("l1", "clean", 2e-4)
    assert (config.checkpoint_every_n_epochs, config.precision, config.device) == (5, "32", "auto")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"data": {"store": "x.zarr", "crop_px": 2}}, "data.crop_px"),
        ({"lossy": "bce"}, "lossy"),
        ({"loss": "l1"}, "loss"),
        ({"data": {"images_dir": "imgs"}}, "data"),
    ],
)
def test_bad_field_is_one_line_naming_field_and_file(
    tmp_path: Path, change: dict, field: str
) -> None:
    raw = {"model": {"name": "msdnet"}, "data": {"store": "x.zarr"}, **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(InvalidParameterError) as info:
        TrainConfig.from_yaml(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and field in message


def test_unreadable_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        TrainConfig.from_yaml(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    with pytest.raises(InputFileError, match="cannot read YAML"):
        TrainConfig.from_yaml(broken)


def test_example_recipe_is_valid() -> None:
    config = TrainConfig.from_yaml(REPO_ROOT / "configs" / "segment-au-ceo2.yaml")
    assert config.task == "segment" and config.checkpoint_every_n_epochs == 5


@pytest.mark.parametrize("name", ["bce", "bce_dice", "l1", "l2", "l1_l2"])
def test_losses_are_zero_or_small_at_the_answer(name: str) -> None:
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    perfect = target * 40 - 20 if name.startswith("bce") else target
    worst = -perfect if name.startswith("bce") else 1 - target
    loss = make_loss(name)
    assert loss(perfect, target) < 1e-3 < loss(worst, target)
    with pytest.raises(InvalidParameterError, match="unknown loss"):
        make_loss("huber")
