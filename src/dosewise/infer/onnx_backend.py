"""ONNX export of a network and its onnxruntime session, for fast CPU inference.

The network is exported once with the TorchScript exporter (dynamic batch,
height and width axes) and run with onnxruntime's CPU provider through the same
tiling as the torch backend (:class:`~dosewise.infer.predictor.TiledPredictor`
takes the session as its per-batch forward).

Shape-dependent Python branches in a network's ``forward`` (padding to a
multiple of the stride) are frozen at the traced input size. Tiled inference
only ever feeds ``tile_px x tile_px`` tiles, so every export records the tile
size it was traced with, and a cached export made for another tile size is
re-exported rather than trusted. Every export is checked against the torch
network on a random tile before it is kept: a graph the tracer got wrong is an
error, never a silently different denoiser.
"""

from __future__ import annotations

import copy
import hashlib
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dosewise.errors import InputFileError, InvalidParameterError, OutputFileError
from dosewise.io import atomic_write
from dosewise.io.messages import one_line_reason

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
TILE_KEY = "dosewise_tile_px"
SOURCE_KEY = "dosewise_source"
AGREEMENT = 1e-4
"""Largest |onnx - torch| accepted at export, as a fraction of the torch output's range."""


def export_onnx(
    network: nn.Module, path: str | Path, *, tile_px: int, source: str | Path | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``network`` as ONNX to ``path`` (atomically), traced at ``(1, 1, tile_px, tile_px)``.

    The network itself is left untouched (a CPU copy is exported). ``source``
    (the checkpoint), ``tile_px`` and ``metadata`` are stored in the model's metadata.
    """
    path = onnx_target(path)
    with atomic_write(path, inputs=[source] if source else ()) as tmp:
        write_onnx(network, tmp, tile_px=tile_px,
                   metadata={SOURCE_KEY: str(source) if source else "", **(metadata or {})})
    return path


def onnx_target(path: str | Path) -> Path:
    """``path`` as an ONNX export's target: a one-line error unless it ends in .onnx in an
    existing folder, checked before any work."""
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise OutputFileError("an ONNX export must end in .onnx", path)
    if path.parent != Path("") and not path.parent.is_dir():
        raise OutputFileError(f"directory {path.parent} does not exist", path)
    return path


def write_onnx(network: nn.Module, path: Path, *, tile_px: int,
               metadata: Mapping[str, str] | None = None) -> OnnxForward:
    """Write ``network`` as ONNX straight to ``path`` and return the onnxruntime session that
    was checked against torch on a random tile.

    No temporary of its own: :func:`export_onnx` hands it one, and a BioImage.IO package
    stages its files in a folder that is thrown away whole. ``tile_px`` and ``metadata``
    are stored in the model's metadata.
    """
    import onnx

    cpu_copy = traceable_copy(network)
    example = torch.randn(1, 1, tile_px, tile_px, generator=torch.Generator().manual_seed(0))
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about frozen shape branches
        expected = cpu_copy(example).numpy()
        torch.onnx.export(
            cpu_copy,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    for key, value in {TILE_KEY: str(tile_px), **(metadata or {})}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    session = OnnxForward(path)
    _check_agreement(session(example.numpy()), expected, type(network).__name__)
    return session


def _check_agreement(actual: np.ndarray, expected: np.ndarray, name: str) -> None:
    scale = max(float(np.ptp(expected)), 1e-6)
    error = float(np.abs(actual - expected).max()) / scale if actual.shape == expected.shape else np.inf
    if not error <= AGREEMENT:
        raise InvalidParameterError(
            f"the ONNX export of {name} does not reproduce the torch network (max error "
            f"{error:.3g} of the output range); use the torch backend"
        )


class _MSDNetForExport(nn.Module):
    """MSD-net with its layers concatenated instead of written into a preallocated buffer.

    :class:`~dosewise.models.msdnet.MSDNet` fills a buffer in place inside a custom
    autograd function (memory-lean training); the TorchScript tracer drops those
    writes, so the export runs this arithmetically identical form.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from dosewise.models.msdnet import _layer
        from dosewise.models.padding import crop_to, pad_to_multiple

        net = self.network
        x, size = pad_to_multiple(x, 1, min_size=net.min_size)
        features = x
        for weight, bias, dilation in zip(net.weights, net.biases, net.dilations):
            features = torch.cat([features, _layer(features, weight, bias, dilation)], dim=1)
        return crop_to(net.head(features), size)


def traceable_copy(network: nn.Module) -> nn.Module:
    """A float32, CPU, eval-mode copy of ``network`` in a form the TorchScript tracer records
    correctly; ``network`` itself is left untouched. Every exporter traces this copy (ONNX
    here, TorchScript in a BioImage.IO package), so the formats cannot drift apart."""
    from dosewise.models.msdnet import MSDNet

    cpu_copy = copy.deepcopy(network).float().cpu().eval()
    return _MSDNetForExport(cpu_copy) if isinstance(cpu_copy, MSDNet) else cpu_copy


class OnnxForward:
    """An onnxruntime CPU session as a :data:`~dosewise.infer.predictor.BatchForward`.

    Intra-op threads follow ``torch.get_num_threads()`` so both backends use the
    same cores.
    """

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # not an ONNX file, truncated, unsupported operator
            raise InputFileError(f"cannot load ONNX model: {one_line_reason(exc)}", path) from exc
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    @property
    def tile_px(self) -> int | None:
        value = self.metadata.get(TILE_KEY)
        return int(value) if value and value.isdigit() else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        feed = {INPUT_NAME: np.ascontiguousarray(batch, dtype=np.float32)}
        return self.session.run([OUTPUT_NAME], feed)[0]


def cache_path(checkpoint: str | Path) -> Path:
    """``<checkpoint>.onnx`` beside the checkpoint, or a per-user temporary folder when
    the checkpoint's folder is read-only (a model installed in site-packages)."""
    checkpoint = Path(checkpoint)
    beside = checkpoint.with_name(checkpoint.name + ".onnx")
    if os.access(checkpoint.parent, os.W_OK):
        return beside
    key = hashlib.sha1(str(checkpoint.resolve()).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"dosewise-onnx-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{checkpoint.stem}-{key}.onnx"


def cached_session(network: nn.Module, checkpoint: str | Path, *, tile_px: int) -> OnnxForward:
    """A session of ``checkpoint``'s ONNX export, re-exported when the checkpoint is newer
    than the cache, the cache is unreadable, or it was traced for another tile size."""
    checkpoint = Path(checkpoint)
    path = cache_path(checkpoint)
    if path.is_file() and path.stat().st_mtime_ns >= checkpoint.stat().st_mtime_ns:
        try:
            forward = OnnxForward(path)
        except InputFileError:
            pass
        else:
            if forward.tile_px == tile_px:
                return forward
    export_onnx(network, path, tile_px=tile_px, source=checkpoint)
    return OnnxForward(path)
