"""One live restoration at a time: ``dosewise stream``'s runner in a background thread, with the
latest raw and restored frame kept (as PNG) for the page, and the same files written."""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dosewise.infer.stream import StreamReport, folder_items, run_stream, stack_items
from dosewise.io.writers import PNG_PERCENTILES
from dosewise.workflows._output import prepare_out_dir


def png_data_url(frame: np.ndarray) -> str:
    """An 8-bit PNG of ``frame`` (0.5-99.5 % percentiles), as a data URL the page shows at once."""
    low, high = np.nanpercentile(frame, PNG_PERCENTILES)
    scaled = np.clip((frame - low) / (high - low if high > low else 1.0), 0, 1)
    buffer = io.BytesIO()
    Image.fromarray((scaled * 255).astype(np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class LiveFrame:
    """The newest frame: raw and restored as arrays (for profiles) and as PNG data URLs."""

    index: int
    raw: np.ndarray
    restored: np.ndarray
    pixel_size_A: float | None

    def event(self, report: StreamReport) -> dict[str, Any]:
        """What the page's event stream carries for this frame."""
        mean_counts = float(np.mean(self.raw))
        dose_A2 = mean_counts / self.pixel_size_A ** 2 if self.pixel_size_A else None
        return {"frame": self.index, "raw": png_data_url(self.raw), "restored": png_data_url(self.restored),
                "shape": list(self.raw.shape), "fps": report.fps, "p50_ms": report.latency_ms(50),
                "p99_ms": report.latency_ms(99), "skipped": len(report.skipped),
                "mean_counts_per_px": mean_counts, "dose_e_per_A2": dose_A2}


@dataclass
class LiveSession:
    """A running stream from ``source`` into ``out_dir`` with ``denoiser``."""

    source: Path
    out_dir: Path
    denoiser: Any
    watch_s: float = 3600.0
    report: StreamReport = field(default_factory=StreamReport)
    latest: LiveFrame | None = None
    error: str | None = None
    frames_seen: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        prepare_out_dir(self.out_dir)
        if self.source.is_dir():
            items = folder_items(self.source, self.out_dir, watch_s=self.watch_s, poll_s=0.2, sleep=self._sleep)
        else:
            items = stack_items(self.source, self.out_dir)
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True, name="dosewise-live")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _run(self, items: Any) -> None:
        pixel_size_A: list[float | None] = [None]

        def calibrated(items: Any) -> Any:  # the pixel size of the item being restored, for the dose
            for item in items:
                def load(read: Any = item.load) -> tuple[np.ndarray, float | None]:
                    data, pixel_size_A[0] = read()
                    return data, pixel_size_A[0]
                item.load = load
                yield item

        def restore(data: np.ndarray) -> np.ndarray:
            if self._stop.is_set():
                raise _Stopped
            restored = self.denoiser(data)
            raw_2d, restored_2d = (a if a.ndim == 2 else a[-1] for a in (data, restored))
            self.latest = LiveFrame(self.frames_seen, raw_2d, restored_2d, pixel_size_A[0])
            self.frames_seen += 1
            return restored

        try:
            run_stream(calibrated(items), restore, report=self.report)
        except _Stopped:
            pass
        except Exception as error:  # shown on the page; the server stays up
            self.error = " ".join(str(error).split()) or type(error).__name__


class _Stopped(Exception):
    """The page stopped the session."""
