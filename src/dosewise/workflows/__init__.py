"""The Python face of every ``dosewise`` command that works on files.

Each module holds the work of one command (or a group): it takes typed arguments,
checks them with one-line :class:`~dosewise.errors.DosewiseError` s, writes its
outputs atomically (never over an input) and returns a small dataclass with what it
wrote and the numbers the command prints (``to_dict()`` is the command's ``--json``
object). The command line only parses options, calls one of these functions and
prints; a notebook calls the same function.

========================  =======================================================
command                   function
========================  =======================================================
``info``                  :func:`dosewise.workflows.info.image_info`
``noise``                 :func:`dosewise.workflows.noise.add_detector_noise`
``fit-mtf``               :func:`dosewise.workflows.mtf.fit_mtf_file`
``subsample``             :func:`dosewise.workflows.subsample.subsample_file`
``models``                :func:`dosewise.workflows.models.list_model_info`
``segment``               :func:`dosewise.workflows.segment.segment_files`
``denoise``               :func:`dosewise.workflows.denoise.denoise_files`
``stream``                :func:`dosewise.workflows.stream.stream_denoise`
``profile``               :func:`dosewise.workflows.profile.profile_file`
``supersample``           :func:`dosewise.workflows.supersample.supersample_files`
``evaluate supersample``  :func:`dosewise.workflows.supersample.evaluate_supersamplers`
``dose-sweep``            :func:`dosewise.workflows.dose_sweep.dose_sweep_files`
``export``                :func:`dosewise.workflows.export.export_checkpoint` (``--onnx``),
                          :func:`dosewise.workflows.bmz.export_bmz` (``--bmz``)
========================  =======================================================

Training and experiment commands call :mod:`dosewise.training` and
:mod:`dosewise.experiments` directly. The names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dosewise.lazy import lazy_exports

if TYPE_CHECKING:
    from dosewise.workflows.denoise import denoise_files, make_denoiser
    from dosewise.workflows.dose_sweep import dose_sweep_files
    from dosewise.workflows.info import image_info
    from dosewise.workflows.models import list_model_info
    from dosewise.workflows.mtf import fit_mtf_file
    from dosewise.workflows.noise import add_detector_noise
    from dosewise.workflows.profile import profile_file
    from dosewise.workflows.segment import segment_files
    from dosewise.workflows.stream import stream_denoise
    from dosewise.workflows.subsample import subsample_file
    from dosewise.workflows.supersample import evaluate_supersamplers, supersample_files

_HOMES = {
    "add_detector_noise": "noise",
    "denoise_files": "denoise",
    "dose_sweep_files": "dose_sweep",
    "evaluate_supersamplers": "supersample",
    "fit_mtf_file": "mtf",
    "image_info": "info",
    "list_model_info": "models",
    "make_denoiser": "denoise",
    "profile_file": "profile",
    "segment_files": "segment",
    "stream_denoise": "stream",
    "subsample_file": "subsample",
    "supersample_files": "supersample",
}

__all__ = [
    "add_detector_noise",
    "denoise_files",
    "dose_sweep_files",
    "evaluate_supersamplers",
    "fit_mtf_file",
    "image_info",
    "list_model_info",
    "make_denoiser",
    "profile_file",
    "segment_files",
    "stream_denoise",
    "subsample_file",
    "supersample_files",
]


__getattr__ = lazy_exports(__name__, _HOMES)
