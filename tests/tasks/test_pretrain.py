"""Self-supervised pretraining, weight transfer, fine-tuning and the comparison grid."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from dosewise.data.corruptions import CorruptionConfig
from dosewise.models import ModelConfig, build_model
from dosewise.models.discriminators import PatchDiscriminator, patch_receptive_field_px
from dosewise.config import PretrainConfig
from dosewise.training import PretrainModule, UnlabeledDataModule, pretrain, train
from dosewise.config import CompareConfig
from dosewise.experiments.compare import run_compare
from dosewise.training.finetune import finetune_config
from dosewise.training.transfer import head_prefix, transfer_weights
from dosewise.checkpoint import network_state
from dosewise.errors import InvalidParameterError

UNET = {"name": "unet-2-44"}


def pretrain_config(store: Path, out_dir: Path, pretext: str = "gan", **overrides) -> PretrainConfig:
    fields = {
        "pretext": pretext,
        "model": UNET,
        "data": {"stores": [str(store)], "crop_px": 32, "val_fraction": 0.2},
        "epochs": 2,
        "batch_size": 4,
        "checkpoint_every_n_epochs": 1,
        "device": "cpu",
        "out_dir": str(out_dir),
        "optimiser": {"lr": 1e-3},
    }
    fields.update(overrides)
    return PretrainConfig.validate_dict(fields)


def test_patch_discriminator_receptive_field_is_70_px() -> None:
    assert patch_receptive_field_px(3) == 70
    torch.manual_seed(0)
    disc = PatchDiscriminator(in_channels=2).eval()
    x = torch.zeros(1, 1, 160, 160, requires_grad=True)
    y = torch.zeros(1, 1, 160, 160, requires_grad=True)
    scores = disc(x, y)
    scores[0, 0, scores.shape[2] // 2, scores.shape[3] // 2].backward()
    rows = np.nonzero(x.grad[0, 0].abs().sum(1).numpy() + y.grad[0, 0].abs().sum(1).numpy())[0]
    assert rows.max() - rows.min() + 1 <= 70


def test_discriminator_sees_input_and_output_concatenated(disc_store: Path, tmp_path: Path) -> None:
    module = PretrainModule(pretrain_config(disc_store, tmp_path))
    assert module.discriminator.layers[0].in_channels == 2
    seen = []
    module.discriminator.layers[0].register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    x, y = torch.randn(2, 1, 32, 32), torch.randn(2, 1, 32, 32)
    module.discriminator(x, y)
    assert torch.equal(seen[0], torch.cat([x, y], dim=1))


def test_gan_steps_lower_generator_l1_and_losses_stay_finite(disc_store: Path, tmp_path: Path) -> None:
    pl.seed_everything(0, verbose=False)
    config = pretrain_config(disc_store, tmp_path, corruption={"kind": "poisson", "dose_e_per_px": [5, 20]})
    module = PretrainModule(config)
    data = UnlabeledDataModule(config)
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=8)))
    x, y = batch
    opt_g, opt_d = (torch.optim.Adam(module.network.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                    torch.optim.Adam(module.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999)))
    module.manual_backward = lambda loss: loss.backward()  # outside a Trainer
    with torch.no_grad():
        before = torch.nn.functional.l1_loss(module(x), y).item()
    for _ in range(15):
        fake = module(x)
        losses = module.discriminator_step(x, y, fake, opt_d)
        losses.update(module.generator_step(x, y, fake, opt_g))
        assert all(torch.isfinite(v) for v in losses.values())
    with torch.no_grad():
        after = torch.nn.functional.l1_loss(module(x), y).item()
    assert after < 0.7 * before


def test_pretrain_run_writes_checkpoints_and_validation_curve(disc_store: Path, tmp_path: Path) -> None:
    result = pretrain(pretrain_config(disc_store, tmp_path / "gan"), progress=False)
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert (tmp_path / "gan" / "checkpoints" / "best_epoch002.ckpt").is_file()
    with open(result.metrics_csv, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert all(np.isfinite(float(row["val/l1"])) for row in rows)
    assert result.curves_png.stat().st_size > 0

    dae = pretrain(pretrain_config(disc_store, tmp_path / "dae", pretext="dae"), progress=False)
    assert "train/loss_d" not in dae.metrics and np.isfinite(dae.metrics["val/l1"])


def test_transfer_copies_matching_tensors_and_leaves_the_head_new(disc_store: Path, tmp_path: Path) -> None:
    result = pretrain(pretrain_config(disc_store, tmp_path, epochs=1), progress=False)
    source = network_state(result.best_checkpoint)
    torch.manual_seed(123)
    network = build_model(ModelConfig(**UNET))
    fresh_head = {k: v.clone() for k, v in network.state_dict().items() if k.startswith(head_prefix(network))}
    report = transfer_weights(network, result.best_checkpoint)
    state = network.state_dict()
    assert report.transferred and not report.missing and not report.shape_mismatch
    for name in report.transferred:
        assert torch.equal(state[name], source[name]), name
    assert set(report.head) == set(fresh_head) == {"head.weight", "head.bias"}
    for name, tensor in fresh_head.items():
        assert torch.equal(state[name], tensor)
        assert not torch.equal(state[name], source[name])
    assert set(report.transferred) | set(report.head) == set(state)


def test_transfer_reports_shape_mismatch_for_another_model(disc_store: Path, tmp_path: Path) -> None:
    result = pretrain(pretrain_config(disc_store, tmp_path, epochs=1), progress=False)
    network = build_model(ModelConfig(name="unet-2-84"))
    report = transfer_weights(network, result.best_checkpoint)
    assert report.shape_mismatch and report.transferred
    assert "shape differs" in report.summary()


def test_finetune_from_pretrained_writes_transfer_report(disc_store: Path, tmp_path: Path) -> None:
    result = pretrain(pretrain_config(disc_store, tmp_path / "pre", epochs=1), progress=False)
    config = finetune_config("segment", disc_store, init=result.best_checkpoint, overrides={
        "epochs": 1, "batch_size": 4, "device": "cpu", "out_dir": str(tmp_path / "ft"),
        "data": {"crop_px": 32, "max_train_samples": 6}})
    assert config.model.name == "unet-2-44" and config.loss == "bce"
    train(config, progress=False)
    assert (tmp_path / "ft" / "transfer.json").is_file()


def test_max_train_samples_keeps_a_seeded_subset(disc_store: Path) -> None:
    from dosewise.training import split_for

    full = finetune_config("segment", disc_store, model="unet-2-44")
    small = finetune_config("segment", disc_store, model="unet-2-44", overrides={"data": {"max_train_samples": 5}})
    assert len(split_for(small).train) == 5
    assert set(split_for(small).train) <= set(split_for(full).train)
    assert split_for(small).val == split_for(full).val


def test_finetune_task_needs_its_target_array(disc_store: Path) -> None:
    from dosewise.errors import InputFileError

    with pytest.raises(InputFileError, match="superres"):
        finetune_config("superres", disc_store, model="unet-2-44")


def test_compare_tiny_grid_writes_table_with_rows_and_columns(disc_store: Path, tmp_path: Path) -> None:
    config = CompareConfig.validate_dict({
        "task": "segment", "models": ["unet-2-44"], "store": str(disc_store), "test_store": str(disc_store),
        "max_train_samples": 8, "crop_px": 32, "epochs": 2, "checkpoint_every_n_epochs": 1,
        "batch_size": 4, "seeds": [0, 1], "device": "cpu", "out_dir": str(tmp_path / "grid"),
        "pretrain": {"pretext": "dae", "data": {"stores": [str(disc_store)], "crop_px": 32},
                     "sizes": [10, 20], "epochs": 1, "batch_size": 4},
    })
    result = run_compare(config, progress=False)
    with open(result.table_csv, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["model", "init", "1", "2"]
    assert [row[:2] for row in rows[1:]] == [["unet-2-44", "R"], ["unet-2-44", "P(10)"], ["unet-2-44", "P(20)"]]
    assert all(0 <= float(v) <= 100 for row in rows[1:] for v in row[2:])
    assert len(result.rows) == 3 * 2 * 2  # inits x seeds x checkpoint epochs
    table = result.table_md.read_text()
    assert "| unet-2-44 | P(20) |" in table and "±" in table
    assert "P(10)" in result.delta_md.read_text()
    assert result.curves_png.stat().st_size > 0


def test_corruptions_touch_the_input_only_and_poisson_is_unbiased() -> None:
    from dosewise.data.corruptions import Corrupt

    rng = np.random.default_rng(0)
    clean = np.full((1, 64, 64), 0.5, np.float32)
    for kind in ("classic", "poisson", "physical"):
        noisy, target = Corrupt(CorruptionConfig(kind=kind))(clean, clean.copy(), rng)
        assert np.array_equal(target, clean) and not np.array_equal(noisy, clean)
    noisy, _ = Corrupt(CorruptionConfig(kind="poisson", dose_e_per_px=(10, 10)))(
        np.full((1, 256, 256), 0.5, np.float32), clean, rng)
    assert abs(noisy.mean() - 0.5) < 0.01 and abs(noisy.var() - 0.05) < 0.005


def test_folder_finetune_config_trains_on_every_pair_and_repeats_crops(tmp_path: Path) -> None:
    from dosewise.training.datamodule import PairDataModule
    import tifffile
    from tests.helpers.discs import disc_sample

    rng = np.random.default_rng(0)
    for folder, count in (("train", 2), ("val", 1)):
        (tmp_path / folder).mkdir()
        for index in range(count):
            clean, mask = disc_sample(rng)
            tifffile.imwrite(tmp_path / folder / f"{folder}{index}.tif", clean)
            tifffile.imwrite(tmp_path / folder / f"{folder}{index}_mask.tif", mask.astype(np.uint8))
    source = {"images_dir": tmp_path / "train", "masks_dir": tmp_path / "train",
              "val_images_dir": tmp_path / "val", "val_masks_dir": tmp_path / "val"}
    config = finetune_config("segment", source, init="random", model="unet-2-44",
                             overrides={"data": {"repeats": 4, "crop_px": 32}})
    data = PairDataModule(config)
    assert data.split.train == ["train0", "train1"] and data.split.val == ["val0"]
    assert len(data.train_set) == 8 and len(data.val_set) == 1
    first, again = data.train_set[(0, 0)][0], data.train_set[(0, 1)][0]  # two repeats of train0
    assert not torch.equal(first, again)  # each repeat is its own random crop
    with pytest.raises(InvalidParameterError, match="image/mask folders are for segment"):
        finetune_config("denoise", source, init="random", model="unet-2-44")


def test_resolve_init() -> None:
    from dosewise.training.finetune import resolve_init

    assert resolve_init("random", "hrnet") is None and resolve_init(None, None) is None
    assert resolve_init("runs/x/best.ckpt", None) == Path("runs/x/best.ckpt")
    with pytest.raises(InvalidParameterError, match="use --init random or --init CKPT"):
        resolve_init("pretrained", "unet-2-44")
