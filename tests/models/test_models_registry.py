from __future__ import annotations

import pytest
import torch
import yaml

from dosewise.errors import InvalidParameterError
from dosewise.models import ModelConfig, build_model, count_parameters, list_models, model_info, receptive_field_px

PRESETS = ["unet-2-44", "unet-2-84", "unet-2-116", "unet-3-96", "unet-3-176", "unet-3-240",
           "unet-4-200", "unet-4-360", "unet-4-424"]


def test_registry_lists_every_family() -> None:
    assert set(PRESETS + ["hrnet", "msdnet", "madsen-unet", "resnet18-unet", "fast-unet"]) == set(list_models())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_receptive_field_equals_its_name(name: str) -> None:
    _, blocks, rf = name.split("-")
    config = ModelConfig(name=name)
    assert receptive_field_px(config) == int(rf)
    assert len(config.options) == 0 and build_model(config).depth == int(blocks)


def test_receptive_field_follows_the_configuration() -> None:
    wider = ModelConfig(name="unet-2-44", options={"kernel_sizes": [3, 3, 5]})
    assert receptive_field_px(wider) == 44 + 2 * 2 * 4  # two convs, 2 more px each, at jump 4
    assert receptive_field_px(ModelConfig(name="msdnet", options={"depth": 3})) == 1 + 2 * (1 + 2 + 3)


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(InvalidParameterError, match="unknown model 'vgg'.*unet-2-44.*msdnet"):
        build_model(ModelConfig(name="vgg"))


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("msdnet", {"depth": 0}, "depth"),
        ("msdnet", {"colour": 1}, "colour"),
        ("unet-3-96", {"kernel_sizes": [3, 4]}, "odd"),
        ("resnet18-unet", {"decoder_channels": [8]}, "decoder_channels"),
    ],
)
def test_bad_options_are_one_line_parameter_errors(name: str, options: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match) as info:
        build_model(ModelConfig(name=name, options=options))
    assert "\n" not in str(info.value)


def test_config_round_trips_through_yaml_and_rebuilds_the_same_architecture(tiny_config: ModelConfig) -> None:
    config = tiny_config.model_copy(update={"out_channels": 2})
    restored = ModelConfig.model_validate(yaml.safe_load(yaml.safe_dump(config.model_dump())))
    assert restored == config
    first, second = build_model(config), build_model(restored)
    assert count_parameters(first) == count_parameters(second)
    assert list(first.state_dict()) == list(second.state_dict())


def test_model_info_reports_size_and_receptive_field() -> None:
    info = model_info(ModelConfig(name="unet-2-84", options={"base_width": 4}))
    assert info["name"] == "unet-2-84" and info["receptive_field_px"] == 84
    assert info["parameters"] == count_parameters(build_model(ModelConfig(name="unet-2-84", options={"base_width": 4})))
    assert "Sytwu" in info["description"]


def test_madsen_unet_batch_norm_keeps_the_paper_layout() -> None:
    """``norm: batch`` adds a BatchNorm after each of the 5 convolutions of every block and
    changes nothing else: same receptive field, same convolution shapes (bias dropped)."""
    plain = build_model(ModelConfig(name="madsen-unet", options={"depth": 2, "base_width": 4}))
    normed_config = ModelConfig(name="madsen-unet", options={"depth": 2, "base_width": 4, "norm": "batch"})
    normed = build_model(normed_config)
    norms = [m for m in normed.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 5 * (2 * 2 + 1)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert receptive_field_px(normed_config) == receptive_field_px(
        ModelConfig(name="madsen-unet", options={"depth": 2, "base_width": 4}))
    conv_shapes = [(m.weight.shape, m.bias is None) for m in normed.modules() if isinstance(m, torch.nn.Conv2d)]
    plain_shapes = [(m.weight.shape, m.bias is None) for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [s for s, _ in conv_shapes] == [s for s, _ in plain_shapes]
    assert sum(no_bias for _, no_bias in conv_shapes) == len(norms)  # the head keeps its bias
