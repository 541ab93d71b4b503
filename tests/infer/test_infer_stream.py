"""stream: frames written in order as they finish, unreadable ones skipped, folders polled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dosewise.infer.denoise import Denoiser
from dosewise.infer.stream import folder_items, run_stream, stack_items
from dosewise.io import read_image, write_image
from tests.helpers.cli import invoke
from tests.helpers.discs import disc_frames


def test_stream_of_a_20_frame_stack_writes_20_frames_in_order(
    restore_checkpoint: Path, tmp_path: Path
) -> None:
    stack = disc_frames((20, 48, 56), seed=4)
    source = write_image(tmp_path / "movie.tif", stack)
    out = tmp_path / "out"
    result = invoke("stream", source, "-o", out, "--model", restore_checkpoint, "--device", "cpu",
                    "--tile", 64, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames"] == 20 and summary["skipped"] == 0
    assert summary["fps"] > 0 and 0 < summary["latency_p50_ms"] <= summary["latency_p99_ms"]
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"frame_{i:06d}.tif" for i in range(20)]
    denoiser = Denoiser.from_checkpoint(restore_checkpoint, device="cpu", tile_px=64)
    for index in range(20):
        frame = read_image(out / f"frame_{index:06d}.tif").data
        np.testing.assert_allclose(frame, denoiser(stack[index]), rtol=0, atol=1e-5)


def test_a_nan_frame_in_a_stack_is_reported_and_skipped(restore_checkpoint: Path, tmp_path: Path) -> None:
    import tifffile

    stack = disc_frames((4, 32, 32))
    stack[2, 5, 5] = np.nan
    source = tmp_path / "stack.tif"
    tifffile.imwrite(source, stack, imagej=True, metadata={"axes": "ZYX"})
    skipped: list[str] = []
    denoiser = Denoiser.from_checkpoint(restore_checkpoint, device="cpu", tile_px=32)
    report = run_stream(stack_items(source, tmp_path), denoiser, on_skip=skipped.append)
    assert report.frames == 3
    assert [p.name for p in report.outputs] == ["frame_000000.tif", "frame_000001.tif", "frame_000003.tif"]
    assert len(skipped) == 1 and "stack.tif frame 2" in skipped[0] and "NaN" in skipped[0]


def test_folder_with_one_corrupt_file_among_six_gives_five_outputs(
    checkpoint_copy: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for index in range(6):
        if index == 3:
            (folder / "img_03.tif").write_bytes(b"II*\x00 this is not a TIFF")
        else:
            write_image(folder / f"img_{index:02d}.tif", disc_frames((40, 44), seed=index))
    out = tmp_path / "out"
    result = invoke("stream", folder, "-o", out, "--model", checkpoint_copy, "--backend", "onnx",
                    "--tile", 64, "--watch", 0, "--json")
    assert result.exit_code == 2, result.output  # the batch policy: the good ones written, exit 2 at the end
    assert sorted(p.name for p in out.iterdir()) == [
        f"img_{i:02d}_denoised.tif" for i in (0, 1, 2, 4, 5)
    ]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and "img_03.tif" in lines[0] and "1 frame(s) or file(s) skipped" in lines[1], result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] == 5 and summary["skipped"] == 1 and summary["backend"] == "onnx"


class FakeTime:
    """A clock that advances only when the stream sleeps; ``on_sleep`` changes the folder."""

    def __init__(self, on_sleep) -> None:
        self.now = 0.0
        self.polls = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.polls += 1
        self.on_sleep(self.polls)


def test_watched_folder_takes_new_files_only_once_their_size_is_stable(tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "a.npy").write_bytes(b"x")
    late = folder / "b.npy"

    def on_sleep(poll: int) -> None:
        if poll == 1:
            late.write_bytes(b"half")  # appears half-written
        elif poll == 2:
            late.write_bytes(b"half-and-rest")  # still growing
        (folder / ".b.tmp.npy").write_bytes(b"hidden temporary files are ignored")

    fake = FakeTime(on_sleep)
    taken: list[tuple[str, int]] = []
    for item in folder_items(folder, out, watch_s=1.0, poll_s=0.25, clock=fake.clock, sleep=fake.sleep):
        taken.append((item.label, fake.polls))
        assert item.output == out / f"{Path(item.label).stem}_denoised.tif"
    # a.npy at once; b.npy seen at polls 1 and 2 (growing) and taken at poll 3, when unchanged.
    assert taken == [("a.npy", 0), ("b.npy", 3)]
    # Then it stops after 1 s (4 polls of 0.25 s) with nothing new.
    assert fake.polls == 3 + 4


def test_output_folder_must_not_be_the_watched_folder(restore_checkpoint: Path, tmp_path: Path) -> None:
    result = invoke("stream", tmp_path, "-o", tmp_path, "--model", restore_checkpoint)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "watched folder" in result.stderr
