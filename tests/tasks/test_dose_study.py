"""``dosewise dose-study``: a tiny recipe runs end to end over two test series, shares
structures, sweeps a given checkpoint as it is, trains from an ``init`` and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from dosewise.checkpoint import load_model
from dosewise.experiments.dose_study import swept_val_dice
from tests.helpers.checkpoints import write_segmentation_checkpoint
from tests.helpers.cli import invoke


def tiny_recipe(tmp_path: Path) -> Path:
    given = write_segmentation_checkpoint(tmp_path / "given.ckpt", depth=4, max_dilation=4,
                                          metrics={"val/dice": 0.625}, head_seed=1)
    recipe = {
        "name": "tiny", "out_dir": str(tmp_path / "study"), "report_dir": str(tmp_path / "report"),
        "scale": "cpu", "pixel_size_A": 0.4, "max_sampling_A": 0.2, "diameter_range_A": [15, 20],
        "optimiser": {"lr": 0.01},
        "scales": {
            "cpu": {"structures": 2, "variants_per_structure": 2, "size_px": 64, "epochs": 2, "batch_size": 2,
                    "crop_px": 64, "series_frames": 4, "model_options": {"msdnet": {"depth": 4, "max_dilation": 4}},
                    "runs": {"given": {"checkpoint": str(given)}}},  # at this scale, swept as given
            "gpu": {"structures": 100, "variants_per_structure": 10, "size_px": 512, "epochs": 300},
        },
        "series": [{"dose_range_e_per_A2": [100, 1e5], "mtf": "mtf3", "seed": 1000},
                   {"dose_range_e_per_A2": [100, 1e5], "mtf": "mtf3", "seed": 1001}],
        "runs": [{"name": "msd-high", "model": "msdnet", "dose_range_e_per_A2": [1e3, 1e6], "mtf": "mtf4"},
                 {"name": "msd-mtf1", "model": "msdnet", "dose_range_e_per_A2": [1e3, 1e6], "mtf": "mtf1",
                  "init": str(given)},
                 {"name": "given", "model": "msdnet"}],
        "figures": [{"name": "mtf", "runs": ["msd-high", "msd-mtf1", "given"]}],
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
    names = ["msd-high", "msd-mtf1", "given"]
    assert report["scale"] == "cpu"
    assert [(s["name"], s["series"]) for s in report["sweeps"]] == [
        (n, k) for n in names for k in ("mtf3_seed1000", "mtf3_seed1001")]
    assert all(s["frames"] == 4 and s["target_source"] == "true mask" for s in report["sweeps"])
    # the two series are different structures: different true particle areas
    assert report["sweeps"][0]["target_area_px"] != report["sweeps"][1]["target_area_px"]
    study = tmp_path / "study"
    assert len(list((study / "data" / "exit_waves").glob("*.pkl"))) == 2  # two training sets, one multislice each
    assert not (study / "runs" / "given").exists()  # swept as given, never trained
    assert [s["best_val_dice"] for s in report["sweeps"] if s["name"] == "given"] == [0.625, 0.625]
    tuned = torch.load(next((study / "runs" / "msd-mtf1").rglob("best*.ckpt")), map_location="cpu",
                       weights_only=False)
    assert Path(tuned["hyper_parameters"]["init"]) == tmp_path / "given.ckpt"
    table = (tmp_path / "report" / "mtf.md").read_text(encoding="utf-8")
    assert "| msd-high | msdnet | mtf4 | 1000-1e+06 | random |" in table and "converges ~200" in table
    assert f"| msd-mtf1 | msdnet | mtf1 | 1000-1e+06 | from `{tmp_path / 'given.ckpt'}` |" in table
    assert " ± " in table and "2 test series" in table
    assert (tmp_path / "report" / "mtf.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "sweep_msd-mtf1_mtf3_seed1001.csv").is_file()
    done = (study / "runs" / "msd-high" / "done.json").stat().st_mtime_ns
    again = invoke("dose-study", str(recipe), "--json")
    assert again.exit_code == 0, again.output
    assert (study / "runs" / "msd-high" / "done.json").stat().st_mtime_ns == done  # not retrained
    assert json.loads(again.stdout)["sweeps"] == report["sweeps"]


@pytest.mark.parametrize(("change", "message"), [
    ({"scale": "tpu"}, "scale 'tpu' is not one of"),
    ({"figures": [{"name": "x", "runs": ["nope"]}]}, "unknown runs"),
    ({"series": [{"seed": 1}, {"seed": 1}]}, "test series must differ"),
    ({"runs": [{"name": "x", "model": "msdnet", "checkpoint": "a.ckpt", "init": "b.ckpt"}]}, "not both"),
    ({"scales": {"cpu": {"structures": 2, "variants_per_structure": 1, "size_px": 64, "epochs": 1,
                         "runs": {"nope": {"init": "a.ckpt"}}}}, "scale": "cpu"}, "changes unknown runs ['nope']"),
    ({"scales": {"cpu": {"structures": 2, "variants_per_structure": 1, "size_px": 64, "epochs": 1,
                         "runs": {"given": {"init": "a.ckpt", "checkpoint": "b.ckpt"}}}}, "scale": "cpu"}, "not both"),
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
