"""The command line: reads options, calls the library, prints."""

from inception_cost.cli.app import cli, main

__all__ = ["cli", "main"]
