"""Write a report without ever leaving a partial file or clobbering one by accident.

The text goes to a temporary file beside the target, is flushed to disk, and is then
moved into place in one step; an existing file is replaced only with `force`. Signals
are held meanwhile: one that arrives stops the command before anything is replaced,
after the temporary file is removed.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

from inception_cost.cli import signals
from inception_cost.errors import OutputError

# What a terminal that cannot show them gets instead (PYTHONIOENCODING=ascii; LC_ALL=C with PYTHONUTF8=0)
PLAIN = str.maketrans({"µ": "u", "×": "x", "─": "-", "…": "...", "—": "-", "→": "->"})
TEMP_NAME_PART = 200  # of the report's name in its temporary file's (NAME_MAX is 255)


def write_output(text: str, target: str | None, force: bool = False) -> None:
    mode = check_output(target, force)
    if target is None or mode is None:
        _write_stdout(text)
        return
    from pathlib import Path  # only when a file is written

    with signals.held():  # a signal meanwhile ends the command once the temporary file is gone
        _write_file(text, Path(target), target, mode, force)


def check_output(target: str | None, force: bool = False, probe: bool = False) -> int | None:
    """What `write_output` refuses before it writes, for a command to ask before long work:
    the mode the new file gets (None: standard output). With `probe`, also that a file can
    be made in its folder (a read-only folder or file system, /proc): a temporary one,
    removed at once."""
    if target in (None, "-"):
        return None
    if not target:
        raise OutputError("-o needs a file name")
    last = target.replace(os.altsep or os.sep, os.sep).rsplit(os.sep, 1)[-1]
    if last in ("", ".", ".."):  # `newdir/`, `x/.`: a folder, never a file named like it
        raise OutputError("names a folder (it ends in a separator, '.' or '..'); give a file name",
                          file=target)
    from pathlib import Path  # only when a file is written

    try:
        mode = _check_target(Path(target), target, force)
        if probe:
            _probe(Path(target))
        return mode
    except OSError as exc:  # a name too long, a path through a file, a folder that takes no file ...
        raise OutputError(f"cannot write ({exc.strerror or exc})", file=target) from None


def _probe(path: Path) -> None:
    """Make and remove the temporary file `_write_file` will make: OSError if it cannot."""
    import tempfile

    with signals.held():  # a signal meanwhile ends the command once the file is gone
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:TEMP_NAME_PART]}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)


def _write_file(text: str, path: Path, target: str, mode: int, force: bool) -> None:
    import tempfile  # only when a file is written

    folder = path.parent  # Path("report.json").parent is Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:TEMP_NAME_PART]}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600: give the report the mode a new file gets
        signals.stop_if_pending()  # interrupted while writing: the old report stays as it was
        if force:
            os.replace(tmp, path)
        else:
            _move_no_clobber(tmp, path)
        tmp = None
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc})", file=target) from None
    finally:  # also on Ctrl-C: never leave the temporary file behind
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _check_target(path: Path, target: str, force: bool) -> int:
    """Refuse what must not be replaced; return the mode the new file gets."""
    if path.is_dir():
        raise OutputError("is a directory; give a file name", file=target)
    if path.exists() or path.is_symlink():
        if not force:
            raise OutputError("already exists; not overwritten (use --force to replace it)", file=target)
        if path.is_symlink() or not path.is_file():  # a device, a pipe, a link: never replace
            raise OutputError("is not a regular file; not replaced, even with --force", file=target)
        return stat.S_IMODE(path.stat().st_mode)  # --force keeps the file's mode
    folder = path.parent  # Path("report.json").parent is Path(".")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"'{folder}' is a file, not a folder", file=target)
    if not folder.is_dir():
        raise OutputError(f"folder '{folder}' does not exist", file=target)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _move_no_clobber(tmp: str, path: Path) -> None:
    """Move into place unless something appeared there meanwhile."""
    try:
        os.link(tmp, path)  # fails if path exists: no window for a race
    except FileExistsError:
        raise OutputError("already exists; not overwritten (use --force to replace it)",
                          file=str(path)) from None
    except OSError:  # file systems without hard links
        if path.exists():
            raise OutputError("already exists; not overwritten (use --force to replace it)",
                              file=str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _write_stdout(text: str) -> None:
    """Print the report; output that cannot be written (stdout closed, full, read-only, a
    reader gone) is an OutputError, not a traceback."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed: nothing written (use -o FILE)")
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.translate(PLAIN).encode(encoding, "replace").decode(encoding)
    try:
        raw = getattr(stream, "buffer", None)
        if isinstance(raw, io.RawIOBase):  # unbuffered (PYTHONUNBUFFERED, -u): each write once,
            stream.flush()  # so a short one (a reader gone midway, a disk filling up) is retried
            lines = text if os.linesep == "\n" else text.replace("\n", os.linesep)  # as the text stream would
            _write_all(raw, lines.encode(encoding, getattr(stream, "errors", None) or "strict"))
        else:
            stream.write(text)
            stream.flush()
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed
        _discard_stdout(stream)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputError(f"cannot write to standard output ({reason})") from None


def _write_all(raw: io.RawIOBase, data: bytes) -> None:
    """Every byte, or OSError: a raw write may take only part (Python's unbuffered text
    stream writes once and drops the rest silently)."""
    view = memoryview(data)
    while view:
        written = raw.write(view)
        if not written:  # None: it would block; 0: nothing taken
            raise OSError(errno.EAGAIN, "standard output takes nothing more")
        view = view[written:]


def _discard_stdout(stream: object) -> None:
    """Point stdout at the null device, so that the interpreter's last flush is silent."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())  # type: ignore[attr-defined]
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
