"""``dosewise serve``: the live page and the JSON API on this machine (the work is in
:mod:`dosewise.serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dosewise.cli.common import console

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_command(
    roots: Annotated[list[Path], typer.Option(
        "--root", help="A folder the page and the API may read (repeat for several); nothing outside is read.")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Where live sessions write restored frames.")],
    host: Annotated[str, typer.Option(help="Address to listen on; anything but 127.0.0.1 opens it to the network.")] =
        "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    max_upload_mb: Annotated[float, typer.Option(help="Largest image the API accepts, in MiB.")] = 64.0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
) -> None:
    """Restore frames live in a browser (raw | restored, fps, latency, dose, line profiles) and
    serve POST /v1/denoise, /v1/segment and /v1/supersample."""
    import uvicorn

    from dosewise.errors import InvalidParameterError
    from dosewise.serve.app import ServeSettings, create_app

    if not 0 < port < 65536:
        raise InvalidParameterError(f"--port must lie in 1..65535, got {port}")
    if not max_upload_mb > 0:
        raise InvalidParameterError(f"--max-upload-mb must be > 0, got {max_upload_mb}")
    app = create_app(ServeSettings(roots=roots, out_dir=out_dir, max_upload_mb=max_upload_mb, device=device))
    if host not in LOOPBACK:
        console.print(f"[yellow]warning: listening on {host}: anyone who can reach this machine can use the "
                      "server and read images in the --root folders (there is no login)[/yellow]")
    console.print(f"dosewise serve: open http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning")
