"""The Python face of ``dosewise export --bmz``: a checkpoint as a BioImage.IO model package.

A BioImage.IO package (bioimageio.spec 0.5) runs in the tools microscopists and biologists
already have (bioimageio.core, deepImageJ, ilastik, napari) without dosewise. The package holds:

- the network twice, as TorchScript and as ONNX weights, both traced at one tile size from the
  one traceable copy ``--onnx`` exports too (:func:`~dosewise.infer.onnx_backend.traceable_copy`);
- dosewise's per-frame normalisation as the spec's own preprocessing (``zero_mean_unit_variance``
  over y, x with eps = the std floor; ``fixed_zero_mean_unit_variance``; ``scale_range``), then
  the same ``clip`` to ±:data:`~dosewise.data.normalise.MAX_NORMALISED`;
- a ``sigmoid`` after a segmenter, so its output is the probability ``dosewise segment`` thresholds;
- as test input, the simulated low-dose HRTEM frame shipped for the napari sample, cut to the
  tile, and as test output dosewise's own output for it;
- a cover (input | output), a README with the checkpoint's model card, licence, authors, papers.

No halo is declared: with one, bioimageio.core pads every tile it feeds by the halo and crops it
off again, so a frame of the tile size would be computed on padding dosewise never adds and the
package would stop computing what dosewise computes. The zip is written to a hidden temporary
beside the target and kept only when ``bioimageio.core.test_model`` passes on it.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bioimageio.core import test_model
from bioimageio.spec import save_bioimageio_package
from bioimageio.spec.model import v0_5
from pydantic import ValidationError

from dosewise.checkpoint import LoadedModel
from dosewise.data.normalise import MAX_NORMALISED, Normalisation
from dosewise.errors import InvalidParameterError, OutputFileError, describe_validation_error
from dosewise.infer.onnx_backend import OPSET, SOURCE_KEY, traceable_copy, write_onnx
from dosewise.io import atomic_write
from dosewise.report.overlay import side_by_side_png
from dosewise.workflows._output import refuse_existing
from dosewise.workflows.export import exportable_model, onnx_metadata

SAMPLE_FRAME = ("napari", "sample_hrtem.npz")
"""The test input's source inside the package (``scripts/make_napari_sample.py``): Au on CeO2 at
300 e-/Å², 0.25 Å/px, simulated after Larsen et al. 2023."""

INPUT_ID = "frame"
YX = (v0_5.AxisId("y"), v0_5.AxisId("x"))


@dataclass(frozen=True)
class Paper:
    """A paper a package cites: the text shown and its DOI (a URL would be fetched to validate it)."""

    text: str
    doi: str


LARSEN_2023 = Paper("Larsen et al. 2023: Quantifying Noise Limitations of Neural Network Segmentations in "
                    "High-Resolution Transmission Electron Microscopy, Ultramicroscopy 253, 113803",
                    "10.48550/arXiv.2302.12629")
KATSUNO_2022 = Paper("Katsuno et al. 2022: Fast Improvement of TEM Images with Low-Dose Electrons by Deep "
                     "Learning, Microsc. Microanal. 28(1), 138-144", "10.1017/S1431927621013799")
KAZIMI_2024 = Paper("Kazimi et al. 2024: Self-Supervised Learning in Electron Microscopy: Towards a Foundation "
                    "Model for Advanced Image Analysis", "10.48550/arXiv.2402.18286")


@dataclass(frozen=True)
class BmzExportResult:
    """What was packaged, and what its output means."""

    checkpoint: Path
    bmz: Path
    task: str
    model: str
    tile_px: int
    format_version: str
    weights: tuple[str, ...]
    output_units: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint": str(self.checkpoint), "bmz": str(self.bmz), "task": self.task, "model": self.model,
                "tile_px": self.tile_px, "bmz_format_version": self.format_version,
                "bmz_weights": list(self.weights), "bmz_output_units": self.output_units,
                "bmz_test_model": "passed", "bmz_bytes": self.size_bytes}


def export_bmz(checkpoint: str | Path, bmz_path: str | Path, *, tile_px: int = 256,
               overwrite: bool = False) -> BmzExportResult:
    """Write ``checkpoint`` (segmentation, restoration or pretraining) as a BioImage.IO model
    package ``bmz_path`` (.zip) for frames of ``tile_px`` x ``tile_px``.

    Supersamplers are refused in one line, as for ONNX; an existing ``bmz_path`` unless
    ``overwrite``. Nothing is left behind when ``bioimageio.core.test_model`` fails on the package.
    """
    checkpoint, target = Path(checkpoint), Path(bmz_path)
    refuse_existing([target], overwrite)
    if target.suffix.lower() != ".zip":
        raise OutputFileError("a BioImage.IO package must end in .zip", target)
    if not target.parent.is_dir():
        raise OutputFileError(f"directory {target.parent} does not exist", target)
    loaded = exportable_model(checkpoint, tile_px, "BioImage.IO")
    frame = _test_frame(tile_px)
    expected = _dosewise_output(loaded, frame)
    with tempfile.TemporaryDirectory(prefix="dosewise-bmz-") as folder:
        stage = Path(folder)
        descr = _describe(loaded, checkpoint, frame, expected, stage)
        with atomic_write(target, inputs=[checkpoint]) as tmp:
            save_bioimageio_package(descr, output_path=tmp)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation, not the user's to act on
                summary = test_model(tmp)
            if summary.status != "passed":
                raise InvalidParameterError(
                    f"bioimageio.core.test_model fails on the package: {_first_failure(summary)}", checkpoint)
            size_bytes = tmp.stat().st_size
    return BmzExportResult(checkpoint=checkpoint, bmz=target, task=loaded.task, model=loaded.model_config.name,
                           tile_px=tile_px, format_version=descr.format_version,
                           weights=tuple(name for name, entry in descr.weights if entry is not None),
                           output_units=_output_units(loaded), size_bytes=size_bytes)


def _test_frame(tile_px: int) -> np.ndarray:
    """The shipped simulated frame cut to ``tile_px`` around its particle (so the cover shows
    one), or reflect-padded, centred, when the tile is larger than the frame."""
    with resources.files("dosewise").joinpath(*SAMPLE_FRAME).open("rb") as file:
        sample = np.load(file)
        frame, mask = sample["noisy"].astype(np.float32), sample["mask"]
    window = []
    for size, middle in zip(frame.shape, (int(axis.mean()) for axis in np.nonzero(mask))):
        start = min(max(middle - tile_px // 2, 0), max(size - tile_px, 0))
        window.append(slice(start, start + tile_px))
    frame = frame[tuple(window)]
    missing = [tile_px - size for size in frame.shape]
    return np.pad(frame, [(m // 2, m - m // 2) for m in missing], mode="reflect")


@torch.no_grad()
def _dosewise_output(loaded: LoadedModel, frame: np.ndarray) -> np.ndarray:
    """``(C, H, W)``: the network on dosewise's normalisation of ``frame``; a segmenter's
    logits through the sigmoid (the probability ``segment`` thresholds), a restoring network's
    output as it leaves the network (the package cannot map it back, see the README)."""
    output = loaded.network(torch.from_numpy(loaded.normalisation.apply(frame))[None, None])
    return (torch.sigmoid(output) if loaded.task == "segment" else output)[0].float().numpy()


def _describe(loaded: LoadedModel, checkpoint: Path, frame: np.ndarray, expected: np.ndarray,
              stage: Path) -> v0_5.ModelDescr:
    """The package's description, its files written into ``stage``."""
    tile_px = frame.shape[-1]
    np.save(stage / "test_input.npy", frame[None, None])
    np.save(stage / "test_output.npy", expected[None])
    (stage / "cover.png").write_bytes(side_by_side_png(frame, expected[0]))
    (stage / "README.md").write_text(_readme(loaded, checkpoint, tile_px), encoding="utf-8")
    example = torch.randn(1, 1, tile_px, tile_px, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about frozen shape branches; trace's deprecation
        # no check_trace (it reruns the graph, 4x the trace on an HRNet): test_model checks these
        # weights against dosewise's own output, which is the stronger check
        torch.jit.trace(traceable_copy(loaded.network), example, check_trace=False).save(str(stage / "weights.pt"))
    write_onnx(loaded.network, stage / "weights.onnx", tile_px=tile_px,
               metadata={SOURCE_KEY: checkpoint.name, **onnx_metadata(loaded)})
    segmenter = loaded.task == "segment"
    output_id = "probability" if segmenter else "restored"
    channels = expected.shape[0]
    try:
        return v0_5.ModelDescr(
            name=_name(checkpoint, loaded),
            description=_description(loaded, tile_px),
            authors=[v0_5.Author(name=metadata.metadata("dosewise")["Author"])],
            cite=[v0_5.CiteEntry(text=paper.text, doi=v0_5.Doi(paper.doi)) for paper in _papers(loaded)],
            license=v0_5.LicenseId(metadata.metadata("dosewise")["License"]),
            documentation=v0_5.FileDescr(source=stage / "README.md"),
            covers=[v0_5.FileDescr(source=stage / "cover.png")],
            tags=["electron-microscopy", "low-dose", "tem", "stem", "dosewise",
                  "segmentation" if segmenter else "denoising"],
            inputs=[v0_5.InputTensorDescr(
                id=v0_5.TensorId(INPUT_ID),
                description="one low-dose frame in any units (counts, electrons, camera ADU)",
                axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=["intensity"]),
                      *(v0_5.SpaceInputAxis(id=axis, size=tile_px) for axis in YX)],
                test_tensor=v0_5.FileDescr(source=stage / "test_input.npy"),
                data=v0_5.IntervalOrRatioDataDescr(type="float32"),
                preprocessing=_preprocessing(loaded.normalisation))],
            outputs=[v0_5.OutputTensorDescr(
                id=v0_5.TensorId(output_id),
                description=_output_units(loaded),
                axes=[v0_5.BatchAxis(),
                      v0_5.ChannelAxis(channel_names=["particle"] if segmenter and channels == 1
                                       else [f"{output_id}{index}" for index in range(channels)]),
                      *(v0_5.SpaceOutputAxis(id=axis, size=v0_5.SizeReference(
                          tensor_id=v0_5.TensorId(INPUT_ID), axis_id=axis)) for axis in YX)],
                test_tensor=v0_5.FileDescr(source=stage / "test_output.npy"),
                data=v0_5.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0) if segmenter else (None, None)),
                postprocessing=[v0_5.SigmoidDescr()] if segmenter else [])],
            weights=v0_5.WeightsDescr(
                torchscript=v0_5.TorchscriptWeightsDescr(source=stage / "weights.pt",
                                                         pytorch_version=v0_5.Version(torch.__version__)),
                # the spec wants one root format; both are traced from the same network copy
                onnx=v0_5.OnnxWeightsDescr(source=stage / "weights.onnx", opset_version=OPSET, parent="torchscript",
                                           comment="traced from the same network copy as the TorchScript weights")),
        )
    except ValidationError as exc:  # a normalisation the spec cannot express (std floor above its eps limit)
        raise InvalidParameterError(f"bioimageio.spec refuses this model: {describe_validation_error(exc)}",
                                    checkpoint) from exc


