"""The ``dosewise`` command line: registration only.

The commands live in the modules of :mod:`dosewise.cli` (each parses its options, calls
one function of :mod:`dosewise.workflows`, :mod:`dosewise.training` or
:mod:`dosewise.experiments`, and prints). Every command is registered here, one way:
``<app>.command(name)(user_errors_exit_2(function))``, so that each turns a
:class:`~dosewise.errors.DosewiseError` into one line on stderr and exit code 2; every
command that reports numbers takes ``--json`` and then prints exactly one JSON object on
stdout (progress goes to stderr).
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from dosewise.cli.common import OneLineUsageErrors, user_errors_exit_2
from dosewise.cli.configs import configs_app, configs_copy, configs_list
from dosewise.cli.demo import demo
from dosewise.cli.denoise import denoise_command
from dosewise.cli.dose_sweep import dose_study_command, dose_sweep_command
from dosewise.cli.export import export_command
from dosewise.cli.image import info, noise, subsample
from dosewise.cli.models import models
from dosewise.cli.mtf import fit_mtf
from dosewise.cli.pretrain import compare_command, finetune_command, pretrain_command
from dosewise.cli.profile import profile_command
from dosewise.cli.segment import segment_command
from dosewise.cli.serve import serve_command
from dosewise.cli.simulate import dose_series, hrtem, particles, simulate_app, stem
from dosewise.cli.stream import stream_command
from dosewise.cli.supersample import (
    evaluate_app,
    evaluate_supersample,
    supersample_command,
    train_supersample,
)
from dosewise.cli.train import train_app, train_denoise, train_segment

app = typer.Typer(
    help="dosewise: see more with fewer electrons. Low-dose EM image simulation, restoration and analysis.",
    no_args_is_help=True,
    cls=OneLineUsageErrors,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(simulate_app, name="simulate")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(configs_app, name="configs")


def _version_callback(value: bool) -> None:
    if value:
        print(f"dosewise {version('dosewise')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """dosewise: see more with fewer electrons."""


app.command("info")(user_errors_exit_2(info))
app.command("noise")(user_errors_exit_2(noise))
app.command("fit-mtf")(user_errors_exit_2(fit_mtf))
app.command("subsample")(user_errors_exit_2(subsample))
app.command("models")(user_errors_exit_2(models))
app.command("segment")(user_errors_exit_2(segment_command))
app.command("denoise")(user_errors_exit_2(denoise_command))
app.command("stream")(user_errors_exit_2(stream_command))
app.command("pretrain")(user_errors_exit_2(pretrain_command))
app.command("finetune")(user_errors_exit_2(finetune_command))
app.command("compare")(user_errors_exit_2(compare_command))
app.command("profile")(user_errors_exit_2(profile_command))
app.command("supersample")(user_errors_exit_2(supersample_command))
app.command("dose-sweep")(user_errors_exit_2(dose_sweep_command))
app.command("dose-study")(user_errors_exit_2(dose_study_command))
app.command("export")(user_errors_exit_2(export_command))
app.command("demo")(user_errors_exit_2(demo))
app.command("serve")(user_errors_exit_2(serve_command))

simulate_app.command("hrtem")(user_errors_exit_2(hrtem))
simulate_app.command("dose-series")(user_errors_exit_2(dose_series))
simulate_app.command("stem")(user_errors_exit_2(stem))
simulate_app.command("particles")(user_errors_exit_2(particles))

configs_app.command("list")(user_errors_exit_2(configs_list))
configs_app.command("copy")(user_errors_exit_2(configs_copy))

train_app.command("segment")(user_errors_exit_2(train_segment))
train_app.command("denoise")(user_errors_exit_2(train_denoise))
train_app.command("supersample")(user_errors_exit_2(train_supersample))

evaluate_app.command("supersample")(user_errors_exit_2(evaluate_supersample))
