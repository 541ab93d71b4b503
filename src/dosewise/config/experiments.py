"""Recipes of the experiments that train and evaluate in one go: the random-vs-pretrained
comparison (``dosewise compare``) and the dose-limit study (``dosewise dose-study``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from dosewise.config.base import Recipe, Section
from dosewise.errors import describe_validation_error
from dosewise.config.choices import Downstream, Pretext
from dosewise.config.pretraining import UnlabeledDataConfig
from dosewise.config.training import OptimiserConfig, RunSettings
from dosewise.analysis.dose_sweep import DEFAULT_BAND_TOLERANCE
from dosewise.data.corruptions import CorruptionConfig

class ComparePretrain(Section):
    """The pretext runs: one per (model, size); ``sizes`` are pretraining-set sizes."""

    pretext: Pretext = Field(default=Pretext.gan, validate_default=True)
    data: UnlabeledDataConfig
    corruption: CorruptionConfig = Field(default_factory=CorruptionConfig)
    sizes: list[int] = Field(min_length=1)
    epochs: int = Field(default=20, ge=1)
    max_minutes: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=8, ge=1)


class CompareConfig(RunSettings):
    """The grid: models x initialisations (R, P(size)...) x seeds, fine-tuned on ``store``.

    ``max_minutes`` applies to each fine-tuning run. Test images come from ``test_store``
    (all of it); the validation split of ``store`` picks the best checkpoints.
    """

    task: Downstream = Field(default=Downstream.segment, validate_default=True)
    models: list[str] = Field(min_length=1)
    store: Path
    test_store: Path
    max_train_samples: int | None = Field(default=64, ge=1)
    crop_px: int | None = Field(default=128, ge=8)
    val_fraction: float = Field(default=0.2, gt=0, lt=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    pretrain: ComparePretrain | None = None
    out_dir: Path = Path("runs/compare")
    epochs: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _epochs_cover_a_checkpoint(self) -> CompareConfig:
        if self.epochs < self.checkpoint_every_n_epochs:
            raise ValueError("epochs must be at least checkpoint_every_n_epochs")
        return self



Range = tuple[float, float]


class StudyScale(Section):
    """How big one scale of the study is (data, training length, per-model option overrides)."""

    structures: int = Field(ge=2)
    variants_per_structure: int = Field(ge=1)
    size_px: int = Field(ge=32)
    epochs: int = Field(ge=1)
    max_minutes: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=8, ge=1)
    crop_px: int = Field(default=256, ge=16)
    series_frames: int = Field(default=20, ge=2)
    workers: int = Field(default=1, ge=1)
    model_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Run name -> fields that change at this scale, e.g. ``{checkpoint: hrtem}`` to sweep a
    campaign's network instead of training one in the scale's budget."""

    renamed = {"crop_size": "crop_px"}


class StudyRun(Section):
    """One network trained on one simulated training set.

    ``checkpoint``: a network trained elsewhere (a campaign's, or a shipped name such as
    ``hrtem``) that is swept as it is instead of trained; ``model``, dose range and MTF then
    describe how it was trained. ``init``: training starts from that network's tensors (all
    but the head), so a study can adapt a long campaign's network to another dose range or
    detector in minutes instead of training it from scratch for hours.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    model: str
    dose_range_e_per_A2: Range = (1e2, 1e6)
    mtf: str = "mtf4"
    options: dict[str, Any] = Field(default_factory=dict)
    optimiser: OptimiserConfig | None = None  # None: the study's optimiser
    checkpoint: Path | None = None
    init: Path | None = None

    @model_validator(mode="after")
    def _trained_or_init(self) -> StudyRun:
        if self.checkpoint is not None and self.init is not None:
            raise ValueError(f"run {self.name!r}: give checkpoint (swept as is) or init (trained from it), not both")
        return self

    renamed = {"lr": "optimiser.lr"}

    @property
    def data_key(self) -> str:
        low, high = self.dose_range_e_per_A2
        return f"{self.mtf}_{low:g}-{high:g}".replace("+", "")


class StudySeries(Section):
    """A test series: one structure, fixed optics, frame dose rising log-spaced. Each ``seed``
    draws another structure and other optics (Larsen et al. 2023, Table 1 ranges)."""

    dose_range_e_per_A2: Range = (10.0, 1e4)
    mtf: str = "mtf3"
    seed: int = 1000

    @property
    def key(self) -> str:
        return f"{self.mtf}_seed{self.seed}"


class StudyFigure(Section):
    """A group of runs shown together (one figure or table of the paper)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    runs: list[str] = Field(min_length=1)


