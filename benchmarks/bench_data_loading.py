"""Seconds per training crop read from a store, against the pre-fix lookup in the same run.

    .venv/bin/python benchmarks/bench_data_loading.py [--store /work/campaign-supersample/stem.zarr] [--repeats 5]

``read_source`` keeps opened stores in a cache. Before 2026-12-03 it looked a store up with
``cache.get(path) or DatasetStore.open(path)``, which takes the store's truth value, i.e. its
length, listing every sample (one JSON read per sample) on every crop. This times 40 reads
of random samples both ways, interleaved, and prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from dosewise.data.unlabeled import Source, read_source
from dosewise.io import DatasetStore


def pre_fix_read(source: Source, cache: dict) -> np.ndarray:
    store = cache.get(source.path) or DatasetStore.open(source.path)  # the old lookup, on purpose
    cache[source.path] = store
    return store.sample(source.sample_id).array(source.key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/work/campaign-supersample/stem.zarr"))
    parser.add_argument("--key", default="noise_free")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ids = DatasetStore.open(args.store).ids()
    picks = np.random.default_rng(0).choice(len(ids), 40, replace=False)
    sources = [Source(args.store, ids[i], args.key) for i in picks]
    times: dict[str, list[float]] = {"read_source": [], "pre-fix lookup": []}
    for _ in range(args.repeats):
        for name, read in (("read_source", read_source), ("pre-fix lookup", pre_fix_read)):
            cache: dict = {}
            read(sources[0], cache)  # open the store outside the timing
            start = time.perf_counter()
            for source in sources:
                read(source, cache)
            times[name].append((time.perf_counter() - start) / len(sources))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"store {args.store} ({len(ids)} samples), median of {args.repeats} x 40 reads")
    for name, seconds in medians.items():
        print(f"{name}: {seconds * 1e3:.2f} ms per crop")
    print(f"ratio pre-fix / read_source: {medians['pre-fix lookup'] / medians['read_source']:.0f}x")


if __name__ == "__main__":
    main()
