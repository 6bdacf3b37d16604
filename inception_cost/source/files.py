"""Reading a file the user names, safely: a regular file only, opened without blocking,
never more than a limit read. Every reader of user files (YAML, device profiles, model
files, measurements) goes through `open_regular` or `read_regular`."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from inception_cost.errors import ArchitectureError


def open_regular(path: str, name: str | None = None, what: str = "an architecture",
                 expected: str = "a YAML mapping with 'input' and 'layers'") -> BinaryIO:
    """The regular file at `path`, opened for reading (ArchitectureError, naming the file as
    `name`, otherwise); `what` the file is, and what such a file holds."""
    name = name or path
    try:
        if os.path.isdir(path):
            noun = what if what.endswith(" file") else f"{what} file"  # "a measurements file"
            raise ArchitectureError(f"is a directory, not {noun}", file=name)
        # Non-blocking, and the opened file itself checked: a device or a pipe (or a link
        # to one, or one swapped in after a check by name) could never end.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        handle = open(fd, "rb")  # the caller closes it
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            handle.close()
            if not stat.S_ISREG(info.st_mode):
                raise ArchitectureError("is not a regular file", file=name)
            # /proc/kmsg and friends say 0 and block: never read them
            raise ArchitectureError(f"file is empty (or a special file that says it has no bytes);"
                                    f" expected {expected}", file=name)
        return handle
    except ArchitectureError:
        raise
    except FileNotFoundError:
        raise ArchitectureError("no such file", file=name) from None
    except OSError as exc:
        raise ArchitectureError(f"cannot read file ({exc.strerror or exc})", file=name) from None


def read_regular(path: str, limit: int, name: str | None = None, what: str = "an architecture",
                 expected: str = "a YAML mapping with 'input' and 'layers'", hint: str = "") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; `hint` ends the
    message of a file over the limit."""
    name = name or path
    too_big = f"more than the {limit:,} bytes {what} may have{hint}"
    with open_regular(path, name, what, expected) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise ArchitectureError(f"file is {size:,} bytes, {too_big}", file=name)
        try:
            raw = handle.read(limit + 1)  # the file may grow while it is read
        except OSError as exc:
            raise ArchitectureError(f"cannot read file ({exc.strerror or exc})", file=name) from None
    if len(raw) > limit:
        raise ArchitectureError(f"file is {too_big}", file=name)
    return raw
