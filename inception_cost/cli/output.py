"""Write a report without ever leaving a partial file or clobbering one by accident.

The text goes to a temporary file beside the target, is flushed to disk, and is then
moved into place in one step; an existing file is replaced only with `force`.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

from inception_cost.errors import OutputError


def write_output(text: str, target: str | None, force: bool = False) -> None:
    if target in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if not target:
        raise OutputError("-o needs a file name")
    from pathlib import Path  # only when a file is written

    path = Path(target)
    try:
        mode = _check_target(path, target, force)
    except OSError as exc:  # a name too long, a path through a file ...
        raise OutputError(f"cannot write ({exc.strerror or exc})", file=target) from None
    import tempfile  # only when a file is written

    folder = path.parent  # Path("report.json").parent is Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600: give the report the mode a new file gets
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
