"""Read YAML safely and keep the line of every mapping, key and list item.

PyYAML's safe composer builds a node tree (no object construction, no code); we turn
it into plain dicts and lists that remember their lines, so that every later error
can name `FILE:LINE`. Aliases are followed with a budget, so an alias bomb is refused
instead of expanded.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import yaml

from inception_cost.errors import ArchitectureError, shorten
from inception_cost.source.files import read_regular
from inception_cost.source.numbers import MAX_DIGITS

# libyaml when PyYAML has it (fast), else the pure-Python loader; both are safe loaders.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_ALIAS_VALUES = 100_000  # values reached again through aliases
MAX_ALIAS_CHARACTERS = 10_000_000  # characters of the text reached again through aliases


class YMap(dict[str, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YList(list[Any]):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


_BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark
ARCHITECTURE = "a YAML mapping with 'input' and 'layers'"  # what an empty file lacks


def load_file(path: str | os.PathLike[str], display_name: str | None = None, what: str = "an architecture",
              expected: str = ARCHITECTURE) -> Any:
    """Parse an architecture file (or `what` file, holding `expected`); errors name the
    file as `display_name`."""
    path = os.fspath(path)
    raw = read_regular(path, MAX_FILE_BYTES, display_name or path, what, expected)
    return load_bytes(raw, display_name or path, expected)


def load_bytes(raw: bytes, name: str, expected: str = ARCHITECTURE) -> Any:
    try:  # what "utf-8-sig" does (a leading BOM dropped), without importing its codec
        text = (raw[3:] if raw.startswith(_BOM) else raw).decode("utf-8")
    except UnicodeDecodeError as exc:  # exc.start counts from after a BOM, as "utf-8-sig"'s does
        line = raw[: exc.start].count(b"\n") + 1
        raise ArchitectureError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            file=name, line=line) from None
    return load_text(text, name, expected)


def load_text(text: str, name: str, expected: str = ARCHITECTURE) -> Any:
    if not text.strip():
        raise ArchitectureError(f"file is empty (expected {expected})", file=name)
    loader = None
    try:
        loader = SAFE_LOADER(text)
        if SAFE_LOADER is yaml.SafeLoader:  # libyaml refuses deep nesting itself
            _check_depth(text, name)  # before composing, which recurses once per level
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, name, text) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise ArchitectureError(f"invalid YAML: character U+{code:04X} is not allowed (control"
                                " characters and NUL cannot appear in YAML text)",
                                file=name, line=line) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ArchitectureError(f"invalid YAML: {message}", file=name) from None
    except RecursionError:
        raise ArchitectureError(f"nesting deeper than {MAX_DEPTH} levels", file=name) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise ArchitectureError("file holds no YAML document", file=name)
    return _Builder(loader, name).build(node, 0)


def _check_depth(text: str, name: str) -> None:
    """Refuse deep nesting from the event stream, which needs no recursion."""
    depth = 0
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise ArchitectureError(f"nesting deeper than {MAX_DEPTH} levels", file=name,
                                        line=mark.line + 1 if mark is not None else None)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _yaml_error(exc: yaml.MarkedYAMLError, name: str, text: str) -> ArchitectureError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or "cannot parse"
    source_line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in source_line[: mark.column + 1 if mark else 0] or "'\\t'" in problem:
        return ArchitectureError("a tab character in the indentation; YAML indents with spaces",
                                 file=name, line=line)
    context = f" {exc.context}" if exc.context and exc.context not in problem else ""
    return ArchitectureError(f"invalid YAML:{context} {problem}".replace("  ", " "),
                             file=name, line=line)


class _Builder:
    """Turns composed nodes into YMap / YList / scalars, within the limits above."""

    def __init__(self, loader: yaml.SafeLoader, name: str):
        self.loader = loader
        self.name = name
        self.seen: set[int] = set()
        self.repeated = 0
        self.repeated_characters = 0

    def build(self, node: Any, depth: int) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self.seen:  # reached again through an alias: that costs expansion
            self.repeated += 1
            self.repeated_characters += len(node.value) if isinstance(node.value, str) else 0
            if self.repeated_characters > MAX_ALIAS_CHARACTERS:
                raise ArchitectureError(f"aliases expand to more than {MAX_ALIAS_CHARACTERS:,}"
                                        " characters of text (an alias bomb?)", file=self.name, line=line)
            if self.repeated > MAX_ALIAS_VALUES:
                raise ArchitectureError(
                    f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (an alias bomb?)",
                    file=self.name, line=line)
        else:
            self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise ArchitectureError(f"nesting deeper than {MAX_DEPTH} levels", file=self.name, line=line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth, line)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise ArchitectureError(f"tag {_tag(node.tag)} is not allowed (plain YAML only)",
                                        file=self.name, line=line)
            result = YList(self.build(item, depth + 1) for item in node.value)
            result.line = line
            result.item_lines = [item.start_mark.line + 1 for item in node.value]
            return result
        return self._scalar(node, line)

    def _mapping(self, node: Any, depth: int, line: int) -> YMap:
        if node.tag != "tag:yaml.org,2002:map":
            raise ArchitectureError(f"tag {_tag(node.tag)} is not allowed (plain YAML only)",
                                    file=self.name, line=line)
        result = YMap()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ArchitectureError("merge keys ('<<') are not supported", file=self.name,
                                        line=key_line)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag in PLAIN_TAGS:
                key = key_node.value  # a key is a name, read as written: `on:` is 'on', not True
            else:
                key = self.build(key_node, depth + 1)
            if isinstance(key, (dict, list)):
                raise ArchitectureError("a mapping key must be a plain value", file=self.name,
                                        line=key_line)
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                raise ArchitectureError(
                    f"duplicate key '{key}' (first at line {result.key_lines[key]})",
                    file=self.name, line=key_line)
            result[key] = self.build(value_node, depth + 1)
            result.key_lines[key] = key_line
        return result

    def _scalar(self, node: Any, line: int) -> Any:
        if node.tag == "tag:yaml.org,2002:str":  # most scalars: no conversion to make
            return node.value
        if node.tag in (INT_TAG, FLOAT_TAG):
            _check_number(node.value, node.tag, self.name, line)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise ArchitectureError(f"tag {_tag(node.tag)} is not allowed (plain YAML only)",
                                    file=self.name, line=line) from None
        except (ValueError, KeyError, IndexError, TypeError, OverflowError):
            # an explicit tag on a value that is not one (!!int abc), or an integer of
            # thousands of digits
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            raise ArchitectureError(f"cannot read '{shown}' as {_tag(node.tag)}",
                                    file=self.name, line=line) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ArchitectureError(f"'{shorten(node.value)}' is not a finite number", file=self.name,
                                    line=line)
        if not isinstance(value, (str, int, float, bool, type(None))):
            # dates, binary and sets are valid YAML but mean nothing here: keep the text.
            value = node.value
        return value


INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
PLAIN_TAGS = tuple(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_OCTAL = r"[-+]?0[0-9_]+"  # compiled on first use: only an integer written with a leading 0 needs it


def _check_number(text: str, tag: str, name: str, line: int) -> None:
    """Refuse what YAML 1.1 reads as a number nobody meant: `010` (octal 8), `1:30`
    (sexagesimal 90), and integers too long to convert quickly."""
    if ":" in text:
        raise ArchitectureError(f"'{shorten(text)}' is a base-60 number in YAML 1.1 (1:30 is 90);"
                                " quote it if it is text, or write the number", file=name, line=line)
    digits = text.lstrip("+-")
    if tag == INT_TAG and digits[:1] == "0" and len(digits) > 1 and re.fullmatch(_OCTAL, text):
        octal = int(text.replace("_", ""), 8)
        raise ArchitectureError(f"'{text}' is an octal number in YAML 1.1 ({text} is {octal});"
                                " write it without the leading zero", file=name, line=line)
    if tag == INT_TAG and len(text) > MAX_DIGITS + 3:  # a sign, a 0x prefix
        raise ArchitectureError(f"'{shorten(text)}' has more than the {MAX_DIGITS} digits a number"
                                " may have", file=name, line=line)


def _tag(tag: str) -> str:
    """'tag:yaml.org,2002:python/object' -> '!!python/object'."""
    return tag.replace("tag:yaml.org,2002:", "!!")