def _preprocessing(normalisation: Normalisation) -> list[Any]:
    """dosewise's :class:`~dosewise.data.normalise.Normalisation` in the spec's operations."""
    if normalisation.kind == "fixed":
        scale: Any = v0_5.FixedZeroMeanUnitVarianceDescr(kwargs=v0_5.FixedZeroMeanUnitVarianceKwargs(
            mean=normalisation.mean, std=normalisation.std))
    elif normalisation.kind == "minmax":
        scale = v0_5.ScaleRangeDescr(kwargs=v0_5.ScaleRangeKwargs(
            axes=YX, min_percentile=0.0, max_percentile=100.0, eps=normalisation.std_floor))
    else:
        scale = v0_5.ZeroMeanUnitVarianceDescr(kwargs=v0_5.ZeroMeanUnitVarianceKwargs(
            axes=YX, eps=normalisation.std_floor))
    return [scale, v0_5.ClipDescr(kwargs=v0_5.ClipKwargs(min=-MAX_NORMALISED, max=MAX_NORMALISED))]


def _output_units(loaded: LoadedModel) -> str:
    if loaded.task == "segment":
        return "particle probability (sigmoid of the network's logit), 0 to 1"
    if loaded.target_scale == "input":
        return "the restored frame in z-scores of the input frame (times its std, plus its mean: input units)"
    return "the restored frame in the units of the training targets"


