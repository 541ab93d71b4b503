"""dosewise: see more with fewer electrons.

Restores and analyses low-dose TEM/STEM images; simulates physically realistic
training data. The Python API mirrors the ``dosewise`` command line.
"""

from dosewise.errors import (
    DosewiseError,
    InputFileError,
    InvalidImageError,
    InvalidParameterError,
    OutputFileError,
)
from dosewise.image import EMImage

__version__ = "0.1.0"

__all__ = [
    "DosewiseError",
    "EMImage",
    "InputFileError",
    "InvalidImageError",
    "InvalidParameterError",
    "OutputFileError",
    "__version__",
]
