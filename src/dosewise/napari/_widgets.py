"""Denoise, Segment and Supersample docked in napari: pick an image layer and a model, press Run;
the work runs in a worker thread (napari's activity dock shows its progress, frame by frame) over
the same functions as ``dosewise denoise|segment|supersample``, and the result is a new layer
with the source's scale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, FloatSlider, Label, PushButton, Table
from napari.layers import Image
from napari.qt.threading import thread_worker

from dosewise.errors import DosewiseError
from dosewise.shipped import SHIPPED, shipped_checkpoint

CUSTOM = "checkpoint file..."


class _TaskWidget(Container):
    """An image-layer picker, a model picker (shipped or a checkpoint file), Run, and a status line."""

    task = ""
    shipped = ""

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.image = ComboBox(label="image", choices=self._image_layers)
        names = [m.name for m in SHIPPED.values() if m.task == self.task]
        self.model = ComboBox(label="model", choices=[*names, CUSTOM], value=self.shipped)
        self.checkpoint = FileEdit(label="checkpoint", mode="r", filter="*.ckpt", visible=False)
        self.run_button = PushButton(text="Run")
        self.status = Label(value="")
        self.worker: Any = None
        self.extend([self.image, self.model, self.checkpoint, *self.options(), self.run_button, self.status])
        self.model.changed.connect(lambda value: setattr(self.checkpoint, "visible", value == CUSTOM))
        self.run_button.changed.connect(self.start)
        for event in (napari_viewer.layers.events.inserted, napari_viewer.layers.events.removed):
            event.connect(lambda _: self.image.reset_choices())

    def options(self) -> list[Any]:
        return []

    def _image_layers(self, _: Any = None) -> list[tuple[str, Image]]:
        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image)]

    def checkpoint_path(self) -> Path:
        if self.model.value == CUSTOM:
            return Path(self.checkpoint.value)
        return shipped_checkpoint(self.model.value, self.task)

    def start(self) -> Any:
        """Run on the chosen layer in a worker thread; the result arrives as a new layer."""
        layer = self.image.value
        if layer is None:
            self.status.value = "add an image layer first"
            return None
        frames = np.asarray(layer.data, dtype=np.float32)
        frames = frames[None] if frames.ndim == 2 else frames.reshape(-1, *frames.shape[-2:])
        self.status.value = f"{self.task}: {len(frames)} frame(s)..."
        self.run_button.enabled = False
        worker = thread_worker(self._guarded, progress={"total": len(frames), "desc": f"dosewise {self.task}"})(
            frames, layer)
        worker.returned.connect(lambda result: self._failed(result) if isinstance(result, _Failure)
                                else self._finish(layer, result))
        worker.errored.connect(self._failed)
        worker.finished.connect(lambda: setattr(self.run_button, "enabled", True))
        self.worker = worker
        worker.start()
        return worker

    def _guarded(self, frames: np.ndarray, layer: Image) -> Iterator[Any]:
        """The work; a user's mistake (a missing or wrong checkpoint, a bad frame) comes back as one
        line for the status, not as a traceback in napari's notifications."""
        try:
            return (yield from self.work(frames, layer, self.checkpoint_path()))
        except DosewiseError as error:
            return _Failure(str(error))

    def _failed(self, error: Exception | _Failure) -> None:
        message = error.message if isinstance(error, _Failure) else f"{type(error).__name__}: {error}"
        self.status.value = "error: " + " ".join(message.split())

    def work(self, frames: np.ndarray, layer: Image, checkpoint: Path) -> Iterator[Any]:
        raise NotImplementedError

    def _finish(self, layer: Image, result: Any) -> None:
        raise NotImplementedError


class _Failure:
    """What a worker returns instead of raising for a user's mistake."""

    def __init__(self, message: str) -> None:
        self.message = message


def _pixel_size_A(layer: Image) -> float | None:
    value = layer.metadata.get("pixel_size_A")
    return float(value) if value else None


def _shaped(stack: list[np.ndarray], like: np.ndarray) -> np.ndarray:
    """Frames back in the layer's shape (2-D stays 2-D)."""
    return stack[0] if like.ndim == 2 else np.stack(stack).reshape(*like.shape[:-2], *stack[0].shape)


