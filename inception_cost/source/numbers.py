"""Whole numbers read from text, bounded before Python converts them.

`int()` of a long digit string is slow (quadratic) and refuses more than 4,300 digits
with a ValueError; every figure this tool reads from text goes through `whole_number`,
which refuses more than `MAX_DIGITS` significant digits, so that a hostile file or
option gets the caller's one-line error instead.
"""

from __future__ import annotations

MAX_DIGITS = 30  # the largest real figure (a network's MACs) has about 13


def whole_number(digits: str) -> int | None:
    """int(digits) for ASCII digits; None when it has more than MAX_DIGITS significant digits."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > MAX_DIGITS or not significant.isascii() or not significant.isdigit():
        return None
    return int(significant)

