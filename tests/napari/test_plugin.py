"""The napari plugin, headless: napari draws through OpenGL, so these tests run on a virtual X
display (Debian's xvfb, started by pytest-xvfb) and skip where napari or Xvfb is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

napari = pytest.importorskip("napari")
pytest.importorskip("pytestqt")
if shutil.which("Xvfb") is None:
    pytest.skip("no Xvfb: napari needs an X display with OpenGL", allow_module_level=True)
import mrcfile  # noqa: E402
import npe2  # noqa: E402

from dosewise.napari._reader import get_reader  # noqa: E402
from dosewise.napari._sample import sample_hrtem  # noqa: E402
from dosewise.napari._widgets import DenoiseWidget, SegmentWidget, SupersampleWidget  # noqa: E402


def test_the_manifest_is_valid_and_installed() -> None:
    manifest = npe2.PluginManifest.from_distribution("dosewise")
    assert {w.display_name for w in manifest.contributions.widgets} == {"Denoise", "Segment particles", "Supersample"}
    assert manifest.contributions.sample_data[0].key == "hrtem-low-dose"


def test_the_reader_scales_layers_in_nm(tmp_path: Path) -> None:
    path = tmp_path / "frames.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.random.default_rng(0).random((3, 32, 40)).astype(np.float32))
        mrc.voxel_size = 2.5  # Å
    assert get_reader(str(tmp_path / "x.png")) is None
    (data, meta, kind), = get_reader(str(path))(str(path))
    assert kind == "image" and data.shape == (3, 32, 40)
    assert meta["scale"] == pytest.approx((1.0, 0.25, 0.25)) and meta["units"] == "nm"


def test_the_reader_opens_a_real_dm3_with_its_calibration(real_data_dir: Path) -> None:
    path = real_data_dir / "stem" / "dlssstem__img.dm3"
    if not path.is_file():
        pytest.skip("real DM3 not here")
    (data, meta, _), = get_reader(str(path))(str(path))
    assert data.ndim == 2 and meta["units"] == "nm" and 0 < meta["scale"][-1] < 10


def _wait(widget: object, qtbot: object, timeout_ms: int = 120_000) -> None:
    """Until the worker has reported (a fast one may finish before a signal could be awaited)."""
    assert widget.start() is not None
    qtbot.waitUntil(lambda: widget.run_button.enabled and not widget.status.value.endswith("..."),
                    timeout=timeout_ms)


def _run(widget: object, qtbot: object) -> None:
    _wait(widget, qtbot)
    assert not widget.status.value.startswith("error"), widget.status.value


def test_denoise_segment_and_supersample_add_layers_with_the_source_scale(make_napari_viewer: object,
                                                                         qtbot: object) -> None:
    viewer = make_napari_viewer()
    for data, meta, kind in sample_hrtem():
        getattr(viewer, f"add_{kind}")(data, **meta)
    frame = viewer.layers[-1]
    assert frame.scale[-1] == pytest.approx(0.025)  # 0.25 Å/px

    denoise = DenoiseWidget(viewer)
    viewer.window.add_dock_widget(denoise)
    denoise.image.value = frame
    _run(denoise, qtbot)
    restored = viewer.layers[-1]
    assert restored.name.endswith("denoised") and restored.data.shape == frame.data.shape
    assert tuple(restored.scale) == tuple(frame.scale) and restored.data.std() < frame.data.std()

    segment = SegmentWidget(viewer)
    segment.image.value = frame
    _run(segment, qtbot)
    labels = viewer.layers[-1]
    assert isinstance(labels, napari.layers.Labels) and labels.data.shape == frame.data.shape
    assert segment.status.value.endswith("particle(s)")

    small = viewer.add_image(frame.data[::4, ::4].copy(), name="small scan", scale=tuple(frame.scale * 4))
    supersample = SupersampleWidget(viewer)
    supersample.image.value = small
    supersample.coverage.value = "1/16"
    _run(supersample, qtbot)
    filled = viewer.layers[-1]
    assert filled.data.shape == (256, 256) and filled.scale[-1] == pytest.approx(frame.scale[-1])


def test_a_wrong_checkpoint_is_one_line_in_the_widget(make_napari_viewer: object, qtbot: object,
                                                      tmp_path: Path) -> None:
    viewer = make_napari_viewer()
    viewer.add_image(np.ones((32, 32), np.float32), name="flat")
    widget = SegmentWidget(viewer)
    widget.model.value = "checkpoint file..."
    widget.checkpoint.value = tmp_path / "missing.ckpt"
    _wait(widget, qtbot, 60_000)
    assert widget.status.value.startswith("error: ") and "missing.ckpt" in widget.status.value
    assert "\n" not in widget.status.value
