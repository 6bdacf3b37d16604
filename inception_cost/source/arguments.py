"""Reading one layer's arguments: each reader checks a value's type and range and, when
it is wrong, raises an error that names the file, the key's line and the layer."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from inception_cost.core.shapes import MAX_SIZE
from inception_cost.core.symbolic import Symbol, check_range
from inception_cost.errors import ArchitectureError, did_you_mean, shorten
from inception_cost.source import expressions
from inception_cost.source.numbers import whole_number


class ArgReader:
    """Reads one layer's argument mapping, with errors that name the key's line."""

    def __init__(self, args: Any, line: int, path: str, file: str) -> None:
        self.args: Any = args if args is not None else {}
        self.line = line
        self.path = path
        self.file = file

    def error(self, key: str | None, message: str) -> ArchitectureError:
        line = self.line
        if key is not None and hasattr(self.args, "line_of"):
            line = self.args.line_of(key) or self.line
        return ArchitectureError(message, file=self.file, line=line, path=self.path)

    def check_keys(self, allowed: Collection[str]) -> None:
        if not isinstance(self.args, dict):
            raise self.error(None, f"expected a mapping of arguments, got {_describe(self.args)}")
        for key in self.args:
            if key not in allowed:
                raise self.error(key, f"unknown argument '{key}'{did_you_mean(key, allowed)}"
                                      f" (allowed: {', '.join(sorted(allowed))})")

    def positive_int(self, key: str, default: Any = None, *, allow_zero: bool = False) -> int:
        value = self.args.get(key, default)
        if value is None:
            raise self.error(None, f"missing '{key}' (a positive integer)")
        return self._int(key, value, allow_zero=allow_zero)

    def _int(self, key: str, value: Any, *, allow_zero: bool = False) -> int:
        if type(value) is int and (0 if allow_zero else 1) <= value <= MAX_SIZE:  # most values
            return value
        if isinstance(value, Symbol):  # the sweep's trace: the range is checked per variant
            check_range(value, 0 if allow_zero else 1, MAX_SIZE, f"{self.path}: '{key}'")
            return value
        if isinstance(value, str):
            value = self._arithmetic(key, value)
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.error(key, f"'{key}' must be an integer, got {_describe(value)}")
        low = 0 if allow_zero else 1
        if value < low:
            raise self.error(key, f"'{key}' must be {'>= 0' if allow_zero else 'positive'}, got {value}")
        if value > MAX_SIZE:
            raise self.error(key, f"'{key}' is {value:,}, more than the {MAX_SIZE:,} allowed")
        number: int = value
        return number

    def _arithmetic(self, key: str, text: str) -> Any:
        """`filters: "4 * 2"` is 8; a string that was meant as arithmetic but cannot be read
        says what can be."""
        try:
            value = expressions.constant(text)
        except expressions.ExpressionError as exc:
            raise self.error(key, f"'{key}': {exc} in '{text}'") from None
        if value is not None:
            return value
        if expressions.looks_like_arithmetic(text):
            raise self.error(key, f"'{key}': cannot read '{text}' as arithmetic ({expressions.SYNTAX};"
                                  " '/' is written '//')")
        return text

    def pair(self, key: str, default: Any = None) -> tuple[int, int]:
        """An int `3`, a string `1x7` or a list `[1, 7]`: (height, width)."""
        value = self.args.get(key, default)
        if value is None:
            raise self.error(None, f"missing '{key}' (e.g. 3, 1x7 or [1, 7])")
        if isinstance(value, str):
            match = re.fullmatch(r"\s*([0-9]+)\s*[xX×]\s*([0-9]+)\s*", value)
            if not match:
                raise self.error(key, f"'{key}' must be like 3, 1x7 or [1, 7], got '{shorten(value)}'")
            sizes = [whole_number(match.group(1)), whole_number(match.group(2))]
            if None in sizes:
                raise self.error(key, f"'{key}' '{shorten(value)}' is more than the {MAX_SIZE:,} allowed")
            value = sizes
        if isinstance(value, list):
            if len(value) != 2:
                raise self.error(key, f"'{key}' must have two values [height, width], got {len(value)}")
            return (self._int(key, value[0]), self._int(key, value[1]))
        n = self._int(key, value)
        return (n, n)

    def padding(self, key: str = "padding", default: Any = "valid") -> Any:
        """'same', 'valid', an int p (p on every side), [ph, pw], or [[top, bottom], [left,
        right]] (each axis an int or a [before, after] pair: a padding that is not symmetric,
        as ONNX and Keras's ZeroPadding2D write it)."""
        value = self.args.get(key, default)
        if isinstance(value, str) and value.lower() in ("same", "valid"):
            return value.lower()
        if isinstance(value, (int, float, list)) and not isinstance(value, bool):
            if isinstance(value, list):
                if len(value) != 2:
                    raise self.error(key, "'padding' as a list must be [height, width]")
                return (self._side(key, value[0]), self._side(key, value[1]))
            n = self._int(key, value, allow_zero=True)
            return (n, n)
        raise self.error(key, f"'padding' must be same, valid, an integer or [h, w], got {_describe(value)}")

    def _side(self, key: str, value: Any) -> Any:
        """One axis of an explicit padding: p on both sides, or [before, after]."""
        if isinstance(value, list):
            if len(value) != 2:
                raise self.error(key, "one axis of 'padding' is p or [before, after]")
            before, after = (self._int(key, v, allow_zero=True) for v in value)
            return before if before == after else (before, after)
        return self._int(key, value, allow_zero=True)

    def flag(self, key: str, default: bool) -> bool:
        value = self.args.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"'{key}' must be true or false, got {_describe(value)}")
        return bool(value)

    def choice(self, key: str, choices: Collection[str | None], default: str | None) -> str | None:
        value = self.args.get(key, default)
        if value is None and None in choices:
            return None
        if not isinstance(value, str) or value.lower() not in choices:
            options = ", ".join(str(c) for c in choices if c is not None)
            raise self.error(key, f"'{key}' must be one of {options}, got {_describe(value)}"
                                  f"{did_you_mean(value, [c for c in choices if c])}")
        return value.lower()

    def fraction(self, key: str, default: float) -> float:
        value = self.args.get(key, default)
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                value = float(value.strip()[:-1]) / 100
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise self.error(key, f"'{key}' must be a number in [0, 1), got {_describe(value)}")
        return float(value)

    def name(self, default: str) -> str:
        value = self.args.get("name", default)
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
            raise self.error("name", f"'name' must be a non-empty string, got {_describe(value)}")
        return str(value)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"
