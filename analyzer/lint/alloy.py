"""A reader for Grafana Alloy configuration files, enough to lint `loki.process` pipelines.

Alloy's syntax is blocks (`name.path "label" { ... }`) holding attributes (`key = value`);
values are strings, numbers, booleans, null, lists, objects, references (`a.b.c`) and calls.
References and calls are kept as text: the linter does not evaluate them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from analyzer.lint.sourcemap import SourceError

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+) | (?P<nl>\n) | (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<string>"(?:[^"\\\n]|\\.)*") | (?P<raw>`[^`]*`)
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*) | (?P<punct>[{}\[\](),=.])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class Token:
    kind: str
    text: str
    line: int
    value: Any = None


@dataclass
class Block:
    name: str
    label: str | None
    line: int
    attributes: dict[str, Any] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def find(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.name == name]


def _tokens(text: str) -> list[Token]:
    tokens, line, pos = [], 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SourceError(f"Alloy syntax: unexpected character {text[pos]!r}", line)
        kind, chunk = match.lastgroup or "", match.group()
        if kind == "string":
            tokens.append(Token("string", chunk, line, json.loads(chunk)))
        elif kind == "raw":
            tokens.append(Token("string", chunk, line, chunk[1:-1]))
        elif kind == "number":
            tokens.append(Token("number", chunk, line, float(chunk) if "." in chunk else int(chunk)))
        elif kind in ("ident", "punct"):
            tokens.append(Token(kind, chunk, line))
        line += chunk.count("\n")
        pos = match.end()
    tokens.append(Token("eof", "", line))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self, text: str | None = None, kind: str | None = None) -> Token:
        token = self.peek()
        if (text is not None and token.text != text) or (kind is not None and token.kind != kind):
            wanted = text or kind
            raise SourceError(f"Alloy syntax: expected {wanted!r}, found {token.text!r}", token.line)
        self.pos += 1
        return token

    def dotted(self) -> str:
        parts = [self.take(kind="ident").text]
        while self.peek().text == "." and self.peek(1).kind == "ident":
            self.pos += 1
            parts.append(self.take(kind="ident").text)
        return ".".join(parts)

    def body(self, block: Block, closing: str) -> None:
        while self.peek().text != closing:
            start = self.peek()
            name = self.dotted()
            if self.peek().text == "=":
                self.pos += 1
                block.attributes[name] = self.value()
                block.attribute_lines[name] = start.line
                continue
            label = self.take(kind="string").value if self.peek().kind == "string" else None
            self.take("{")
            child = Block(name, label, start.line)
            self.body(child, "}")
            self.take("}")
            block.blocks.append(child)

    def value(self) -> Any:
        token = self.peek()
        if token.kind in ("string", "number"):
            self.pos += 1
            return token.value
        if token.text == "[":
            self.pos += 1
            items = []
            while self.peek().text != "]":
                items.append(self.value())
                if self.peek().text == ",":
                    self.pos += 1
            self.take("]")
            return items
        if token.text == "{":
            self.pos += 1
            obj: dict[str, Any] = {}
            while self.peek().text != "}":
                key = self.peek()
                self.pos += 1
                if key.kind not in ("ident", "string"):
                    raise SourceError(f"Alloy syntax: bad object key {key.text!r}", key.line)
                self.take("=")
                obj[key.value if key.kind == "string" else key.text] = self.value()
                if self.peek().text == ",":
                    self.pos += 1
            self.take("}")
            return obj
        if token.kind == "ident":
            if token.text in ("true", "false", "null"):
                self.pos += 1
                return {"true": True, "false": False, "null": None}[token.text]
            reference = self.dotted()
            if self.peek().text == "(":
                self.pos += 1
                args = []
                while self.peek().text != ")":
                    args.append(self.value())
                    if self.peek().text == ",":
                        self.pos += 1
                self.take(")")
                return f"{reference}({', '.join(map(repr, args))})"
            return reference
        raise SourceError(f"Alloy syntax: unexpected {token.text!r}", token.line)


def parse_alloy(text: str) -> Block:
    """The file as a root block; raises SourceError with the line of the first syntax error."""
    parser = _Parser(text)
    root = Block("<root>", None, 1)
    parser.body(root, "")
    return root