class StudyOptimiserConfig(OptimiserConfig):
    """Adam at lr 0.001, as Larsen et al. 2023 train."""

    lr: float = Field(default=1e-3, gt=0)


class DoseStudyConfig(Recipe):
    """A dose-limit study; see docs/dose_limits.md."""

    name: str = "dose-study"
    out_dir: Path = Path("runs/dose-study")
    report_dir: Path | None = None  # the small outputs of out_dir/report (figures, tables, CSVs) copied here
    scale: str = "auto"  # a key of ``scales``; "auto": "gpu" when CUDA is available, else "cpu"
    scales: dict[str, StudyScale]
    pixel_size_A: float | Range = 0.25
    max_sampling_A: float = Field(default=0.1, gt=0)  # exit-wave grid; coarser is faster and blurrier
    diameter_range_A: Range = (15.0, 50.0)
    seed: int = 0
    optimiser: StudyOptimiserConfig = Field(default_factory=lambda: StudyOptimiserConfig())
    threshold: float = Field(default=0.5, gt=0, lt=1)
    band_tolerance: float = Field(default=DEFAULT_BAND_TOLERANCE, gt=0, lt=1)
    device: str = "auto"
    precision: Literal["32", "16-mixed", "bf16-mixed"] = "32"
    series: list[StudySeries] = Field(default_factory=lambda: [StudySeries()], min_length=1)
    structure_cache: Path | None = None  # exit waves; None: out_dir/data/exit_waves (a campaign's may be shared)
    runs: list[StudyRun] = Field(min_length=1)
    figures: list[StudyFigure] = Field(default_factory=list)
    # run name -> what Larsen et al. 2023 reports for it (the table's last column)
    paper_values: dict[str, str] = Field(default_factory=dict)

    renamed = {"lr": "optimiser.lr"}

    @field_validator("series", mode="before")
    @classmethod
    def _one_or_more_series(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _consistent(self) -> DoseStudyConfig:
        names = [r.name for r in self.runs]
        if len(set(names)) != len(names):
            raise ValueError("run names must be unique")
        for figure in self.figures:
            unknown = sorted(set(figure.runs) - set(names))
            if unknown:
                raise ValueError(f"figure {figure.name!r} names unknown runs {unknown}")
        if self.scale != "auto" and self.scale not in self.scales:
            raise ValueError(f"scale {self.scale!r} is not one of {sorted(self.scales)} (or 'auto')")
        if self.scale == "auto" and not {"cpu", "gpu"} <= set(self.scales):
            raise ValueError("scale 'auto' needs scales named 'cpu' and 'gpu'")
        for scale_name, scale in self.scales.items():
            unknown = sorted(set(scale.runs) - set(names))
            if unknown:
                raise ValueError(f"scale {scale_name!r} changes unknown runs {unknown}")
            try:
                self.runs_at(scale_name)
            except ValidationError as exc:
                raise ValueError(f"scale {scale_name!r}: {describe_validation_error(exc)}") from None
        keys = [s.key for s in self.series]
        if len(set(keys)) != len(keys):
            raise ValueError(f"test series must differ in seed or MTF, got {keys}")
        return self

    def runs_at(self, scale: str) -> list[StudyRun]:
        """The runs with the changes of scale ``scale`` applied."""
        changes = self.scales[scale].runs
        return [StudyRun.model_validate({**run.model_dump(exclude_unset=True), **changes[run.name]})
                if run.name in changes else run for run in self.runs]
