"""A SOQL subset: parse a query against the schema, then run it over the record store.

The subset supported:

- `SELECT` of fields, of parent fields (`Account.Name`, `PBSI__Customer__r.Name`, several
  levels deep) or `COUNT()`, `FROM` one object;
- `WHERE` with AND, OR, NOT, parentheses, `= != <> < > <= >=`, `IN (...)`, `NOT IN (...)` and
  `LIKE`, over `null`, strings with backslash escapes, numbers, `true`/`false`, date literals
  (`2026-11-02`) and date-time literals (`2026-11-02T10:00:00Z`, `+hh:mm` offsets);
- `ORDER BY` several fields with ASC/DESC and NULLS FIRST/LAST, `LIMIT` and `OFFSET`.

As in Salesforce, text comparisons ignore case, AND and OR may not be mixed at one level
without parentheses, and a null field matches only `= null` and `!=`. Errors carry
Salesforce's codes: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE and
INVALID_QUERY_FILTER_OPERATOR, with the row and column in the message.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field as dataclass_field
from decimal import Decimal
from typing import Any, Callable, Iterable, Union

from .errors import ApiError
from .ids import is_id, to_18
from .schema import NUMBER_TYPES, TEXT_TYPES, Field, SObject, find_object
from .values import format_datetime, parse_datetime, to_wire

__all__ = ["Query", "parse", "execute", "MAX_OFFSET"]

MAX_OFFSET = 2000

_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "COUNT",
}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<number>-?(?:\d+(?:\.\d+)?|\.\d+))(?![\w.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>')
  | (?P<operator>!=|<>|<=|>=|=|<|>)
  | (?P<punctuation>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
# LIKE keeps \% and \_ escaped until the pattern is compiled, so they match literally.
_LIKE_ESCAPES = {"%", "_"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any
    position: int

    def keyword(self) -> str | None:
        if self.kind == "name" and self.text.upper() in _KEYWORDS:
            return self.text.upper()
        return None


def _error_at(query: str, position: int, code: str, detail: str) -> ApiError:
    """Build an error whose message shows the query line, a caret and the row and column, as Salesforce's do."""
    before = query[:position]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    column = position - line_start + 1
    line_end = query.find("\n", position)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"
    return ApiError(400, code, message)


def _read_string(query: str, start: int) -> tuple[str, int]:
    """Read a quoted string starting after its opening quote; return its value and the end offset."""
    chars: list[str] = []
    index = start
    while index < len(query):
        char = query[index]
        if char == "'":
            return "".join(chars), index + 1
        if char == "\\":
            if index + 1 >= len(query):
                break
            escaped = query[index + 1]
            if escaped in _ESCAPES:
                chars.append(_ESCAPES[escaped])
            elif escaped in _LIKE_ESCAPES:
                chars.append("\\" + escaped)
            else:
                raise _error_at(query, index, "MALFORMED_QUERY", f"Invalid string literal '\\{escaped}'. Illegal escape sequence.")
            index += 2
            continue
        chars.append(char)
        index += 1
    raise _error_at(query, start - 1, "MALFORMED_QUERY", "unterminated string literal")


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        found = _TOKEN.match(query, position)
        if not found:
            raise _error_at(query, position, "MALFORMED_QUERY", f"unexpected token: {query[position]}")
        kind = found.lastgroup or ""
        text = found.group(kind)
        if kind == "space":
            position = found.end()
            continue
        if kind == "string":
            value, end = _read_string(query, found.end())
            tokens.append(Token("string", query[position:end], value, position))
            position = end
            continue
        value: Any = text
        if kind == "number":
            value = Decimal(text)
        tokens.append(Token(kind, text, value, position))
        position = found.end()
    tokens.append(Token("eof", "<EOF>", None, len(query)))
    return tokens


# ----- the query tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldPath:
    """A field reached from the queried object, possibly through parent relationships."""

    references: tuple[Field, ...]
    field: Field
    text: str


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, date, datetime, boolean, null
    value: Any
    position: int


@dataclass(frozen=True)
class Comparison:
    path: FieldPath
    operator: str
    literal: Literal


@dataclass(frozen=True)
class Membership:
    path: FieldPath
    literals: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    path: FieldPath
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Junction:
    operator: str  # AND or OR
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Negation:
    item: "Condition"


Condition = Union[Comparison, Membership, Like, Junction, Negation]


@dataclass(frozen=True)
class OrderItem:
    path: FieldPath
    descending: bool
    nulls_first: bool


