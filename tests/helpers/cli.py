"""Running the ``dosewise`` typer app in-process and checking its one-line errors."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner

from dosewise.cli import app

runner = CliRunner()


def invoke(*args: object) -> Result:
    """``dosewise ARGS...``; each argument is passed as ``str(arg)``."""
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Exit code 2 and exactly one non-blank stderr line that holds every fragment."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