class DenoiseWidget(_TaskWidget):
    """The shipped denoiser (or a checkpoint) on every frame; torch or onnxruntime."""

    task, shipped = "denoise", "denoise-default"

    def options(self) -> list[Any]:
        self.backend = ComboBox(label="backend", choices=["torch", "onnx"], value="torch")
        return [self.backend]

    def work(self, frames: np.ndarray, layer: Image, checkpoint: Path) -> Iterator[Any]:
        from dosewise.workflows.denoise import make_denoiser

        denoiser, _ = make_denoiser(checkpoint, backend=self.backend.value)
        restored = []
        for frame in frames:
            restored.append(np.asarray(denoiser(frame), dtype=np.float32))
            yield
        return _shaped(restored, np.asarray(layer.data)), checkpoint

    def _finish(self, layer: Image, result: tuple[np.ndarray, Path]) -> None:
        data, checkpoint = result
        self.viewer.add_image(data, name=f"{layer.name} denoised", scale=layer.scale,
                              metadata={**layer.metadata, "dosewise_model": checkpoint.name})
        self.status.value = f"denoised with {checkpoint.name}"


class SegmentWidget(_TaskWidget):
    """Particles of every frame as a labels layer, with the particle table (area and equivalent
    diameter in nm when the layer is calibrated) on the layer and in the widget."""

    task, shipped = "segment", "segment-particles"

    def options(self) -> list[Any]:
        self.threshold = FloatSlider(label="threshold", min=0.05, max=0.95, step=0.05, value=0.5)
        self.split = ComboBox(label="touching", choices=["split (watershed)", "keep merged"], value="split (watershed)")
        self.table = Table(value={"label": [], "area_nm2": [], "diameter_nm": []})
        return [self.threshold, self.split, self.table]

    def work(self, frames: np.ndarray, layer: Image, checkpoint: Path) -> Iterator[Any]:
        from skimage.measure import label

        from dosewise.checkpoint import load_model
        from dosewise.image import EMImage
        from dosewise.infer.segmentation import segment

        model = load_model(checkpoint)
        if model.task != "segment":
            raise DosewiseError(f"{checkpoint.name} is a {model.task!r} model, not a segmentation model")
        labels, rows = [], []
        for index, frame in enumerate(frames):
            result = segment(EMImage(frame, pixel_size_A=_pixel_size_A(layer)), model, threshold=self.threshold.value,
                             split_touching=self.split.value.startswith("split"))
            labels.append((result.labels if result.labels is not None else label(result.mask)).astype(np.int32))
            rows += [{"frame": index, "label": p.label, "area_px": p.area_px, "area_nm2": p.area_nm2,
                      "diameter_nm": p.equivalent_diameter_nm, "centroid_x_px": p.centroid_x_px,
                      "centroid_y_px": p.centroid_y_px} for p in result.particles]
            yield
        return _shaped(labels, np.asarray(layer.data)), rows

    def _finish(self, layer: Image, result: tuple[np.ndarray, list[dict[str, Any]]]) -> None:
        labels, rows = result
        features = {key: [row[key] for row in rows] for key in (rows[0] if rows else {"label": 0})}
        added = self.viewer.add_labels(labels, name=f"{layer.name} particles", scale=layer.scale)
        if rows and len(np.unique(labels)) - 1 == len(rows):
            added.features = features
        self.table.value = {key: [row[key] for row in rows] for key in ("frame", "label", "area_nm2", "diameter_nm")} \
            if rows else {"label": []}
        self.status.value = f"{len(rows)} particle(s)"


class SupersampleWidget(_TaskWidget):
    """A small scan of kept probe positions (every s-th) filled to the full grid."""

    task, shipped = "supersample", "supersample-default"

    def options(self) -> list[Any]:
        self.coverage = ComboBox(label="coverage", choices=["1/4", "1/9", "1/16", "1/25", "1/36", "1/64", "1/100"],
                                 value="1/16")
        return [self.coverage]

    def work(self, frames: np.ndarray, layer: Image, checkpoint: Path) -> Iterator[Any]:
        from dosewise.infer.supersample import Supersampler
        from dosewise.serve.models import supersample_array

        supersampler = Supersampler(checkpoint)
        filled, trust = [], []
        for frame in frames:
            image, report = supersample_array(supersampler, frame, self.coverage.value)
            filled.append(image)
            trust.append(report["trust"])
            yield
        return _shaped(filled, np.asarray(layer.data)), trust

    def _finish(self, layer: Image, result: tuple[np.ndarray, list[float | None]]) -> None:
        from dosewise.physics import parse_coverage

        data, trust = result
        step = parse_coverage(self.coverage.value)
        scale = tuple(layer.scale[:-2]) + tuple(s / step for s in layer.scale[-2:])
        self.viewer.add_image(data, name=f"{layer.name} supersampled {self.coverage.value}", scale=scale)
        known = [t for t in trust if t is not None]
        self.status.value = f"filled to {data.shape[-2]}x{data.shape[-1]}" + (
            f"; trust {np.mean(known):.2f}" if known else "")
