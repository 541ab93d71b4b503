"""The supersampling recipe (``dosewise train supersample``; Ede 2020, §II): full scans to cut
partial-scan pairs from, the generator, and the learning policy of Ede 2020."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from dosewise.config.base import Section
from dosewise.config.training import OptimiserConfig, RunSettings
from dosewise.data.scan_degradations import ScanDegradations
from dosewise.models import ModelConfig
from dosewise.models.dlss import ONE_STAGE, TWO_STAGE, supersampler_step

SEED_STEPS = (4, 5, 6, 7, 8, 9, 10)  # coverages 1/16 .. 1/100


class SupersampleDataConfig(Section):
    """Full scans to cut training pairs from: folder trees (any readable format) and/or stores."""

    folders: list[Path] = Field(default_factory=list)
    stores: list[Path] = Field(default_factory=list)
    store_key: str = "noisy"
    max_images: int | None = Field(default=None, ge=2)
    crop_px: int = Field(default=128, ge=16)
    steps: list[int] = Field(default_factory=lambda: list(SEED_STEPS))
    target_blur_sigma_px: float = Field(default=2.5, ge=0)
    small_images: Literal["pad", "skip"] = "pad"
    val_fraction: float = Field(default=0.1, gt=0, lt=1)
    # each training scan of ``folders`` (real files, usually few) is drawn this many times per
    # epoch, each time as another random crop, so a few real scans are not drowned by a store
    folder_repeats: int = Field(default=1, ge=1)
    # the artefacts of real scans, on training crops only (off unless asked for)
    degradations: ScanDegradations = Field(default_factory=lambda: ScanDegradations(enabled=False))

    @model_validator(mode="after")
    def _checks(self) -> SupersampleDataConfig:
        if not self.folders and not self.stores:
            raise ValueError("give at least one folder or store of full STEM scans")
        if not self.steps or min(self.steps) < 2:
            raise ValueError("steps must be scan steps >= 2 (coverage 1/step^2)")
        return self


class ReplayConfig(Section):
    """Ede 2020: keep examples with errors in the top 20 %; replay one with probability 0.2."""

    top_fraction: float = Field(default=0.2, gt=0, le=1)
    probability: float = Field(default=0.2, ge=0, le=1)
    capacity: int = Field(default=64, ge=1)


class SupersampleOptimiserConfig(OptimiserConfig):
    """Adam at lr 1e-3 (Ede 2020 used 3e-4 at batch 1 for 10⁶ iterations; 1e-3 suits batch 8)."""

    lr: float = Field(default=1e-3, gt=0)


class SupersampleConfig(RunSettings):
    """A supersampling recipe; see docs/supersampling.md for each field."""

    model: ModelConfig = Field(default_factory=lambda: ModelConfig(name=TWO_STAGE, in_channels=2))
    data: SupersampleDataConfig
    loss_normaliser: Literal["paper", "ema", "none"] = "paper"  # "paper": Ede 2020, eq. 1-2
    lambda_mse: float = Field(default=200.0, gt=0)
    lambda_aux: float = Field(default=200.0, ge=0)
    alrc: bool = True
    replay: ReplayConfig = Field(default_factory=ReplayConfig)
    optimiser: SupersampleOptimiserConfig = Field(default_factory=lambda: SupersampleOptimiserConfig())
    out_dir: Path = Path("runs/supersample")

    @model_validator(mode="before")
    @classmethod
    def _refuse_old_model_spelling(cls, raw: Any) -> Any:
        model = raw.get("model") if isinstance(raw, Mapping) else None
        if isinstance(model, Mapping) and "kind" in model:
            raise ValueError(f"model.kind was renamed: write model.name: {TWO_STAGE} or {ONE_STAGE}, "
                             "with in_channels: 2 and the sizes under model.options")
        return raw

    @model_validator(mode="after")
    def _one_stage_has_one_step(self) -> SupersampleConfig:
        step = supersampler_step(self.model)
        if step is not None and self.data.steps != [step]:
            raise ValueError(f"a one-stage generator serves one coverage: set data.steps to [{step}]")
        return self

    @classmethod
    def migrate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Also moves the generator description of earlier checkpoints (``kind``, sizes at
        the top of ``model``) to the common model config (``name``, ``options``)."""
        out = super().migrate(raw)
        model = out.get("model")
        if isinstance(model, Mapping) and "kind" in model:
            old = dict(model)
            kind = old.pop("kind")
            step = old.pop("step", None)
            if kind == "one-stage":
                blocks = old.pop("inner_blocks", 4) + old.pop("outer_blocks", 3)
                options = {"step": step, "width": old.pop("width", 48), "blocks": blocks}
            else:
                options = old
            out["model"] = {"name": f"dlss-{kind}", "in_channels": 2, "out_channels": 1, "options": options}
        if out.get("loss_normaliser") == "seed":  # its name before "paper"
            out["loss_normaliser"] = "paper"
        return out
