"""``dosewise train supersample``, ``dosewise supersample`` and ``dosewise evaluate supersample``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from dosewise.physics.partial_scan import partial_scan
from tests.helpers.cli import invoke
from tests.helpers.supersample import lattice_scan


def test_train_then_fill_small_and_masked_scans(scan_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke("train", "supersample", "--data", str(scan_folder), "--coverage", "1/16",
                    "--coverage", "1/25", "--crop", "48", "--epochs", "2", "--device", "cpu",
                    "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    checkpoint = json.loads(result.stdout.strip().splitlines()[-1])["best_checkpoint"]

    image = lattice_scan(np.random.default_rng(5), size=80)
    scan = partial_scan(image, 5)
    tifffile.imwrite(tmp_path / "small.tif", scan.samples)
    tifffile.imwrite(tmp_path / "grid.tif", np.where(scan.mask, image, 0).astype(np.float32))
    tifffile.imwrite(tmp_path / "mask.tif", scan.mask.astype(np.uint8))
    tifffile.imwrite(tmp_path / "full.tif", image)
    filled = tmp_path / "filled"
    small = invoke("supersample", str(tmp_path / "small.tif"), "--coverage", "1/25", "--model",
                   checkpoint, "-o", str(filled), "--device", "cpu", "--json")
    assert small.exit_code == 0, small.output
    output = tifffile.imread(filled / "small_supersampled.tif")
    assert output.shape == (80, 80)
    np.testing.assert_array_equal(output[scan.mask], image[scan.mask])
    assert (filled / "small_supersampled.png").is_file()

    masked = invoke("supersample", str(tmp_path / "grid.tif"), "--mask", str(tmp_path / "mask.tif"),
                    "--model", checkpoint, "-o", str(filled), "--device", "cpu")
    assert masked.exit_code == 0, masked.output
    np.testing.assert_allclose(tifffile.imread(filled / "grid_supersampled.tif"), output, atol=1e-4)

    preview = invoke("supersample", str(tmp_path / "full.tif"), "--coverage", "25", "--from-full",
                     "--model", checkpoint, "-o", str(filled), "--device", "cpu", "--json")
    assert preview.exit_code == 0, preview.output
    row = json.loads(preview.stdout)["images"][0]
    assert 0 < row["rmse_network"] and 0 < row["rmse_bilinear"] and 0 <= row["trust"] <= 1

    evaluation = invoke("evaluate", "supersample", "--data", str(scan_folder), "--model", checkpoint,
                        "--max-images", "3", "--coverage", "1/16", "--coverage", "1/25",
                        "--precision-coverage", "1/16", "-o", str(tmp_path / "eval"),
                        "--device", "cpu", "--json")
    assert evaluation.exit_code == 0, evaluation.output
    report = json.loads(evaluation.stdout)
    assert {(r["method"], r["coverage"]) for r in report["rows"]} >= {("run", "1/16"), ("bilinear", "1/25")}
    assert set(report["precision"]) == {"8-bit int", "16-bit float", "32-bit float"}
    assert (tmp_path / "eval" / "table.md").is_file() and (tmp_path / "eval" / "precision.md").is_file()


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, np.zeros((20, 20), np.float32))
    both = invoke("supersample", str(image), "--model", str(image), "-o", str(tmp_path / "o"))
    assert both.exit_code == 2 and "give either --mask" in both.output
    bad = invoke("supersample", str(image), "--coverage", "1/20", "--model", str(image),
                 "-o", str(tmp_path / "o"))
    assert bad.exit_code == 2 and "not 1/s^2" in bad.output
    junk = invoke("supersample", str(image), "--coverage", "1/25", "--model", str(image),
                  "-o", str(tmp_path / "o"))
    assert junk.exit_code == 2 and "cannot read checkpoint" in junk.output
    from dosewise.infer.denoise import default_model_path

    denoiser = invoke("supersample", str(image), "--coverage", "1/25", "--model",
                      str(default_model_path()), "-o", str(tmp_path / "o"))
    assert denoiser.exit_code == 2 and "not a dosewise supersampling checkpoint" in denoiser.output
    assert not (tmp_path / "o").exists()
    no_data = invoke("train", "supersample", "-o", str(tmp_path / "r"))
    assert no_data.exit_code == 2 and "no training data" in no_data.output
