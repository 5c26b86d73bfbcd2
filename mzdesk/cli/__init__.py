"""Command line: headless work on a mzdesk database.  No Qt on these paths.

``mzdesk`` with no command opens the GUI.  This module is the root group only: each
command group lives in its own module (``site``, ``households``, ``enrol``, ...), which
imports :mod:`mzdesk.cli.common` and services, never another command module, and lists
what it adds to the root in ``COMMANDS``.  A new command module is one line below.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..hooks import register_hooks
from . import (
    admin,
    cases,
    cipher,
    county,
    enrol,
    households,
    keys,
    letters,
    notice,
    relatives,
    reviews,
    roster,
    runs,
    site,
    standards,
    sync,
    visits,
)
from .common import db_option, run

COMMAND_MODULES = (
    site,
    households,
    enrol,
    notice,
    visits,
    roster,
    keys,
    sync,
    admin,
    cipher,
    relatives,
    standards,
    reviews,
    runs,
    cases,
    letters,
    county,
)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mzdesk")
@db_option
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """mzdesk 民政桌面: township social-assistance records, offline.

    Run without a command to open the window; the commands below work headless.
    """
    register_hooks()  # the core's events reach sync (mzdesk.hooks), for every command
    if ctx.invoked_subcommand is None:
        from ..app import run_gui

        sys.exit(run_gui(db_path))


for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    run(cli, argv)
