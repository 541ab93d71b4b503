"""The simulation recipes: one set of defaults for API and CLI, strict keys, YAML round trips."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from dosewise.cli import simulate as cli
from dosewise.config import (
    DoseSeriesConfig,
    HrtemDatasetConfig,
    MicroscopeRanges,
    StemDatasetConfig,
)
from dosewise.errors import InvalidParameterError


@pytest.mark.parametrize(("command", "model", "fields"), [
    (cli.hrtem, HrtemDatasetConfig, {"n": "n_structures", "variants": "variants_per_structure", "size": "size_px",
                                     "pixel_size": "pixel_size_A", "dose_range": "dose_range_e_per_A2",
                                     "mtf": "mtf", "seed": "seed"}),
    (cli.dose_series, DoseSeriesConfig, {"dose_range": "dose_range_e_per_A2", "frames": "n_frames",
                                         "size": "size_px", "pixel_size": "pixel_size_A", "mtf": "mtf",
                                         "seed": "seed"}),
    (cli.stem, StemDatasetConfig, {"n": "n_images", "size": "size_px", "dose_range": "dose_range_e_per_A2",
                                   "pixel_size_range": "pixel_size_range_A", "seed": "seed"}),
])
def test_command_line_defaults_are_the_recipe_defaults(command, model, fields: dict[str, str]) -> None:
    parameters = inspect.signature(command).parameters
    for option, field in fields.items():
        assert parameters[option].default == model.model_fields[field].default, option


def test_the_common_defaults() -> None:
    hrtem, series, stem = HrtemDatasetConfig(), DoseSeriesConfig(), StemDatasetConfig()
    assert (hrtem.n_structures, hrtem.variants_per_structure, hrtem.size_px, hrtem.pixel_size_A) == (10, 4, 256, 0.25)
    assert hrtem.dose_range_e_per_A2 == (1e2, 1e6) and hrtem.mtf == "mtf4"
    assert hrtem.drawn_ranges.pixel_size_A == (0.25, 0.25) and hrtem.drawn_ranges.defocus_A == (-200.0, 200.0)
    assert series.frame_doses()[0] == pytest.approx(10.0) and series.frame_doses()[-1] == pytest.approx(1e4)
    assert (series.n_frames, series.size_px, series.pixel_size_A, series.mtf) == (20, 256, 0.25, "mtf3")
    assert (stem.n_images, stem.size_px, stem.dose_range_e_per_A2, stem.pixel_size_range_A) == (
        100, 256, (1e2, 1e5), (0.08, 0.2))


@pytest.mark.parametrize("config", [
    HrtemDatasetConfig(pixel_size_A=(0.07, 0.08), microscope=MicroscopeRanges(cs_um=(0.0, 1.0)), mtf="0.3,2,0"),
    DoseSeriesConfig(doses_e_per_A2=[10.0, 100.0], margin_A=3.0),
    StemDatasetConfig(materials="Au,MoS2", n_images=3),
])
def test_recipes_round_trip_through_yaml(tmp_path: Path, config) -> None:
    path = config.to_yaml(tmp_path / "simulation.yaml")
    assert type(config).from_yaml(path) == config
    assert type(config).from_yaml(path, {"seed": 5}).seed == 5


@pytest.mark.parametrize(("model", "raw", "message"), [
    (HrtemDatasetConfig, {"n_structures": 0}, "n_structures must be an integer >= 1, got 0"),
    (HrtemDatasetConfig, {"dose_range_e_per_A2": (10.0, 1.0)}, "dose range must satisfy 0 < min <= max"),
    (HrtemDatasetConfig, {"microscope": {"pixel_size_A": (0.1, 0.2)}}, "pixel_size_A is set by pixel_size_A"),
    (HrtemDatasetConfig, {"mtf": "mtf9"}, "unknown MTF 'mtf9'"),
    (HrtemDatasetConfig, {"size": 64}, "size: unknown field"),
    (DoseSeriesConfig, {"dose_min_e_per_A2": 1.0}, "write 'dose_range_e_per_A2' instead"),
    (DoseSeriesConfig, {"n_frames": 1}, "n_frames must be >= 2, got 1"),
    (StemDatasetConfig, {"ranges": {"dose_e_per_A2": (1.0, 2.0)}}, "dose_e_per_A2 is set by dose_range_e_per_A2"),
])
def test_bad_values_are_one_line_errors(model, raw: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message) as info:
        model.validate_dict(raw)
    assert "\n" not in str(info.value)