@dataclass
class Query:
    """A parsed query: the object, the selected paths (None for COUNT()), filter, order and paging."""

    sobject: SObject
    paths: list[FieldPath] | None
    where: Condition | None = None
    order: list[OrderItem] = dataclass_field(default_factory=list)
    limit: int | None = None
    offset: int = 0

    @property
    def is_count(self) -> bool:
        return self.paths is None


# ----- the parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0
        self.sobject: SObject | None = None

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> ApiError:
        token = token or self.current
        return _error_at(self.query, token.position, "MALFORMED_QUERY", f"unexpected token: {token.text}")

    def accept(self, keyword: str) -> bool:
        if self.current.keyword() == keyword:
            self.advance()
            return True
        return False

    def expect(self, keyword: str) -> Token:
        if self.current.keyword() != keyword:
            raise self.unexpected()
        return self.advance()

    def expect_punctuation(self, text: str) -> Token:
        if self.current.kind != "punctuation" or self.current.text != text:
            raise self.unexpected()
        return self.advance()

    # SELECT ... FROM ...

    def parse(self) -> Query:
        self.expect("SELECT")
        selected = self.parse_select_list()
        self.expect("FROM")
        self.sobject = self.parse_object()
        paths = None if selected is None else [self.resolve(token) for token in selected]
        if paths is not None:
            self.check_duplicates(paths, selected or [])
        query = Query(self.sobject, paths)

        if self.accept("WHERE"):
            query.where = self.parse_condition()
        if self.accept("ORDER"):
            self.expect("BY")
            query.order = self.parse_order()
        if self.accept("LIMIT"):
            query.limit = self.parse_integer()
        if self.accept("OFFSET"):
            query.offset = self.parse_integer()
            if query.offset > MAX_OFFSET:
                raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        if self.current.kind != "eof":
            raise self.unexpected()
        return query

    def parse_select_list(self) -> list[Token] | None:
        if self.current.keyword() == "COUNT":
            self.advance()
            self.expect_punctuation("(")
            self.expect_punctuation(")")
            return None
        names = []
        while True:
            token = self.current
            if token.kind != "name" or token.keyword() in ("FROM", "SELECT"):
                raise self.unexpected()
            names.append(self.advance())
            if not (self.current.kind == "punctuation" and self.current.text == ","):
                return names
            self.advance()

    def parse_object(self) -> SObject:
        token = self.current
        if token.kind != "name" or token.keyword() is not None or "." in token.text:
            raise self.unexpected()
        self.advance()
        sobject = find_object(token.text)
        if sobject is None:
            raise _error_at(
                self.query,
                token.position,
                "INVALID_TYPE",
                f"sObject type '{token.text}' is not supported. If you are attempting to use a custom object, be sure "
                "to append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        return sobject

    def check_duplicates(self, paths: list[FieldPath], tokens: list[Token]) -> None:
        seen: set[tuple[str, ...]] = set()
        for path, token in zip(paths, tokens):
            key = tuple(step.name for step in path.references) + (path.field.name,)
            if key in seen:
                raise _error_at(self.query, token.position, "MALFORMED_QUERY", f"duplicate field selected: {token.text}")
            seen.add(key)

    def resolve(self, token: Token) -> FieldPath:
        """Resolve a dotted name against the queried object, raising INVALID_FIELD as Salesforce does."""
        assert self.sobject is not None
        steps = token.text.split(".")
        if len(steps) > 1 and steps[0].lower() == self.sobject.name.lower():
            steps = steps[1:]
        current = self.sobject
        references: list[Field] = []
        for step in steps[:-1]:
            reference = current.relationship(step)
            if reference is None or reference.reference_to is None:
                raise _error_at(
                    self.query,
                    token.position,
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{step}' in field path. If you are attempting to use a custom "
                    "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                )
            references.append(reference)
            target = find_object(reference.reference_to)
            assert target is not None
            current = target
        field = current.field(steps[-1])
        if field is None:
            raise _error_at(
                self.query,
                token.position,
                "INVALID_FIELD",
                f"No such column '{steps[-1]}' on entity '{current.name}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        return FieldPath(tuple(references), field, token.text)

    # WHERE

    def parse_condition(self) -> Condition:
        first = self.parse_unary()
        operator = self.current.keyword()
        if operator not in ("AND", "OR"):
            return first
        items = [first]
        while self.current.keyword() in ("AND", "OR"):
            if self.current.keyword() != operator:
                # SOQL needs parentheses to mix AND and OR.
                raise self.unexpected()
            self.advance()
            items.append(self.parse_unary())
        return Junction(operator, tuple(items))

    def parse_unary(self) -> Condition:
        if self.accept("NOT"):
            return Negation(self.parse_unary())
        if self.current.kind == "punctuation" and self.current.text == "(":
            self.advance()
            inner = self.parse_condition()
            self.expect_punctuation(")")
            return inner
        return self.parse_comparison()

    def parse_comparison(self) -> Condition:
        token = self.current
        if token.kind != "name" or token.keyword() is not None:
            raise self.unexpected()
        self.advance()
        path = self.resolve(token)

        if self.accept("LIKE"):
            literal = self.parse_literal()
            if literal.kind != "string" or path.field.type not in TEXT_TYPES | {"id", "reference"}:
                raise self.filter_error(path, literal)
            return Like(path, _like_pattern(literal.value))

        negated = self.accept("NOT")
        if negated or self.current.keyword() == "IN":
            self.expect("IN")
            self.expect_punctuation("(")
            literals = [self.parse_literal()]
            while self.current.kind == "punctuation" and self.current.text == ",":
                self.advance()
                literals.append(self.parse_literal())
            self.expect_punctuation(")")
            for literal in literals:
                self.check_literal(path, literal)
            return Membership(path, tuple(literals), negated)

        if self.current.kind != "operator":
            raise self.unexpected()
        operator = self.advance().text
        literal = self.parse_literal()
        self.check_literal(path, literal)
        return Comparison(path, "!=" if operator == "<>" else operator, literal)

    def parse_literal(self) -> Literal:
        token = self.advance()
        keyword = token.keyword()
        if token.kind == "string":
            return Literal("string", token.value, token.position)
        if token.kind == "number":
            return Literal("number", token.value, token.position)
        if token.kind == "date":
            return Literal("date", token.text, token.position)
        if token.kind == "datetime":
            moment = parse_datetime(token.text)
            if moment is None:
                raise self.unexpected(token)
            return Literal("datetime", format_datetime(moment), token.position)
        if keyword in ("TRUE", "FALSE"):
            return Literal("boolean", keyword == "TRUE", token.position)
        if keyword == "NULL":
            return Literal("null", None, token.position)
        raise self.unexpected(token)

    def check_literal(self, path: FieldPath, literal: Literal) -> None:
        """Reject a literal of the wrong type for the field, as Salesforce does before running the query."""
        field_type = path.field.type
        if literal.kind == "null":
            return
        allowed = {
            "string": TEXT_TYPES | {"id", "reference"},
            "number": NUMBER_TYPES,
            "boolean": {"boolean"},
            "date": {"date"},
            "datetime": {"datetime"},
        }[literal.kind]
        if field_type not in allowed:
            raise self.filter_error(path, literal)

    def filter_error(self, path: FieldPath, literal: Literal) -> ApiError:
        field_type = path.field.type
        type_names = {"datetime": "dateTime", "reference": "id", "textarea": "string", "email": "string", "phone": "string", "picklist": "string"}
        type_name = type_names.get(field_type, field_type)
        quoted = field_type in TEXT_TYPES | {"id", "reference"}
        hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return _error_at(
            self.query,
            literal.position,
            "INVALID_QUERY_FILTER_OPERATOR",
            f"value of filter criterion for field '{path.field.name}' must be of type {type_name} and {hint}",
        )

    # ORDER BY, LIMIT, OFFSET

    def parse_order(self) -> list[OrderItem]:
        items = []
        while True:
            token = self.current
            if token.kind != "name" or token.keyword() is not None:
                raise self.unexpected()
            self.advance()
            path = self.resolve(token)
            descending = False
            if self.accept("DESC"):
                descending = True
            else:
                self.accept("ASC")
            nulls_first = not descending
            if self.accept("NULLS"):
                if self.accept("FIRST"):
                    nulls_first = True
                else:
                    self.expect("LAST")
                    nulls_first = False
            items.append(OrderItem(path, descending, nulls_first))
            if not (self.current.kind == "punctuation" and self.current.text == ","):
                return items
            self.advance()

    def parse_integer(self) -> int:
        token = self.current
        if token.kind != "number" or token.value != token.value.to_integral_value() or token.value < 0:
            raise self.unexpected()
        self.advance()
        return int(token.value)


def parse(query: str) -> Query:
    """Parse a SOQL query against the schema; raise ApiError (400) for anything not supported or invalid."""
    return _Parser(query).parse()


def _like_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in _LIKE_ESCAPES:
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


# ----- running a query -----------------------------------------------------------------------

# lookup(record_id) returns the live record with that id, or None.
Lookup = Callable[[str], Union[dict[str, Any], None]]


def _value(record: dict[str, Any], path: FieldPath, lookup: Lookup) -> Any:
    current: dict[str, Any] | None = record
    for reference in path.references:
        parent_id = current.get(reference.name) if current else None
        current = lookup(parent_id) if parent_id else None
        if current is None:
            return None
    return current.get(path.field.name) if current else None


def _comparable(field: Field, value: Any) -> Any:
    """Normalise a stored or literal value so that SOQL comparison rules become Python ones."""
    if value is None:
        return None
    if field.type in ("id", "reference"):
        return to_18(value) if isinstance(value, str) and is_id(value) else value
    if field.type in TEXT_TYPES:
        return str(value).casefold()
    if field.type in NUMBER_TYPES:
        return Decimal(value)
    return value


def _compare(operator: str, left: Any, right: Any) -> bool:
    if right is None:
        if operator == "=":
            return left is None
        if operator == "!=":
            return left is not None
        return False
    if left is None:
        return operator == "!="
    if operator == "=":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


def matches(condition: Condition, record: dict[str, Any], lookup: Lookup) -> bool:
    """Tell whether a record satisfies a WHERE condition."""
    if isinstance(condition, Junction):
        results = (matches(item, record, lookup) for item in condition.items)
        return all(results) if condition.operator == "AND" else any(results)
    if isinstance(condition, Negation):
        return not matches(condition.item, record, lookup)
    field = condition.path.field
    value = _comparable(field, _value(record, condition.path, lookup))
    if isinstance(condition, Like):
        return value is not None and bool(condition.pattern.fullmatch(str(value)))
    if isinstance(condition, Membership):
        options = {_comparable(field, literal.value) for literal in condition.literals}
        found = value in options
        if condition.negated:
            return value is not None and not found
        return found
    return _compare(condition.operator, value, _comparable(field, condition.literal.value))


def _sort(records: list[dict[str, Any]], order: list[OrderItem], lookup: Lookup) -> list[dict[str, Any]]:
    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for item in order:
            a = _comparable(item.path.field, _value(left, item.path, lookup))
            b = _comparable(item.path.field, _value(right, item.path, lookup))
            if a == b:
                continue
            if a is None or b is None:
                first_is_null = a is None
                return -1 if first_is_null == item.nulls_first else 1
            result = -1 if a < b else 1
            return -result if item.descending else result
        return 0

    return sorted(records, key=functools.cmp_to_key(compare))


def _render(record: dict[str, Any], query: Query, lookup: Lookup, base: str) -> dict[str, Any]:
    """Shape one record as the query result returns it: attributes, then the selected fields."""
    row: dict[str, Any] = {"attributes": {"type": query.sobject.name, "url": f"{base}/sobjects/{query.sobject.name}/{record['Id']}"}}
    for path in query.paths or []:
        target: dict[str, Any] | None = row
        current: dict[str, Any] | None = record
        for reference in path.references:
            key = reference.relationship_name or reference.name
            parent_id = current.get(reference.name) if current else None
            current = lookup(parent_id) if parent_id else None
            assert target is not None
            if current is None:
                target.setdefault(key, None)
                target = None
                break
            parent_type = reference.reference_to or ""
            nested = target.get(key)
            if nested is None:
                nested = {"attributes": {"type": parent_type, "url": f"{base}/sobjects/{parent_type}/{current['Id']}"}}
                target[key] = nested
            target = nested
        if target is not None and current is not None:
            target[path.field.name] = to_wire(path.field, current.get(path.field.name))
    return row


def execute(query: Query, records: Iterable[dict[str, Any]], lookup: Lookup, base: str) -> tuple[int, list[dict[str, Any]]]:
    """Run a parsed query over an object's records; return the total size and the result rows.

    `base` is the versioned REST path (`/services/data/v62.0`) used in each row's attributes.
    For COUNT() the rows are empty and the total is the count.
    """
    selected = [record for record in records if query.where is None or matches(query.where, record, lookup)]
    if query.order:
        selected = _sort(selected, query.order, lookup)
    selected = selected[query.offset :]
    if query.limit is not None:
        selected = selected[: query.limit]
    if query.is_count:
        return len(selected), []
    return len(selected), [_render(record, query, lookup, base) for record in selected]
