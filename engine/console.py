"""What every `recipe` command shares: its exit codes, and how it ends with a message."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INVALID_RECIPE", "EXIT_CONFIGURATION", "fail"]

EXIT_OK = 0
EXIT_FAILURE = 1  # a job, a poll or a test case failed, or a recipe is unhealthy
EXIT_USAGE = 2
EXIT_INVALID_RECIPE = 3
EXIT_CONFIGURATION = 4


def fail(message: str, code: int) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    click.echo(message, err=True)
    sys.exit(code)
