"""Reading a file the user names, safely: a regular file only, never blocking, never more
than a limit. Every reader of user files (YAML, device profiles, model files, measurements)
goes through `read_regular`."""

from __future__ import annotations

import os
import stat

from inception_cost.errors import ArchitectureError


def read_regular(path: str, limit: int, name: str | None = None, what: str = "an architecture",
                 expected: str = "a YAML mapping with 'input' and 'layers'") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them (ArchitectureError,
    naming the file as `name`, otherwise); `what` the file is, and what a file holds."""
    name = name or path
    too_big = f"more than the {limit:,} bytes {what} may have"
    try:
        if os.path.isdir(path):
            raise ArchitectureError(f"is a directory, not {what} file", file=name)
        # Non-blocking, and the opened file itself checked: a device or a pipe (or a link
        # to one, or one swapped in after a check by name) could never end.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ArchitectureError("is not a regular file", file=name)
            if info.st_size == 0:  # /proc/kmsg and friends say 0 and block: never read them
                raise ArchitectureError(f"file is empty (or a special file that says it has no bytes);"
                                        f" expected {expected}", file=name)
            if info.st_size > limit:
                raise ArchitectureError(f"file is {info.st_size:,} bytes, {too_big}", file=name)
            raw = handle.read(limit + 1)  # the file may grow while it is read
    except ArchitectureError:
        raise
    except FileNotFoundError:
        raise ArchitectureError("no such file", file=name) from None
    except OSError as exc:
        raise ArchitectureError(f"cannot read file ({exc.strerror or exc})", file=name) from None
    if len(raw) > limit:
        raise ArchitectureError(f"file is {too_big}", file=name)
    return raw
