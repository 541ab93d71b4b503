"""Reading, writing and storing micrographs.

``read_image`` turns TIFF/PNG/NPY/MRC and vendor files (DM3/DM4, EMD, SER, HyperSpy,
plain HDF5) into float32 :class:`~dosewise.image.EMImage` with a pixel size in Å;
``write_image`` writes TIFF/PNG/NPY/HSPY atomically (with the source's metadata and a
processing record: ``provenance``) and never over an input;
``DatasetStore`` keeps many labelled training samples in one zarr store.
"""

from dosewise.io.readers import SUPPORTED_SUFFIXES, list_signals, read_image, read_mask
from dosewise.io.store import DatasetStore, Sample
from dosewise.io.validate import validate_image
from dosewise.io.discover import expand_inputs, image_files
from dosewise.io.metadata import processing_record, provenance
from dosewise.io.writers import WRITABLE_SUFFIXES, OutputFormat, atomic_write, output_group, write_image

__all__ = [
    "SUPPORTED_SUFFIXES",
    "WRITABLE_SUFFIXES",
    "DatasetStore",
    "OutputFormat",
    "Sample",
    "atomic_write",
    "expand_inputs",
    "image_files",
    "output_group",
    "read_image",
    "list_signals",
    "processing_record",
    "provenance",
    "read_mask",
    "validate_image",
    "write_image",
]
