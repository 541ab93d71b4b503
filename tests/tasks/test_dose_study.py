"""``dosewise dose-study``: a tiny recipe runs end to end, shares structures and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dosewise.checkpoint import load_model
from dosewise.experiments.dose_study import swept_val_dice
from tests.helpers.checkpoints import write_segmentation_checkpoint
from tests.helpers.cli import invoke


def tiny_recipe(tmp_path: Path) -> Path:
    recipe = {
        "name": "tiny", "out_dir": str(tmp_path / "study"), "report_dir": str(tmp_path / "report"),
        "scale": "cpu", "pixel_size_A": 0.4, "max_sampling_A": 0.2, "diameter_range_A": [15, 20],
        "optimiser": {"lr": 0.01},
        "scales": {
            "cpu": {"structures": 2, "variants_per_structure": 2, "size_px": 64, "epochs": 2, "batch_size": 2,
                    "crop_px": 64, "series_frames": 4, "model_options": {"msdnet": {"depth": 4, "max_dilation": 4}}},
            "gpu": {"structures": 100, "variants_per_structure": 10, "size_px": 512, "epochs": 300},
        },
        "series": {"dose_range_e_per_A2": [100, 1e5], "mtf": "mtf3"},
        "runs": [{"name": "msd-high", "model": "msdnet", "dose_range_e_per_A2": [1e3, 1e6], "mtf": "mtf4"},
                 {"name": "msd-mtf1", "model": "msdnet", "dose_range_e_per_A2": [1e3, 1e6], "mtf": "mtf1"}],
        "figures": [{"name": "mtf", "runs": ["msd-high", "msd-mtf1"]}],
        "paper_values": {"msd-high": "converges ~200"},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def test_tiny_study_runs_end_to_end_and_resumes(tmp_path: Path) -> None:
    recipe = tiny_recipe(tmp_path)
    result = invoke("dose-study", str(recipe), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scale"] == "cpu" and [s["name"] for s in report["sweeps"]] == ["msd-high", "msd-mtf1"]
    assert all(s["frames"] == 4 and s["target_source"] == "true mask" for s in report["sweeps"])
    study = tmp_path / "study"
    assert len(list((study / "data" / "exit_waves").glob("*.pkl"))) == 2  # two training sets, one multislice each
    table = (tmp_path / "report" / "mtf.md").read_text(encoding="utf-8")
    assert "| msd-high | msdnet | mtf4 | 1000-1e+06 |" in table and "F1, last frame" in table and "converges ~200" in table
    assert (tmp_path / "report" / "mtf.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "sweep_msd-mtf1.csv").is_file()
    done = (study / "runs" / "msd-high" / "done.json").stat().st_mtime_ns
    again = invoke("dose-study", str(recipe), "--json")
    assert again.exit_code == 0, again.output
    assert (study / "runs" / "msd-high" / "done.json").stat().st_mtime_ns == done  # not retrained
    assert json.loads(again.stdout)["sweeps"] == report["sweeps"]


@pytest.mark.parametrize(("change", "message"), [
    ({"scale": "tpu"}, "scale 'tpu' is not one of"),
    ({"figures": [{"name": "x", "runs": ["nope"]}]}, "unknown runs"),
])
def test_bad_recipes_get_one_line(tmp_path: Path, change: dict, message: str) -> None:
    recipe = tiny_recipe(tmp_path)
    raw = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    raw.update(change)
    recipe.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = invoke("dose-study", str(recipe))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_table_reports_the_swept_checkpoints_val_dice_not_the_last_epochs(tmp_path: Path) -> None:
    """The study sweeps ``best.ckpt``; its val Dice is that checkpoint's, not ``done.json``'s
    (the last epoch's callback metrics), which differ whenever Dice fell at the end."""
    best = write_segmentation_checkpoint(tmp_path / "best.ckpt", metrics={"val/dice": 0.8, "val/loss": 0.2})
    assert swept_val_dice(load_model(best)) == pytest.approx(0.8)
