"""Error types and the one table of exit codes.

Every error a user can cause is an `InceptionCostError`: it knows the file, the line
and the layer path, and prints as one line `FILE:LINE: layer path: message`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

MAX_MESSAGE = 2_000  # characters of one error line


class ExitCode(enum.IntEnum):
    """What the command's exit status means (documented in the README)."""

    OK = 0
    INTERNAL_ERROR = 1  # a bug in inception-cost: please report it
    SHAPE_MISMATCH = 2  # the layers do not fit together (concat, residual, sizes)
    INVALID_ARCHITECTURE = 3  # the file cannot be read as an architecture
    USAGE = 4  # the command line is wrong (unknown option, name or module)
    OUTPUT_NOT_WRITTEN = 5  # the report could not be written where asked
    HUNG_UP = 129  # SIGHUP (128 + 1), handled like Ctrl-C
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
    TERMINATED = 143  # SIGTERM (128 + 15), handled like Ctrl-C


class InceptionCostError(Exception):
    """A user-facing error, rendered as one line."""

    exit_code = ExitCode.INTERNAL_ERROR

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.path = path

    def located(self, *, file: str | None = None, line: int | None = None,
                path: str | None = None) -> InceptionCostError:
        """Fill in whatever location is still unknown, and return self."""
        self.file = self.file or file
        self.line = self.line or line
        self.path = self.path or path
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        path = f"{self.path}: " if self.path else ""
        text = f"{where}{path}{self.message}"
        if len(text) > MAX_MESSAGE:  # a value quoted whole: one line still, and a short one
            text = f"{text[:MAX_MESSAGE]}... ({len(text) - MAX_MESSAGE:,} more characters)"
        return printable(text)


class ArchitectureError(InceptionCostError):
    """The file is not a valid architecture description."""

    exit_code = ExitCode.INVALID_ARCHITECTURE


class ShapeError(InceptionCostError):
    """Shapes do not fit: a concat of unequal sizes, a kernel larger than its input..."""

    exit_code = ExitCode.SHAPE_MISMATCH


class UsageError(InceptionCostError):
    """The command line asks for something that does not exist."""

    exit_code = ExitCode.USAGE


class OutputError(InceptionCostError):
    """The report could not be written."""

    exit_code = ExitCode.OUTPUT_NOT_WRITTEN


SUGGEST_LENGTH = 100  # longer words and choices get no suggestion (difflib is quadratic)
SUGGEST_CHOICES = 20_000


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """A ' (did you mean X?)' suffix when one of the choices is close to word."""
    import difflib
    import itertools

    text = str(word)
    if len(text) > SUGGEST_LENGTH:
        return ""
    candidates = (str(c) for c in itertools.islice(choices, SUGGEST_CHOICES))
    close = difflib.get_close_matches(text, [c for c in candidates if c != text and len(c) <= SUGGEST_LENGTH],
                                      n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def printable(text: str) -> str:
    """Control characters (an escape sequence, a newline in a name) shown, not obeyed."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shorten(text: object, limit: int = 40) -> str:
    """A value as an error message quotes it: at most `limit` characters."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[:limit] + f"... ({len(shown):,} characters)"
