"""``--scheduler``: simulation on a dask.distributed cluster gives the store the local worker
pool gives, image for image (every sample depends on (seed, index) only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.config import HrtemDatasetConfig, StemDatasetConfig
from dosewise.simulate import simulate_hrtem_dataset
from dosewise.simulate.stem_dataset import simulate_stem_dataset
from tests.helpers.cli import invoke
from tests.helpers.stores import store_contents

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> object:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as local:
        yield local


def _same_stores(first: Path, second: Path) -> None:
    one, two = store_contents(first), store_contents(second)
    assert one.keys() == two.keys() and one
    for sample_id, (metadata, arrays) in one.items():
        assert metadata == two[sample_id][0] and arrays.keys() == two[sample_id][1].keys()
        for name, array in arrays.items():
            np.testing.assert_array_equal(array, two[sample_id][1][name])


def test_stem_on_a_dask_cluster_matches_the_local_pool(cluster: object, tmp_path: Path) -> None:
    config = StemDatasetConfig(n_images=6, size_px=32, seed=3)
    simulate_stem_dataset(tmp_path / "pool.zarr", config, workers=2, progress=False)
    report = simulate_stem_dataset(tmp_path / "dask.zarr", config, scheduler=cluster.scheduler_address,
                                   progress=False)
    assert report.samples_written == 6
    _same_stores(tmp_path / "pool.zarr", tmp_path / "dask.zarr")


def test_hrtem_on_a_dask_cluster_matches_the_local_pool_and_resumes(cluster: object, tmp_path: Path) -> None:
    config = HrtemDatasetConfig(n_structures=2, variants_per_structure=2, size_px=48, seed=1)
    simulate_hrtem_dataset(tmp_path / "pool.zarr", config, workers=2, progress=False)
    partial = config.model_copy(update={"n_structures": 1})
    simulate_hrtem_dataset(tmp_path / "dask.zarr", partial, scheduler=cluster.scheduler_address, progress=False)
    resumed = simulate_hrtem_dataset(tmp_path / "dask.zarr", config, scheduler=cluster.scheduler_address,
                                     progress=False)
    assert resumed.structures_skipped == [0] and resumed.samples_written == 2
    _same_stores(tmp_path / "pool.zarr", tmp_path / "dask.zarr")


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    result = invoke("simulate", "stem", "--out", tmp_path / "s.zarr", "--n", 2, "--size", 32,
                    "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and result.stderr.splitlines()[-1].startswith(
        "dosewise: error: cannot reach the dask scheduler tcp://127.0.0.1:1"), result.stderr
    assert not (tmp_path / "s.zarr").exists()
