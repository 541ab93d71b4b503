"""``dosewise dose-sweep`` end to end: a tiny trained segmenter on a disc series of rising dose."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dosewise.io import DatasetStore
from dosewise.models import ModelConfig
from dosewise.config import DataConfig, OptimiserConfig, TrainConfig
from dosewise.training import train
from tests.helpers.cli import invoke

DOSES_E_PER_PX = np.geomspace(0.3, 300.0, 10)
PIXEL_SIZE_A = 0.5


@pytest.fixture(scope="module")
def disc_segmenter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep-model")
    rng = np.random.default_rng(0)
    store = DatasetStore.create(root / "train.zarr")
    yy, xx = np.mgrid[:40, :40]
    for index in range(16):
        cy, cx = rng.uniform(12, 28, size=2)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.uniform(6, 10) ** 2
        noisy = rng.poisson(rng.uniform(20, 60) * np.where(mask, 0.5, 1.0)).astype(np.float32)
        store.write_sample(f"s{index:06d}_v000", {"noisy": noisy, "mask": mask.astype(np.uint8)}, {})
    config = TrainConfig(task="segment", model=ModelConfig(name="msdnet", options={"depth": 6, "max_dilation": 4}),
                         data=DataConfig(store=store.path, crop_px=32, val_fraction=0.25),
                         optimiser=OptimiserConfig(lr=1e-2), epochs=8, batch_size=4, out_dir=root / "run",
                         device="cpu", seed=1)
    return train(config, progress=False).last_checkpoint


@pytest.fixture()
def disc_series(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:48, :48]
    mask = (yy - 24) ** 2 + (xx - 22) ** 2 <= 9**2
    store = DatasetStore.create(tmp_path / "series.zarr")
    for f, dose in enumerate(DOSES_E_PER_PX):
        noisy = rng.poisson(dose * np.where(mask, 0.5, 1.0)).astype(np.float32)
        store.write_sample(f"f{f:04d}", {"noisy": noisy, "mask": mask.astype(np.uint8)},
                           {"dose_e_per_A2": float(dose / PIXEL_SIZE_A**2), "pixel_size_A": PIXEL_SIZE_A})
    return store.path


def test_dose_sweep_scores_a_simulated_series_and_writes_figures(
    disc_segmenter: Path, disc_series: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    result = invoke("dose-sweep", str(disc_series), "--model", str(disc_segmenter),
                    "--name", "msd", "-o", str(out), "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (summary,) = report["sweeps"]
    assert summary["target_source"] == "true mask" and summary["frames"] == 10
    rows = (out / "sweep_msd.csv").read_text().splitlines()
    assert rows[0].startswith("frame,dose_e_per_A2,area_px") and len(rows) == 11
    f1 = [float(r.split(",")[7]) for r in rows[1:]]
    assert f1[-1] > 0.9 and f1[-1] > f1[0] + 0.3  # trained at 20-60 e-/px: it sees the disc at high dose only
    assert summary["dose_50_e_per_A2"] is not None
    assert summary["dose_min_e_per_A2"] < summary["dose_50_e_per_A2"] < summary["dose_max_e_per_A2"]
    assert (out / "dose_sweep.png").stat().st_size > 10_000
    assert len(list(out.glob("overlay_msd_*.png"))) >= 2
    assert json.loads((out / "summary.json").read_text())["sweeps"][0]["name"] == "msd"


def test_dose_sweep_compares_models_on_a_real_stack_with_given_doses(
    disc_segmenter: Path, disc_series: Path, tmp_path: Path
) -> None:
    import tifffile

    store = DatasetStore.open(disc_series)
    stack = tmp_path / "series.tif"
    tifffile.imwrite(stack, np.stack([store.sample(i).array("noisy") for i in store.ids()]), photometric="minisblack")
    out = tmp_path / "real"
    doses = ",".join(f"{d:.4g}" for d in DOSES_E_PER_PX)
    result = invoke("dose-sweep", str(stack), "--model", str(disc_segmenter), "--model",
                    str(disc_segmenter), "--name", "a", "--name", "b", "--doses", doses,
                    "--dose-unit", "e/px", "--pixel-size", str(PIXEL_SIZE_A), "-o", str(out),
                    "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    a, b = json.loads(result.stdout)["sweeps"]
    assert a["target_source"] == "last frame" and "mean_f1" not in a
    assert a["dose_max_e_per_A2"] == pytest.approx(DOSES_E_PER_PX[-1] / PIXEL_SIZE_A**2, rel=1e-3)
    assert a["dose_50_e_per_A2"] == b["dose_50_e_per_A2"]


def test_dose_sweep_refuses_a_stack_without_doses(disc_segmenter: Path, tmp_path: Path) -> None:
    import tifffile

    stack = tmp_path / "series.tif"
    tifffile.imwrite(stack, np.ones((3, 32, 32), np.float32), photometric="minisblack")
    out = tmp_path / "none"
    result = invoke("dose-sweep", str(stack), "--model", str(disc_segmenter), "-o", str(out))
    assert result.exit_code == 2
    assert "dose of 3 of 3 frames is unknown" in result.output and "Traceback" not in result.output
    assert not out.exists()
