"""YAML and JSON loading that remembers line numbers, so every finding can say file:line.

Mappings load as `LineDict` and sequences as `LineList`; both carry the line of their own start
and of each key or item. Scalars stay plain Python values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    line: int = 1
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)

    def value_line(self, key: Any) -> int:
        """First line of the value's text (block scalars start on the line after `|`)."""
        return self.value_lines.get(key, self.line_of(key))


class LineList(list):
    line: int = 1
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class SourceError(Exception):
    """The file does not parse; `line` is 1-based."""

    def __init__(self, message: str, line: int, col: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


_constructor = yaml.constructor.SafeConstructor()


def _value_text_line(node: yaml.Node) -> int:
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + (1 if block else 0)


def _convert(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines, result.value_lines = {}, {}
        for key_node, value_node in node.value:
            key = _convert(key_node)
            if isinstance(key, (dict, list)):
                key = str(key)
            result[key] = _convert(value_node)
            result.key_lines[key] = key_node.start_mark.line + 1
            result.value_lines[key] = _value_text_line(value_node)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LineList(_convert(item) for item in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    return _constructor.construct_object(node, deep=True)


def load_yaml_text(text: str) -> Any:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else None
        raise SourceError(f"YAML does not parse: {exc.problem or exc}", line, col) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML does not parse: {exc}", 1) from exc
    return None if node is None else _convert(node)


def load_json_text(text: str) -> Any:
    try:
        plain = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"JSON does not parse: {exc.msg}", exc.lineno, exc.colno) from exc
    try:
        # JSON is YAML: composing it again gives the line numbers json.loads does not keep.
        return load_yaml_text(text)
    except SourceError:
        return _without_lines(plain)


def _without_lines(value: Any) -> Any:
    if isinstance(value, dict):
        result = LineDict((k, _without_lines(v)) for k, v in value.items())
        result.key_lines, result.value_lines = {}, {}
        return result
    if isinstance(value, list):
        items = LineList(_without_lines(v) for v in value)
        items.item_lines = []
        return items
    return value


def load_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return load_json_text(text) if path.suffix == ".json" else load_yaml_text(text)
