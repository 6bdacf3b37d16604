"""Write a report without ever leaving a partial file or clobbering one by accident.

The text goes to a temporary file beside the target, is flushed to disk, and is then
moved into place in one step; an existing file is replaced only with `force`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from inception_cost.errors import OutputError


def write_output(text: str, target: str | None, force: bool = False) -> None:
    if target in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target)
    if path.is_dir():
        raise OutputError("is a directory; give a file name", file=target)
    if path.exists() and not force:
        raise OutputError("already exists; not overwritten (use --force to replace it)", file=target)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"folder '{folder}' does not exist", file=target)
    import tempfile  # only when a file is written

    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
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
