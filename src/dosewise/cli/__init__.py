"""The ``dosewise`` console command (typer)."""

from dosewise.cli.main import app

__all__ = ["app"]
