"""The napari plugin (``[napari]`` extra; manifest ``napari.yaml``): a reader that opens vendor
files with their scale in nm, Denoise / Segment / Supersample widgets over the same functions as
the commands (run in a worker thread, with progress), and a simulated low-dose HRTEM sample."""
