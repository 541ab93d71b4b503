"""The shipped HRTEM Au segmenter (dosewise/weights/segment-hrtem-au.ckpt, issue 16): loads
offline, finds a simulated Au particle on CeO2 at 10⁴ e⁻/Å² (Larsen et al. 2023's optics and
detector, an image the campaign never saw), and is what ``--model hrtem`` and ``dose-sweep``
without ``--model`` run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from dosewise.checkpoint import load_model
from dosewise.config import HrtemDatasetConfig
from dosewise.image import EMImage
from dosewise.infer.segmentation import segment
from dosewise.io import DatasetStore
from dosewise.metrics import dice
from dosewise.shipped import resolve_model, shipped_checkpoint
from tests.helpers.cli import assert_one_line_error, invoke

pytest.importorskip("abtem")

PIXEL_SIZE_A = 0.25


@pytest.fixture(scope="module")
def hrtem_sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """One 256² px Au/CeO2 frame at 10⁴ e⁻/Å², MTF 4, its clean image and mask (seed 2026: not a
    campaign seed)."""
    from dosewise.simulate import simulate_hrtem_dataset

    store_path = tmp_path_factory.mktemp("hrtem") / "frame.zarr"
    simulate_hrtem_dataset(store_path, HrtemDatasetConfig(
        n_structures=1, variants_per_structure=1, size_px=256, pixel_size_A=PIXEL_SIZE_A,
        dose_range_e_per_A2=(1e4, 1e4), mtf="mtf4", seed=2026), workers=1, progress=False)
    store = DatasetStore.open(store_path)
    sample = store.sample(store.ids()[0])
    return {key: sample.array(key) for key in ("noisy", "clean", "mask")}


@pytest.fixture()
def hrtem_frame(hrtem_sample: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return hrtem_sample["noisy"], hrtem_sample["mask"] > 0


def test_the_shipped_hrtem_segmenter_is_small_and_loads_offline() -> None:
    path = shipped_checkpoint("hrtem", "segment")
    assert path.name == "segment-hrtem-au.ckpt" and path.stat().st_size < 10 * 2**20
    model = load_model(path)
    assert model.task == "segment" and model.model_config.name == "madsen-unet"
    assert (path.parent / "segment-hrtem-au.md").is_file()


def test_it_segments_a_simulated_particle_at_1e4_e_per_A2(hrtem_frame: tuple[np.ndarray, np.ndarray]) -> None:
    noisy, mask = hrtem_frame
    result = segment(EMImage(noisy, pixel_size_A=PIXEL_SIZE_A), load_model(shipped_checkpoint("hrtem", "segment")),
                     device="cpu")
    assert result.mask.shape == noisy.shape
    assert dice(result.mask, mask) >= 0.90


def test_segment_takes_the_shipped_name(hrtem_frame: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    noisy, mask = hrtem_frame
    tifffile.imwrite(tmp_path / "frame.tif", noisy)
    report = json.loads(invoke("segment", str(tmp_path / "frame.tif"), "-o", str(tmp_path / "out"),
                               "--model", "hrtem", "--device", "cpu", "--json").stdout)
    assert Path(report["model"]).name == "segment-hrtem-au.ckpt"
    written = tifffile.imread(tmp_path / "out" / "frame_mask.tif") > 0
    assert dice(written, mask) >= 0.90


def test_dose_sweep_without_a_model_sweeps_the_shipped_one(hrtem_sample: dict[str, np.ndarray],
                                                            tmp_path: Path) -> None:
    """Shot noise on the clean frame at three doses (e⁻/Å²); the particle is found at the highest."""
    rng = np.random.default_rng(0)
    store = DatasetStore.create(tmp_path / "series.zarr")
    for frame, dose_e_per_A2 in enumerate((30.0, 300.0, 1e4)):
        counts = rng.poisson(hrtem_sample["clean"] * dose_e_per_A2 * PIXEL_SIZE_A**2).astype(np.float32)
        store.write_sample(f"f{frame:04d}", {"noisy": counts, "mask": hrtem_sample["mask"]},
                           {"dose_e_per_A2": dose_e_per_A2, "pixel_size_A": PIXEL_SIZE_A})
    result = invoke("dose-sweep", str(store.path), "-o", str(tmp_path / "sweep"), "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)["sweeps"]
    assert summary["name"] == "segment-hrtem-au" and summary["frames"] == 3
    f1 = [float(row.split(",")[7]) for row in (tmp_path / "sweep" / "sweep_segment-hrtem-au.csv").read_text().splitlines()[1:]]
    assert f1[-1] >= 0.85


def test_a_path_beats_a_shipped_name_and_a_missing_file_is_still_an_error(tmp_path: Path) -> None:
    local = tmp_path / "hrtem"
    local.write_bytes(b"")
    assert resolve_model(local, "segment") == local
    assert resolve_model("hrtem", "segment") == shipped_checkpoint("hrtem", "segment")
    result = invoke("segment", str(local), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "nope.ckpt"))
    assert_one_line_error(result, "nope.ckpt")
