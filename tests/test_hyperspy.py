"""dosewise.hyperspy: a Signal2D in, a Signal2D out, with the same axes and metadata and a record
of what dosewise did; stacks and lazy signals through ``map``."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from dosewise.errors import InvalidImageError
from dosewise.infer.denoise import Denoiser, default_model_path
from dosewise.infer.supersample import default_supersampler_path

hs = pytest.importorskip("hyperspy.api")
dw = pytest.importorskip("dosewise.hyperspy")


def calibrated_stack() -> object:
    rng = np.random.default_rng(0)
    signal = hs.signals.Signal2D(rng.poisson(5.0, (3, 48, 56)).astype(np.float32))
    for axis, (name, units, scale, offset) in zip(signal.axes_manager._axes, [
            ("time", "s", 2.0, 0.0), ("y", "nm", 0.05, 1.0), ("x", "nm", 0.05, -2.0)]):
        axis.name, axis.units, axis.scale, axis.offset = name, units, scale, offset
    signal.metadata.General.title = "frames"
    signal.original_metadata.set_item("Vendor.exposure_s", 0.1)
    return signal


def axes(signal: object) -> list[tuple[str, str, float, float, int]]:
    return [(a.name, a.units, a.scale, a.offset, a.size) for a in signal.axes_manager._axes]


def test_denoise_keeps_axes_and_metadata_and_records_the_step() -> None:
    signal = calibrated_stack()
    out = dw.denoise(signal, device="cpu", dose_e_per_A2=12.5)
    assert axes(out) == axes(signal)
    assert out.original_metadata.Vendor.exposure_s == 0.1
    (step,) = out.metadata.Processing.dosewise
    assert step["operation"] == "denoise" and step["dose_e_per_A2"] == 12.5
    assert step["model_sha256"] == hashlib.sha256(default_model_path().read_bytes()).hexdigest()
    expected = Denoiser.from_checkpoint(default_model_path(), device="cpu")(signal.data)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    assert not hasattr(signal.metadata, "Processing")  # the input is untouched


def test_a_lazy_stack_stays_lazy_and_computes_the_same() -> None:
    signal = calibrated_stack()
    lazy = dw.denoise(signal.as_lazy(), device="cpu")
    assert lazy._lazy
    lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(lazy.data, dw.denoise(signal, device="cpu").data, rtol=1e-5, atol=1e-5)


def test_steps_accumulate_and_segment_gives_a_boolean_mask() -> None:
    signal = calibrated_stack()
    yy, xx = np.mgrid[:48, :56]
    signal.data[:] = np.random.default_rng(2).poisson(np.where((yy - 24) ** 2 + (xx - 28) ** 2 < 100, 90, 200))
    mask = dw.segment(dw.denoise(signal, device="cpu"), device="cpu")
    assert mask.data.dtype == bool and axes(mask) == axes(signal)
    assert [step["operation"] for step in mask.metadata.Processing.dosewise] == ["denoise", "segment"]
    assert mask.data[:, 24, 28].all() and not mask.data[:, 2, 2].any()


def test_supersample_makes_the_full_grid_with_finer_scales_and_keeps_the_probes() -> None:
    rng = np.random.default_rng(1)
    samples = hs.signals.Signal2D(rng.random((18, 22)).astype(np.float32))
    for axis in samples.axes_manager.signal_axes:
        axis.units, axis.scale = "nm", 0.5
    full = dw.supersample(samples, coverage="1/25", model=default_supersampler_path(), device="cpu")
    assert full.data.shape == (90, 110)
    assert [(a.units, a.scale) for a in full.axes_manager.signal_axes] == [("nm", 0.1), ("nm", 0.1)]
    np.testing.assert_allclose(full.data[::5, ::5], samples.data, rtol=1e-6)
    assert full.metadata.Processing.dosewise[-1]["coverage"] == "1/25"


def test_a_spectrum_is_a_one_line_error() -> None:
    with pytest.raises(InvalidImageError, match="Signal2D"):
        dw.denoise(hs.signals.Signal1D(np.zeros((4, 100), np.float32)))
