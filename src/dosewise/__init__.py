"""dosewise: see more with fewer electrons.

Restores and analyses low-dose TEM/STEM images; simulates physically realistic
training data. The Python API mirrors the ``dosewise`` command line.
"""

from importlib.metadata import version

from dosewise.errors import (
    DosewiseError,
    InputFileError,
    InvalidImageError,
    InvalidParameterError,
    OutputFileError,
)
from dosewise.image import EMImage

__version__ = version("dosewise")


def load_model(path):  # noqa: ANN001, ANN201 - thin lazy re-export, typed in dosewise.checkpoint
    """Load a checkpoint written by dosewise training: network, config and normalisation.

    Imported lazily so that ``import dosewise`` does not import torch and Lightning.
    """
    from dosewise.checkpoint import load_model as _load_model

    return _load_model(path)


def __getattr__(name: str):  # noqa: ANN202 - lazy re-exports that need torch
    if name == "Denoiser":
        from dosewise.infer.denoise import Denoiser

        return Denoiser
    raise AttributeError(f"module 'dosewise' has no attribute {name!r}")


__all__ = [
    "Denoiser",
    "DosewiseError",
    "EMImage",
    "InputFileError",
    "InvalidImageError",
    "InvalidParameterError",
    "OutputFileError",
    "__version__",
    "load_model",
]
