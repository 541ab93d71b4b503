"""``dosewise pretrain`` on a folder of micrographs, then ``dosewise finetune``; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from tests.helpers.cli import invoke
from tests.helpers.discs import disc_sample


def test_pretrain_folder_then_finetune(tmp_path: Path, disc_store_cli: Path) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "micrographs"
    folder.mkdir()
    for index in range(6):
        tifffile.imwrite(folder / f"frame{index}.tif", rng.poisson(30, (48, 48)).astype(np.uint16))
    result = invoke("pretrain", folder, "--pretext", "dae", "--corruption", "poisson", "--crop", 32,
                    "--epochs", 1, "--batch-size", 4, "--device", "cpu", "--out", tmp_path / "pre", "--json")
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["best_checkpoint"]
    assert Path(best).is_file()

    store = disc_store_cli
    result = invoke("finetune", "segment", "--data", store, "--init", best, "--epochs", 1, "--crop", 32,
                    "--batch-size", 4, "--max-train", 4, "--device", "cpu", "--out", tmp_path / "ft", "--json")
    assert result.exit_code == 0, result.output
    transfer = json.loads((tmp_path / "ft" / "transfer.json").read_text())
    assert transfer["head"] == ["head.weight", "head.bias"] and transfer["transferred"]


def test_user_mistakes_are_one_line_exit_2(tmp_path: Path, disc_store_cli: Path) -> None:
    result = invoke("pretrain", tmp_path / "missing", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "unlabeled image folder not found" in result.output
    assert len(result.output.strip().splitlines()) == 1
    store = disc_store_cli
    result = invoke("finetune", "segment", "--data", store, "--init", "random", "--out", tmp_path / "ft")
    assert result.exit_code == 2 and "--model" in result.output
    result = invoke("finetune", "segment", "--data", store, "--init", "pretrained", "--model", "unet-2-44",
                    "--out", tmp_path / "ft")
    assert result.exit_code == 2 and "no pretrained weights are shipped for 'unet-2-44'" in result.output
    result = invoke("finetune", "segment", "--images", tmp_path, "--out", tmp_path / "ft")
    assert result.exit_code == 2 and "--images needs --masks" in result.output
    result = invoke("finetune", "segment", "--data", store, "--images", tmp_path, "--masks", tmp_path)
    assert result.exit_code == 2 and "either --data" in result.output
    result = invoke("finetune", "colorize", "--data", store, "--model", "unet-2-44")
    assert result.exit_code == 2 and "unknown fine-tuning task" in result.output
    result = invoke("compare", "--config", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "not found" in result.output


def test_finetune_on_folders_of_images_and_masks(tmp_path: Path) -> None:
    """A microscopist's own labelled files: every --images pair trains, --val-images validates."""
    rng = np.random.default_rng(1)
    for folder, count in (("img", 2), ("val", 1)):
        (tmp_path / folder).mkdir()
        for index in range(count):
            clean, mask = disc_sample(rng)
            tifffile.imwrite(tmp_path / folder / f"p{index}.tif", rng.poisson(30 * clean).astype(np.uint16))
            tifffile.imwrite(tmp_path / folder / f"p{index}_mask.tif", mask.astype(np.uint8) * 255)
    result = invoke("finetune", "segment", "--images", tmp_path / "img", "--masks", tmp_path / "img",
                    "--val-images", tmp_path / "val", "--val-masks", tmp_path / "val", "--init", "random",
                    "--model", "unet-2-44", "--repeats", 3, "--epochs", 1, "--crop", 32, "--batch-size", 2,
                    "--device", "cpu", "--out", tmp_path / "ft", "--json")
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)["best_checkpoint"]).is_file()
