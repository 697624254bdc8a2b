"""Shopify's search syntax for the `query` argument of GraphQL connections.

Supported: `field:value` terms, bare words, `AND` (also implied by a space), `OR`, `NOT` or a
leading `-`, parentheses, quoted values ('a b' or "a b"), a trailing `*` for a prefix match, and
the comparisons `:>`, `:>=`, `:<`, `:<=`. `AND` binds tighter than `OR`, as in Shopify's syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Union

__all__ = ["Matcher", "SearchSyntaxError", "parse_search"]

_TOKEN = re.compile(r"""\s*(\(|\)|[^\s()'"]+:(?:>=|<=|>|<)?(?:'[^']*'|"[^"]*")|'[^']*'|"[^"]*"|[^\s()]+)""")
_TERM = re.compile(r"(?P<field>[A-Za-z_][\w.]*):(?P<operator>>=|<=|>|<)?(?P<value>.*)\Z", re.S)

# A field resolver returns the values of a field on a record, or None when the field is unknown.
FieldValues = Callable[[Any, str], Union[list[str], None]]


class SearchSyntaxError(ValueError):
    """A query string the parser cannot read (for example an unclosed parenthesis)."""


@dataclass(frozen=True)
class _Term:
    field: str | None
    operator: str | None
    value: str


@dataclass(frozen=True)
class _Not:
    operand: Any


@dataclass(frozen=True)
class _Both:
    operands: tuple[Any, ...]


@dataclass(frozen=True)
class _Either:
    operands: tuple[Any, ...]


class Matcher:
    """A parsed query; `matches(record)` tests a record through a field resolver."""

    def __init__(self, tree: Any, field_values: FieldValues) -> None:
        self._tree = tree
        self._field_values = field_values

    def matches(self, record: Any) -> bool:
        return self._evaluate(self._tree, record)

    def _evaluate(self, node: Any, record: Any) -> bool:
        if node is None:
            return True
        if isinstance(node, _Not):
            return not self._evaluate(node.operand, record)
        if isinstance(node, _Both):
            return all(self._evaluate(operand, record) for operand in node.operands)
        if isinstance(node, _Either):
            return any(self._evaluate(operand, record) for operand in node.operands)
        return self._term_matches(node, record)

    def _term_matches(self, term: _Term, record: Any) -> bool:
        values = self._field_values(record, term.field or "default")
        if values is None:
            # Shopify ignores a term on a field it does not know instead of failing the query.
            return True
        expected = term.value.lower()
        for value in values:
            if _compare(value.lower(), term.operator, expected, prefix=term.value.endswith("*"), substring=term.field is None):
                return True
        return False


def _compare(value: str, operator: str | None, expected: str, prefix: bool, substring: bool) -> bool:
    if operator == ">":
        return value > expected
    if operator == ">=":
        return value >= expected
    if operator == "<":
        return value < expected
    if operator == "<=":
        return value <= expected
    if prefix:
        return value.startswith(expected[:-1])
    if substring:
        return expected in value
    return value == expected


def parse_search(text: str | None, field_values: FieldValues) -> Matcher:
    """Parse a search string; an empty or missing string matches everything."""
    tokens = [found.group(1) for found in _TOKEN.finditer(text or "")]
    parser = _Parser(tokens)
    tree = parser.parse_or() if tokens else None
    if parser.position != len(tokens):
        raise SearchSyntaxError(f"unexpected {tokens[parser.position]!r} in search query {text!r}")
    return Matcher(tree, field_values)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def parse_or(self) -> Any:
        operands = [self.parse_and()]
        while self._peek() == "OR":
            self.position += 1
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else _Either(tuple(operands))

    def parse_and(self) -> Any:
        operands = [self.parse_unary()]
        while self._peek() not in (None, "OR", ")"):
            if self._peek() == "AND":
                self.position += 1
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else _Both(tuple(operands))

    def parse_unary(self) -> Any:
        token = self._peek()
        if token is None:
            raise SearchSyntaxError("search query ends where a term was expected")
        if token == "NOT":
            self.position += 1
            return _Not(self.parse_unary())
        if token == "(":
            self.position += 1
            inner = self.parse_or()
            if self._peek() != ")":
                raise SearchSyntaxError("search query has an unclosed parenthesis")
            self.position += 1
            return inner
        self.position += 1
        if token.startswith("-") and len(token) > 1:
            return _Not(_term(token[1:]))
        return _term(token)


def _term(token: str) -> _Term:
    found = _TERM.match(token)
    if found is None:
        return _Term(None, None, _unquote(token))
    return _Term(found.group("field"), found.group("operator"), _unquote(found.group("value")))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
