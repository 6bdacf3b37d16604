"""The command line: reads options, calls the library, prints.

The console entry point installs the signal handlers before anything heavy is imported
(click, the engine), so that Ctrl-C at any moment ends in one line, not a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inception_cost.cli.app import cli

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    from inception_cost.cli import signals

    try:  # installed inside the try: a signal right after it is handled too
        signals.install()
        from inception_cost.cli.app import run

        run(argv)
    except signals.Interrupted as exc:  # while the command line itself was being imported
        signals.finish(exc)


def __getattr__(name: str) -> Any:
    if name == "cli":
        from inception_cost.cli.app import cli

        return cli
    raise AttributeError(f"module 'inception_cost.cli' has no attribute '{name}'")
