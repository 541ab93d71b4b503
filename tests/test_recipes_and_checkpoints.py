"""One recipe shape (old spellings name the new key) and one checkpoint loader for every kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

import dosewise
from dosewise.checkpoint import CHECKPOINT_KEY, LoadedModel, LoadedSupersampler, read_checkpoint
from dosewise.config import (
    CompareConfig,
    DoseStudyConfig,
    PretrainConfig,
    SupersampleConfig,
    TrainConfig,
    apply_overrides,
)
from dosewise.errors import InputFileError, InvalidParameterError
from dosewise.io import DatasetStore
from dosewise.training import pretrain, train, train_supersampler

TRAIN = {"model": {"name": "msdnet", "options": {"depth": 2, "max_dilation": 2}}, "data": {"store": "x.zarr"}}


@pytest.mark.parametrize(
    ("recipe", "raw", "new_key"),
    [
        (TrainConfig, {**TRAIN, "lr": 1e-3}, "optimiser.lr"),
        (TrainConfig, {**TRAIN, "data": {"store": "x.zarr", "crop_size": 64}}, "crop_px"),
        (PretrainConfig, {"model": {"name": "hrnet"}, "data": {"folders": ["f"]}, "betas": [0.5, 0.9]},
         "optimiser.betas"),
        (PretrainConfig, {"model": {"name": "hrnet"}, "data": {"folders": ["f"], "crop_size": 64}}, "crop_px"),
        (SupersampleConfig, {"data": {"folders": ["f"]}, "lr": 1e-3}, "optimiser.lr"),
        (SupersampleConfig, {"data": {"folders": ["f"]}, "model": {"kind": "two-stage"}}, "model.name"),
        (CompareConfig, {"models": ["hrnet"], "store": "a", "test_store": "b", "lr": 1e-3}, "optimiser.lr"),
        (DoseStudyConfig, {"scales": {"cpu": {"structures": 2, "variants_per_structure": 1, "size_px": 64,
                                              "epochs": 1, "crop_size": 64}}, "scale": "cpu",
                           "runs": [{"name": "a", "model": "msdnet"}]}, "crop_px"),
        (DoseStudyConfig, {"scales": {"cpu": {"structures": 2, "variants_per_structure": 1, "size_px": 64,
                                              "epochs": 1}}, "scale": "cpu",
                           "runs": [{"name": "a", "model": "msdnet", "lr": 1e-4}]}, "optimiser.lr"),
    ],
)
def test_an_old_spelling_is_one_line_naming_the_new_key(recipe, raw, new_key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=new_key.replace(".", r"\.")) as info:
        recipe.validate_dict(raw, tmp_path / "recipe.yaml")
    assert "\n" not in str(info.value) and "recipe.yaml" in str(info.value)


def test_every_recipe_spells_the_learning_rate_the_same_way() -> None:
    train_config = TrainConfig.validate_dict({**TRAIN, "optimiser": {"lr": 1e-3}})
    pre = PretrainConfig.validate_dict({"model": {"name": "hrnet"}, "data": {"folders": ["f"]},
                                        "optimiser": {"lr": 1e-3}})
    sup = SupersampleConfig.validate_dict({"data": {"folders": ["f"]}, "optimiser": {"lr": 5e-4}})
    assert (train_config.optimiser.lr, pre.optimiser.lr, sup.optimiser.lr) == (1e-3, 1e-3, 5e-4)
    # each recipe keeps its paper's defaults for what is not given: Pix2Pix's beta1 = 0.5
    assert pre.optimiser.betas == (0.5, 0.999) and train_config.optimiser.betas == (0.9, 0.999)
    assert SupersampleConfig.validate_dict({"data": {"folders": ["f"]}}).optimiser.lr == 1e-3


def test_apply_overrides_merges_sections_and_skips_what_was_not_given() -> None:
    raw = {"epochs": 3, "data": {"store": "a", "crop_px": 64}, "optimiser": {"lr": 1e-3}}
    merged = apply_overrides(raw, {"epochs": None, "data": {"crop_px": 32, "flips": None},
                                   "out_dir": Path("runs/x")})
    assert merged == {"epochs": 3, "data": {"store": "a", "crop_px": 32}, "optimiser": {"lr": 1e-3},
                      "out_dir": "runs/x"}
    assert raw["data"]["crop_px"] == 64  # the input is not changed


def test_recipes_written_by_an_earlier_version_migrate() -> None:
    old_train = {**TRAIN, "data": {"store": "x.zarr", "crop_size": 48}}
    assert TrainConfig.validate_dict(TrainConfig.migrate(old_train)).data.crop_px == 48
    old_pre = {"model": {"name": "hrnet"}, "data": {"folders": ["f"], "crop_size": 48}, "lr": 1e-3,
               "betas": [0.5, 0.99]}
    pre = PretrainConfig.validate_dict(PretrainConfig.migrate(old_pre))
    assert (pre.data.crop_px, pre.optimiser.lr, pre.optimiser.betas) == (48, 1e-3, (0.5, 0.99))
    old_sup = {"data": {"folders": ["f"], "steps": [4]}, "lr": 2e-3, "loss_normaliser": "seed",
               "model": {"kind": "one-stage", "step": 4, "width": 8, "inner_blocks": 1, "outer_blocks": 2}}
    sup = SupersampleConfig.validate_dict(SupersampleConfig.migrate(old_sup))
    assert (sup.model.name, sup.model.in_channels, sup.model.options) == (
        "dlss-one-stage", 2, {"step": 4, "width": 8, "blocks": 3})
    assert (sup.optimiser.lr, sup.loss_normaliser) == (2e-3, "paper")


def test_the_shipped_denoiser_written_before_the_rename_still_loads() -> None:
    path = Path(dosewise.__file__).parent / "weights" / "denoise-default.ckpt"
    assert "crop_size" in read_checkpoint(path)["hyper_parameters"]["data"]  # an old spelling
    model = dosewise.load_model(path)
    assert isinstance(model, LoadedModel) and model.task == "restore"


# --------------------------------------------------------------------------- every kind loads
def _disc_store(path: Path) -> Path:
    rng = np.random.default_rng(0)
    store = DatasetStore.create(path)
    yy, xx = np.mgrid[:32, :32]
    for index in range(6):
        mask = (yy - rng.uniform(10, 22)) ** 2 + (xx - rng.uniform(10, 22)) ** 2 <= 36
        clean = np.where(mask, 0.5, 1.0).astype(np.float32)
        store.write_sample(f"s{index:06d}_v000", {"clean": clean, "noisy": rng.poisson(20 * clean).astype(
            np.float32), "mask": mask.astype(np.uint8)}, {"pixel_size_A": 0.1})
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kinds")
    store = _disc_store(root / "discs.zarr")
    common = {"epochs": 1, "batch_size": 2, "device": "cpu", "checkpoint_every_n_epochs": 1}
    model = {"name": "msdnet", "options": {"depth": 2, "max_dilation": 2}}
    found = {}
    for task in ("segment", "restore"):
        recipe = TrainConfig.validate_dict({**common, "task": task, "model": model, "out_dir": str(root / task),
                                            "data": {"store": str(store), "crop_px": 32}})
        found[task] = train(recipe, progress=False).last_checkpoint
    for pretext in ("gan", "dae"):
        recipe = PretrainConfig.validate_dict({**common, "pretext": pretext, "model": model,
                                               "out_dir": str(root / pretext),
                                               "data": {"stores": [str(store)], "crop_px": 32, "val_fraction": 0.3}})
        found[f"pretrain-{pretext}"] = pretrain(recipe, progress=False).last_checkpoint
    scans = root / "scans"
    scans.mkdir()
    for index in range(4):
        tifffile.imwrite(scans / f"scan{index}.tif", np.random.default_rng(index).random((48, 48), np.float32))
    recipe = SupersampleConfig.validate_dict({**common, "out_dir": str(root / "dlss"),
                                              "model": {"name": "dlss-two-stage", "in_channels": 2,
                                                        "options": {"width": 4, "inner_width": 4,
                                                                    "inner_blocks": 1, "outer_blocks": 1}},
                                              "data": {"folders": [str(scans)], "crop_px": 32, "steps": [4]}})
    found["supersample"] = train_supersampler(recipe, progress=False).last_checkpoint
    return found


@pytest.mark.parametrize(("kind", "task"), [("segment", "segment"), ("restore", "restore"),
                                            ("pretrain-gan", "restore"), ("pretrain-dae", "restore"),
                                            ("supersample", "supersample")])
def test_load_model_loads_every_kind_the_project_writes(checkpoints: dict[str, Path], kind: str,
                                                        task: str) -> None:
    path = checkpoints[kind]
    record = read_checkpoint(path)[CHECKPOINT_KEY]
    assert record["kind"] == ("train" if kind in ("segment", "restore") else kind)
    model = dosewise.load_model(path)
    assert model.task == task and not model.network.training
    expected = LoadedSupersampler if kind == "supersample" else LoadedModel
    assert isinstance(model, expected)
    state = {k.removeprefix("network."): v for k, v in read_checkpoint(path)["state_dict"].items()
             if k.startswith("network.")}
    for name, tensor in model.network.state_dict().items():
        assert torch.equal(tensor, state[name]), name


def test_load_model_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "weights.ckpt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(InputFileError, match="not a dosewise"):
        dosewise.load_model(path)


def test_a_half_precision_slim_checkpoint_is_half_the_size_and_predicts_the_same(tmp_path: Path) -> None:
    """Shipped weights are stored in float16 (``slim_checkpoint(half=True)``); loading casts them
    back to the float32 network, whose probabilities move by no more than float16 rounding."""
    from dosewise.checkpoint import slim_checkpoint
    from tests.helpers.checkpoints import write_segmentation_checkpoint

    source = write_segmentation_checkpoint(tmp_path / "full.ckpt", depth=6, head_seed=3)
    full, half = slim_checkpoint(source, tmp_path / "a.ckpt"), slim_checkpoint(source, tmp_path / "b.ckpt", half=True)
    full_state, half_state = read_checkpoint(full)["state_dict"], read_checkpoint(half)["state_dict"]
    assert {v.dtype for v in half_state.values()} == {torch.float16}
    assert 2 * sum(v.nbytes for v in half_state.values()) == sum(v.nbytes for v in full_state.values())
    image = np.random.default_rng(0).poisson(50, (64, 64)).astype(np.float32)
    a, b = (dosewise.load_model(path).predict(image) for path in (full, half))
    assert np.ptp(a) > 0.05 and np.abs(a - b).max() < 2e-3
