"""Signals that end the command: Ctrl-C (SIGINT), SIGTERM and SIGHUP.

`install` runs first thing in the console entry point, before click, rich or the
engine are imported, so that an interrupt at any moment ends in one line and the
documented exit code rather than a traceback. Each signal raises `Interrupted`, a
BaseException that click does not catch, so every `finally` on the way out runs (a
report's temporary file is removed); a second signal during that cleanup is ignored.
The exit status is 128 + the signal (`errors.ExitCode`: 129, 130, 143). `tell` writes
the one line on stderr, whatever state stderr is in.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

# name, signal number and what the one line says; absent signals (Windows) are skipped
HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
MESSAGES = {"SIGINT": "interrupted", "SIGTERM": "terminated (SIGTERM)", "SIGHUP": "hung up (SIGHUP)"}


class Interrupted(BaseException):
    """A signal asked the command to stop; its exit status is 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def message(self) -> str:
        return MESSAGES.get(signal.Signals(self.signum).name, "interrupted")


def _stop(signum: int, frame: FrameType | None) -> None:
    for handled in HANDLED:  # the cleanup on the way out is not interrupted again
        signal.signal(handled, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold the handled signals while a report's temporary file exists: one that arrives
    meanwhile waits until the file is removed or in place (see `stop_if_pending`), so no
    moment of the write can leave the temporary file behind."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:  # Windows: no signal masks
        yield
        return
    previous = block(signal.SIG_BLOCK, HANDLED)
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)  # a held signal is delivered now


def stop_if_pending() -> None:
    """Before a report replaces anything: stop if a signal came while it was written."""
    pending = signal.sigpending() if hasattr(signal, "sigpending") else set()
    for signum in HANDLED:
        if signum in pending:
            raise Interrupted(signum)


def install() -> None:
    """Handle the signals that end the command, except those the caller chose to ignore
    (`nohup` ignores SIGHUP)."""
    for signum in HANDLED:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


def tell(line: str) -> None:
    """One line on stderr, if stderr can still take it (it may be closed or a broken pipe);
    a value quoted whole by click (a 5,000-digit option) is cut to one short line."""
    from inception_cost.errors import MAX_MESSAGE, printable

    if len(line) > MAX_MESSAGE:
        line = f"{line[:MAX_MESSAGE]}... ({len(line) - MAX_MESSAGE:,} more characters)"
    line = printable(line)
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        line.encode(encoding)
    except (UnicodeEncodeError, LookupError):  # PYTHONIOENCODING=ascii:strict
        line = line.encode("ascii", "backslashreplace").decode("ascii")
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def finish(exc: Interrupted) -> NoReturn:
    tell(f"inception-cost: {exc.message}")
    raise SystemExit(exc.exit_code)
