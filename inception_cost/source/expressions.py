"""Integer arithmetic in layer and block arguments: `$t * $c`, `$c // 2`, `($a + 1) * 2`,
and the input of the layer, `$in_channels`, `$in_height`, `$in_width` (`groups:
depthwise` is `$in_channels`).

A string that is such an expression is evaluated when the block is expanded; one that
names the layer's input becomes an `InputExpression`, evaluated when shapes are known.
Only integers, `$names`, `+ - * //` and parentheses are read: nothing is ever run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

INPUT_NAMES = {"in_height": 0, "in_width": 1, "in_channels": 2}
MAX_LENGTH = 200
# patterns, compiled (and then cached by `re`) on first use: most files have no expression,
# and compiling them costs start-up time
_TOKEN = r"\s*(?:(\d{1,9})|\$([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*()]))"
_CANDIDATE = r"[\s\d$A-Za-z_+\-*/()]+"

# a parsed expression: an int, ("arg", name), ("in", name), ("const", value) or
# (operator, left, right)
Node = int | tuple[Any, ...]


class ExpressionError(ValueError):
    """The expression cannot be evaluated (a division by zero, an unknown argument ...)."""


class InputExpression:
    """An expression that names the layer's input: evaluated with its shape."""

    __slots__ = ("text", "node")

    def __init__(self, text: str, node: Node) -> None:
        self.text = text
        self.node = node

    def evaluate(self, shape: tuple[int, int, int]) -> Any:
        return _evaluate(self.node, lambda name: shape[INPUT_NAMES[name]])

    def __repr__(self) -> str:
        return f"InputExpression({self.text!r})"


def parse(text: str) -> Node | None:
    """The expression in `text`, or None when `text` is not one (then it stays a string)."""
    if len(text) > MAX_LENGTH or "$" not in text and not any(op in text for op in "+-*/()"):
        return None
    if not re.fullmatch(_CANDIDATE, text):
        return None
    token = re.compile(_TOKEN)
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = token.match(text, position)
        if match is None:
            if text[position:].strip():
                return None
            break
        number, name, operator = match.groups()
        tokens.append(("int", int(number)) if number else ("name", name) if name else ("op", operator))
        position = match.end()
    parser = _Parser(tokens)
    try:
        node = parser.sum()
    except IndexError:
        return None
    return node if parser.done() else None


SYNTAX = "whole numbers, $names, + - * // and parentheses"


def substitute(text: str, args: Mapping[str, Any]) -> Any:
    """Evaluate `text` with the block's arguments: an int (or what an argument is), an
    InputExpression when it names the input (itself, or through an argument that does),
    or None when `text` is no expression."""
    node = parse(text)
    if node is None:
        return None
    if isinstance(node, tuple) and node[0] == "arg":  # a whole `$name` keeps its argument's type
        return _lookup(node[1], args)
    bound = _bind(node, args)
    if _names_input(bound):
        return InputExpression(text, bound)
    return _evaluate(bound, _unbound)


def constant(text: str) -> int | None:
    """The value of an expression of numbers alone (`4 * 2`), or None when `text` is none."""
    node = parse(text)
    if node is None or _has_names(node):
        return None
    value: int = _evaluate(node, _unbound)
    return value


def looks_like_arithmetic(text: str) -> bool:
    """Whether `text` was meant as arithmetic (for a helpful error when it cannot be read)."""
    return any(op in text for op in "*/()+") or any(f"${name}" in text for name in INPUT_NAMES)


def _unbound(name: str) -> Any:
    raise ExpressionError(f"unknown block argument '${name}'")


def _has_names(node: Node) -> bool:
    if isinstance(node, int):
        return False
    if node[0] in ("arg", "in"):
        return True
    return node[0] != "const" and (_has_names(node[1]) or _has_names(node[2]))


class _Parser:
    """sum := product (('+' | '-') product)*; product := atom (('*' | '//') atom)*;
    atom := int | $name | '(' sum ')' | '-' atom"""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.i = 0

    def done(self) -> bool:
        return self.i == len(self.tokens)

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def sum(self) -> Node:
        node = self.product()
        while (token := self._peek()) is not None and token in (("op", "+"), ("op", "-")):
            self.i += 1
            node = (token[1], node, self.product())
        return node

    def product(self) -> Node:
        node = self.atom()
        while (token := self._peek()) is not None and token in (("op", "*"), ("op", "//")):
            self.i += 1
            node = (token[1], node, self.atom())
        return node

    def atom(self) -> Node:
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "int":
            return int(value)
        if kind == "name":
            return ("in", value) if value in INPUT_NAMES else ("arg", value)
        if value == "(":
            node = self.sum()
            if self._peek() != ("op", ")"):
                raise IndexError
            self.i += 1
            return node
        if value == "-":
            return ("-", 0, self.atom())
        raise IndexError


def _names_input(node: Node) -> bool:
    if isinstance(node, int):
        return False
    if node[0] == "in":
        return True
    # ("const", 2.5): a bound argument that is no number is a leaf (refused when evaluated)
    return node[0] not in ("arg", "const") and (_names_input(node[1]) or _names_input(node[2]))


def _bind(node: Node, args: Mapping[str, Any]) -> Node:
    """Replace the block's arguments by their values, keeping the input's names."""
    if isinstance(node, int) or node[0] == "in":
        return node
    if node[0] == "arg":
        value = _lookup(node[1], args)
        if isinstance(value, InputExpression):  # `with: {sq: $in_channels // 4}`, then `$sq * 4`
            return value.node
        return value if isinstance(value, int) and not isinstance(value, bool) else ("const", value)
    return (node[0], _bind(node[1], args), _bind(node[2], args))


def _lookup(name: str, args: Mapping[str, Any]) -> Any:
    if name not in args:
        from inception_cost.errors import did_you_mean

        raise ExpressionError(f"unknown block argument '${name}'{did_you_mean(name, list(args))}")
    return args[name]


def _evaluate(node: Node, value_of: Callable[[str], Any]) -> Any:
    if isinstance(node, int):
        return node
    if node[0] == "const":  # a block argument that is not a number: refused below
        return node[1]
    if node[0] in ("arg", "in"):
        return value_of(node[1])
    left, right = _evaluate(node[1], value_of), _evaluate(node[2], value_of)
    for side in (left, right):
        if isinstance(side, bool) or not isinstance(side, int):
            raise ExpressionError(f"arithmetic needs whole numbers, got {type(side).__name__} {side!r}")
    if node[0] == "+":
        return left + right
    if node[0] == "-":
        return left - right
    if node[0] == "*":
        return left * right
    if right == 0:
        raise ExpressionError("division by zero")
    return left // right
