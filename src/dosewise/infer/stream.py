"""Denoise a live sequence of frames and write each result as soon as it is done.

Two sources:

- a multi-frame file (TIFF stack, DM4/EMD/SER series, NPY/MRC stack): frames are
  read one at a time where the format allows (TIFF pages, memory-mapped NPY/MRC)
  and written as ``frame_000000.tif``, ``frame_000001.tif``, ... in order;
- a folder that files appear in: the files present at the start are processed
  in sorted order, then the folder is polled for new ones; a new file is taken
  only once its size and modification time have not changed for one poll
  interval (so a half-written file is never read), and written as
  ``<name>_denoised.tif`` (a multi-frame file gives a multi-frame TIFF).
  Polling stops when ``watch_s`` seconds pass with nothing new.

A frame or file that cannot be read (corrupt, wrong shape, NaN) is reported by
``on_skip`` as one line and skipped; it never stops the stream. A file that
failed is retried if it changes later.

Latency of a frame: from the start of reading it to its output being on disk
(for a multi-frame file in a folder, until that file's stack is written).
Frames per second: frames written / time spent reading, denoising and writing
(waiting for new files is not counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dosewise.errors import DosewiseError, InputFileError, InvalidImageError, InvalidParameterError
from dosewise.io import SUPPORTED_SUFFIXES, write_image
from dosewise.io.frames import frame_2d, open_frames
from dosewise.io.messages import one_line_reason

FRAME_NAME = "frame_{index:06d}.tif"
OUTPUT_SUFFIX = "_denoised.tif"


@dataclass
class StreamItem:
    """One unit of work: read ``load()`` -> denoise -> write ``output``."""

    label: str
    output: Path
    load: Callable[[], tuple[np.ndarray, float | None]]
    inputs: tuple[Path, ...] = ()
    problem: str | None = None  # known before reading: reported and skipped
    failed: bool = False  # set by the runner when the item was skipped


@dataclass
class StreamReport:
    """What a stream did: frames written, what was skipped, speed and latency."""

    frames: int = 0
    outputs: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    busy_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def fps(self) -> float | None:
        return self.frames / self.busy_s if self.frames and self.busy_s > 0 else None

    def latency_ms(self, percentile: float) -> float | None:
        if not self.latencies_ms:
            return None
        return float(np.percentile(self.latencies_ms, percentile))

    def summary(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "outputs": len(self.outputs),
            "skipped": len(self.skipped),
            "skipped_items": list(self.skipped),
            "fps": self.fps,
            "latency_p50_ms": self.latency_ms(50),
            "latency_p99_ms": self.latency_ms(99),
            "busy_s": self.busy_s,
            "elapsed_s": self.elapsed_s,
        }


def run_stream(
    items: Iterator[StreamItem],
    denoise: Callable[[np.ndarray], np.ndarray],
    *,
    on_skip: Callable[[str], None] = lambda line: None,
    on_written: Callable[[Path], None] = lambda path: None,
    report: StreamReport | None = None,
) -> StreamReport:
    """Read, denoise and write every item in order; unreadable items are skipped.

    Errors while writing (disk full, an output that would overwrite an input)
    are not the source's fault and stop the stream. ``report``: filled as frames are written
    (a live view reads it while the stream runs).
    """
    report = report if report is not None else StreamReport()
    start = time.perf_counter()
    for item in items:
        began = time.perf_counter()
        try:
            if item.problem is not None:
                raise InvalidImageError(item.problem)
            data, pixel_size_A = item.load()
        except DosewiseError as error:
            _skip(item, error.problem, report, on_skip)
            continue
        except Exception as error:  # a reader failing in a way we did not foresee
            _skip(item, f"cannot read: {one_line_reason(error)}", report, on_skip)
            continue
        denoised = denoise(data)
        write_image(item.output, denoised, inputs=item.inputs, pixel_size_A=pixel_size_A)
        done = time.perf_counter()
        n_frames = 1 if data.ndim == 2 else len(data)
        report.frames += n_frames
        report.outputs.append(item.output)
        report.latencies_ms.extend([(done - began) * 1e3] * n_frames)
        report.busy_s += done - began
        on_written(item.output)
    report.elapsed_s = time.perf_counter() - start
    return report


def _skip(item: StreamItem, problem: str, report: StreamReport, on_skip: Callable[[str], None]) -> None:
    item.failed = True
    line = f"skipped {item.label}: {' '.join(problem.split())}"
    report.skipped.append(line)
    on_skip(line)


# --------------------------------------------------------------------------- multi-frame files
def stack_items(path: str | Path, out_dir: str | Path) -> Iterator[StreamItem]:
    """Items for every frame of a multi-frame file, in order, read lazily where possible.

    A file that cannot be opened at all raises :class:`InputFileError` here, at
    once; a frame that cannot be read becomes a skipped item.
    """
    path, out_dir = Path(path), Path(out_dir)
    n_frames, get_frame, pixel_size_A = open_frames(path)

    def items() -> Iterator[StreamItem]:
        for index in range(n_frames):

            def load(index: int = index) -> tuple[np.ndarray, float | None]:
                return frame_2d(get_frame(index)), pixel_size_A

            output = out_dir / FRAME_NAME.format(index=index)
            yield StreamItem(f"{path.name} frame {index}", output, load, inputs=(path,))

    return items()


# --------------------------------------------------------------------------- watched folders
def folder_items(
    folder: str | Path,
    out_dir: str | Path,
    *,
    pattern: str = "*",
    watch_s: float = 0.0,
    poll_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[StreamItem]:
    """Items for the files in ``folder`` now, then for new ones until ``watch_s`` idle seconds.

    Only files matching ``pattern`` with a readable suffix count; hidden files
    (names starting with ".", e.g. temporary files) and anything under
    ``out_dir`` are ignored.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise InputFileError("folder not found" if not folder.exists() else "is not a folder", folder)
    if out_dir.resolve() == folder.resolve():
        raise InvalidParameterError(
            "output folder must differ from the watched folder (outputs would be read as new frames)",
            out_dir,
        )
    if watch_s < 0 or poll_s <= 0:
        raise InvalidParameterError(f"--watch must be >= 0 and the poll interval > 0, got {watch_s}, {poll_s}")
    finished: dict[Path, tuple[int, int]] = {}  # path -> signature when taken
    failed: set[Path] = set()
    last_seen: dict[Path, tuple[int, int]] = {}  # new files waiting to be stable
    outputs: dict[str, Path] = {}
    first_pass = True
    idle_since = clock()
    while True:
        listing = _listing(folder, pattern, out_dir)
        ready: list[Path] = []
        changed = False
        for path, signature in listing.items():
            if path in finished and (path not in failed or finished[path] == signature):
                continue
            if first_pass or last_seen.get(path) == signature:
                ready.append(path)
                last_seen.pop(path, None)
            else:
                changed = True  # new or still growing: look again next poll
                last_seen[path] = signature
        first_pass = False
        for path in ready:
            finished[path] = listing[path]
            failed.discard(path)
            item = _file_item(path, out_dir, outputs)
            yield item
            if item.failed:
                failed.add(path)
        if ready or changed:
            idle_since = clock()
        if watch_s <= 0 or clock() - idle_since >= watch_s:
            return
        sleep(poll_s)


def _listing(folder: Path, pattern: str, out_dir: Path) -> dict[Path, tuple[int, int]]:
    out_root = out_dir.resolve()
    found: dict[Path, tuple[int, int]] = {}
    for path in sorted(folder.glob(pattern)):
        if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            if not path.is_file() or path.resolve().is_relative_to(out_root):
                continue
            stat = path.stat()
        except OSError:  # vanished between listing and stat
            continue
        found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def _file_item(path: Path, out_dir: Path, outputs: dict[str, Path]) -> StreamItem:
    name = path.stem + OUTPUT_SUFFIX
    output = out_dir / name
    owner = outputs.setdefault(name, path)
    problem = None
    if owner != path:
        problem = f"its output {name} is already the output of {owner.name}; rename one of them"

    def load() -> tuple[np.ndarray, float | None]:
        n_frames, get_frame, pixel_size_A = open_frames(path)
        frames = [frame_2d(get_frame(index)) for index in range(n_frames)]
        if len({frame.shape for frame in frames}) > 1:
            raise InvalidImageError("frames of different shapes in one file")
        return (frames[0] if n_frames == 1 else np.stack(frames)), pixel_size_A

    return StreamItem(path.name, output, load, inputs=(path,), problem=problem)
