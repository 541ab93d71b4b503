"""Network families, all described by a :class:`ModelConfig` (name, channels, options).

Every registry network maps (N, C_in, H, W) to (N, C_out, H, W) raw logits for any H, W;
the partial-scan generators of :mod:`dosewise.models.dlss` take a scan and its mask.
"""

from dosewise.models.config import ModelConfig
from dosewise.models.receptive_field import count_parameters, effective_receptive_field_px
from dosewise.models.registry import build_model, list_models, model_info, receptive_field_px

__all__ = [
    "ModelConfig",
    "build_model",
    "count_parameters",
    "effective_receptive_field_px",
    "list_models",
    "model_info",
    "receptive_field_px",
]
