"""Affine symbols: how the sweep proves that a module's channels are affine in its widths.

The sweep builds the network once with each varied argument replaced by a `Symbol`: an
integer that remembers an affine expression `const + sum(coef_i * arg_i)`. Adding
symbols, or multiplying one by a constant, keeps an expression; everything else a
build could do with a value (compare it, divide it, use it as a kernel size, a repeat
count or a condition, print it into a string) raises `NotAffine`. So a build that
finishes has used the arguments only as channel counts that add up, its structure does
not depend on them, and every layer's channels are exact affine expressions. Where a
build raises `NotAffine`, the sweep evaluates each variant by rebuilding it instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn


class NotAffine(Exception):
    """A symbolic value was used in a way that is not affine (or decides something)."""


class Symbol(int):
    """An int standing for `const + sum(coef * argument)`; its int value is the as-written one."""

    const: int
    coefs: dict[str, int]

    def __new__(cls, value: int, const: int, coefs: Mapping[str, int]) -> Symbol:
        self = super().__new__(cls, value)
        self.const = const
        self.coefs = {k: v for k, v in coefs.items() if v}
        return self

    @classmethod
    def argument(cls, name: str, value: int) -> Symbol:
        return cls(value, 0, {name: 1})

    def evaluate(self, values: Mapping[str, int]) -> int:
        return self.const + sum(c * values[name] for name, c in self.coefs.items())

    def __add__(self, other: Any) -> Symbol:
        if isinstance(other, Symbol):
            coefs = dict(self.coefs)
            for name, c in other.coefs.items():
                coefs[name] = coefs.get(name, 0) + c
            return Symbol(int(self.real) + int(other.real), self.const + other.const, coefs)
        if isinstance(other, int) and not isinstance(other, bool):
            return Symbol(int(self.real) + other, self.const + other, self.coefs)
        _refuse()

    __radd__ = __add__

    def __mul__(self, other: Any) -> Symbol:
        if isinstance(other, int) and not isinstance(other, (bool, Symbol)):
            return Symbol(int(self.real) * other, self.const * other,
                          {k: v * other for k, v in self.coefs.items()})
        _refuse()

    __rmul__ = __mul__

    def __format__(self, spec: str) -> str:  # display only (default names, messages)
        return format(int(self.real), spec)

    def __repr__(self) -> str:
        terms = " + ".join(f"{c}*{k}" for k, c in self.coefs.items())
        return f"Symbol({self.const} + {terms})"

    def __hash__(self) -> int:
        _refuse()


def _refuse(*_: Any) -> NoReturn:
    raise NotAffine


# Every other operation an int has is refused: a decision or a non-affine result.
for _name in ("__sub__", "__rsub__", "__floordiv__", "__rfloordiv__", "__truediv__",
              "__rtruediv__", "__mod__", "__rmod__", "__divmod__", "__rdivmod__", "__pow__",
              "__rpow__", "__lshift__", "__rlshift__", "__rshift__", "__rrshift__", "__and__",
              "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__neg__", "__pos__",
              "__abs__", "__invert__", "__round__", "__trunc__", "__floor__", "__ceil__",
              "__int__", "__index__", "__float__", "__bool__", "__lt__", "__le__", "__gt__",
              "__ge__", "__eq__", "__ne__", "__str__"):
    setattr(Symbol, _name, _refuse)


# Range checks met while tracing: (expression, low, high, what is checked).
Constraint = tuple[Symbol, int, int, str]
_constraints: list[list[Constraint]] = []


@contextmanager
def tracing() -> Iterator[list[Constraint]]:
    """Collect the range checks that symbolic arguments must pass, per variant."""
    found: list[Constraint] = []
    _constraints.append(found)
    try:
        yield found
    finally:
        _constraints.pop()


def check_range(value: Symbol, low: int, high: int, what: str) -> None:
    """Record that `value` must lie in [low, high] (checked for every variant later)."""
    if not _constraints:
        raise NotAffine
    _constraints[-1].append((value, low, high, what))