def _name(checkpoint: Path, loaded: LoadedModel) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+- ()")
    text = f"dosewise {checkpoint.stem} ({loaded.model_config.name} {loaded.task})"
    return "".join(c if c in allowed else "-" for c in text)[:128]


def _description(loaded: LoadedModel, tile_px: int) -> str:
    what = "Nanoparticle segmentation" if loaded.task == "segment" else "Restoration (denoising)"
    return (f"{what} of low-dose TEM/STEM frames by a dosewise {loaded.model_config.name} network, for "
            f"{tile_px} x {tile_px} px frames; output: {_output_units(loaded)}.")


def _papers(loaded: LoadedModel) -> list[Paper]:
    """The papers the model's task and training come from."""
    if str(loaded.metadata.get("kind", "")).startswith("pretrain"):
        return [KAZIMI_2024]
    papers = [LARSEN_2023 if loaded.task == "segment" else KATSUNO_2022]
    return papers + [KAZIMI_2024] if loaded.metadata.get("fine_tuned") else papers


def _first_failure(summary: Any) -> str:
    """The first failed check of a bioimageio validation summary, in one line."""
    for detail in summary.details:
        if detail.status == "failed":
            reason = detail.errors[0].msg if detail.errors else "no details"
            return " ".join(f"{detail.name}: {reason}".split())[:300]
    return f"status {summary.status}"


def _readme(loaded: LoadedModel, checkpoint: Path, tile_px: int) -> str:
    """The package's documentation: what goes in, what comes out, why the tile is fixed and
    there is no halo, how it was validated, and the checkpoint's model card when it has one."""
    version = metadata.version("dosewise")
    norm = loaded.normalisation
    outliers = ("dosewise takes the frame's statistics leaving out outliers farther than twice the central "
                "1-99 % range beyond it (hot pixels, X-ray spikes); the spec has no such operation, so on a frame "
                "with spikes the package's scale is set by them")
    scaling, differences = {
        "zscore": (f"`zero_mean_unit_variance` over y, x with eps = {norm.std_floor:g} (dosewise's std floor)",
                   f"dosewise divides by max(std, floor) where the spec divides by std + eps (a relative "
                   f"difference of eps / std), and {outliers}"),
        "fixed": (f"`fixed_zero_mean_unit_variance` with mean {norm.mean:g} and std {norm.std:g}",
                  "bioimageio.core divides by std + 1e-6 where dosewise divides by std"),
        "minmax": (f"`scale_range` from the minimum to the maximum over y, x with eps = {norm.std_floor:g}",
                   f"dosewise divides by max(range, floor) where the spec divides by range + eps, and {outliers}"),
    }[norm.kind]
    if loaded.task == "segment":
        output = (f"The probability that a pixel belongs to a particle: the network's logit through the package's "
                  f"`sigmoid` postprocessing. `dosewise segment` marks a particle where it is >= "
                  f"{loaded.threshold:g}, the threshold this model was trained with.")
    elif loaded.target_scale == "input":
        output = ("The restored frame **in z-scores of the input frame**. dosewise maps it back to the input's "
                  "units with the frame's own statistics (output x std + mean of the input frame); the spec "
                  "has no operation for that inverse mapping "
                  "(`scale_mean_variance` would force the output's own mean and std onto the input's, which is "
                  "another thing), so the package leaves it in z-scores. Do that step yourself when you need "
                  "counts.")
    else:
        output = "The restored frame in the units of the training targets (clean images, vacuum near 1)."
    card = checkpoint.with_suffix(".md")
    card_text = ""
    if card.is_file():
        card_text = (" The model card below gives the numbers measured so far.\n\n"
                     f"## The model card of `{checkpoint.name}`\n\n"
                     f"{_demote_headings(card.read_text(encoding='utf-8'))}")
    return f"""# {_name(checkpoint, loaded)}

Exported from the dosewise checkpoint `{checkpoint.name}` ({loaded.model_config.name}, task
`{loaded.task}`) with `dosewise export {checkpoint.name} --bmz OUT.zip --tile {tile_px}` (dosewise {version}).

## Input

One frame of {tile_px} x {tile_px} px, float32, axes batch, channel, y, x, in any units (counts,
electrons, camera ADU). The package normalises each frame as dosewise does: {scaling}, then
`clip` to ±{MAX_NORMALISED:g}. What differs: {differences}.

## Output

{output}

## Tile size and no halo

The weights (TorchScript and ONNX, traced from one network copy) take frames of exactly
{tile_px} x {tile_px} px: shape-dependent steps of the network were frozen at that size when it
was traced. Export again with `--tile` for another size. No halo is declared: with a halo
bioimageio.core pads every tile it feeds by the halo and crops it off again, so even a frame of
the tile size would be computed on padding dosewise never adds and the package would stop
computing what dosewise computes. A tool that cuts a larger frame into tiles of this size runs
them side by side without overlap, so edges can show at tile borders where dosewise's own tiling
(overlap >= the receptive field) has none; `dosewise segment` and `dosewise denoise` run frames of
any size.

## Validation

The test input is a simulated low-dose HRTEM frame (Au nanoparticle on CeO2, 300 e-/Å², 0.25 Å/px,
dosewise's simulator after Larsen et al. 2023) cut to the tile; the test output is dosewise's own
output for it. `bioimageio.core.test_model` passed on this package before it was kept. To validate
the model on your own data, compare its output with reference masks or high-dose frames of the
same areas (`dosewise dose-sweep`, `dosewise profile`).{card_text}
"""


def _demote_headings(markdown: str) -> str:
    """``markdown`` with every heading one level lower (outside code blocks), to nest it in a section."""
    lines, in_code = [], False
    for line in markdown.strip().splitlines():
        in_code ^= line.startswith("```")
        lines.append("#" + line if line.startswith("#") and not in_code else line)
    return "\n".join(lines)
