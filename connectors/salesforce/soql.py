"""SOQL values: every value that goes into a query is written by `literal`, the one binding function.

Recipe text and record data never reach a query as raw text. `bind` fills named parameters
(`:name`) of a query a recipe wrote, and `where_clause` builds a condition from a mapping or a
small structured filter. Both write each value through `literal`, which quotes and escapes text
and writes numbers, booleans, null, dates and date-times in SOQL's own literal forms.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from engine.errors import FatalError

__all__ = ["literal", "bind", "where_clause", "datetime_literal", "quote", "OPERATORS"]

# Backslash first, so the backslashes added for the other characters are not doubled.
_ESCAPES = [
    ("\\", "\\\\"),
    ("'", "\\'"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
]

# A bind parameter: a colon, then a name that starts with a letter or underscore. Digits after
# a colon (the minutes in 10:00:00Z, LAST_N_DAYS:30) are not parameters.
_PARAMETER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "like")
_JUNCTIONS = ("and", "or")

FieldResolver = Callable[[str], str]


def quote(text: str) -> str:
    """Return `text` as a SOQL string literal: in single quotes, with SOQL's escape sequences."""
    escaped = text
    for character, replacement in _ESCAPES:
        escaped = escaped.replace(character, replacement)
    return f"'{escaped}'"


def datetime_literal(moment: datetime) -> str:
    """Write an aware datetime as a SOQL date-time literal in UTC (`2026-11-02T15:00:00Z`).

    Milliseconds are written only when they are not zero. Raises FatalError for a naive datetime,
    because guessing its zone would shift the time by hours.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FatalError(f"the date-time {moment.isoformat()} has no time zone; give it an offset such as +00:00", code="INVALID_INPUT")
    utc = moment.astimezone(timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    milliseconds = utc.microsecond // 1000
    if milliseconds:
        text += f".{milliseconds:03d}"
    return text + "Z"


def _number_literal(number: Decimal) -> str:
    if not number.is_finite():
        raise FatalError(f"the number {number} cannot be used in a query", code="INVALID_INPUT")
    # Fixed-point notation: SOQL has no exponent syntax such as 1E+2.
    return format(number, "f")


def literal(value: Any) -> str:
    """Return `value` as a SOQL literal.

    Text is quoted with quotes, backslashes, newlines and other control characters escaped.
    Decimal and int are written as exact fixed-point numbers, a float through its shortest repr.
    Booleans become `true`/`false` and None becomes `null`. A date becomes `2026-11-02` and an
    aware datetime a UTC date-time literal. A list, tuple or set becomes `(a, b)` for IN.
    Raises FatalError for any other type, an empty list, or a naive datetime.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Decimal):
        return _number_literal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_literal(Decimal(repr(value)))
    if isinstance(value, datetime):
        return datetime_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return _list_literal(value)
    raise FatalError(f"a {type(value).__name__} cannot be used as a query value", code="INVALID_INPUT")


def _list_literal(values: Iterable[Any]) -> str:
    items = sorted(values, key=str) if isinstance(values, (set, frozenset)) else list(values)
    if not items:
        raise FatalError("an empty list cannot be used in a query; IN () is not valid SOQL", code="INVALID_INPUT")
    if any(isinstance(item, (list, tuple, set, frozenset, dict)) for item in items):
        raise FatalError("a list in a query may hold only plain values, not lists or mappings", code="INVALID_INPUT")
    return "(" + ", ".join(literal(item) for item in items) + ")"


def _code_spans(query: str) -> list[tuple[int, int]]:
    """Return the spans of `query` outside string literals, where bind parameters may stand."""
    spans = []
    start = 0
    index = 0
    while index < len(query):
        if query[index] != "'":
            index += 1
            continue
        spans.append((start, index))
        index += 1
        while index < len(query) and query[index] != "'":
            index += 2 if query[index] == "\\" else 1
        index += 1
        start = index
    spans.append((start, len(query)))
    return spans


def bind(query: str, parameters: Mapping[str, Any] | None) -> str:
    """Fill each `:name` in `query` with `literal(parameters[name])`.

    Colons inside quoted strings are left alone. Raises FatalError naming a parameter the query
    uses but `parameters` lacks, or one given but never used (most often a typo).
    """
    parameters = dict(parameters or {})
    used: set[str] = set()
    missing: list[str] = []

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in parameters:
            missing.append(name)
            return found.group(0)
        used.add(name)
        return literal(parameters[name])

    pieces = []
    previous_end = 0
    for start, end in _code_spans(query):
        pieces.append(query[previous_end:start])
        pieces.append(_PARAMETER.sub(fill, query[start:end]))
        previous_end = end
    pieces.append(query[previous_end:])

    if missing:
        raise FatalError(f"the query uses :{', :'.join(sorted(set(missing)))} but no such parameter was given", code="INVALID_INPUT")
    unused = sorted(set(parameters) - used)
    if unused:
        raise FatalError(f"the parameters {', '.join(unused)} are not used in the query; each needs a :name in it", code="INVALID_INPUT")
    return "".join(pieces)


# ----- structured filters -------------------------------------------------------------------


def where_clause(condition: Any, resolve_field: FieldResolver) -> str | None:
    """Build a SOQL condition from a recipe's filter; return None for an empty filter.

    A filter is a mapping. Each key is a field (passed through `resolve_field`, which maps a
    logical name to the API name) or one of `and`, `or` (a list of filters) and `not` (a filter).
    Several keys are joined with AND. A field's value is a plain value (`= value`), a list (IN),
    None (`= null`), or a mapping of operator to value. The operators are `=`, `!=`, `<`, `<=`,
    `>`, `>=`, `in`, `not in` and `like`:

        {"status": "Open", "PBSI__Tracking_Number__c": {"!=": null}}
        {"or": [{"stage": "Packed"}, {"order_total": {">=": 100}}]}

    Raises FatalError for an unknown operator or a value of the wrong shape.
    """
    if condition is None or condition == {}:
        return None
    if not isinstance(condition, Mapping):
        raise FatalError(f"a filter must be a mapping of field to value, not a {type(condition).__name__}", code="INVALID_INPUT")
    parts = [_term(key, value, resolve_field) for key, value in condition.items()]
    return _join("AND", parts)


def _join(operator: str, parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return f" {operator} ".join(f"({part})" for part in parts)


def _term(key: str, value: Any, resolve_field: FieldResolver) -> str:
    lowered = key.lower()
    if lowered in _JUNCTIONS:
        if not isinstance(value, list) or not value:
            raise FatalError(f"'{key}' in a filter takes a non-empty list of filters", code="INVALID_INPUT")
        parts = [where_clause(item, resolve_field) for item in value]
        return _join(lowered.upper(), [part for part in parts if part])
    if lowered == "not":
        inner = where_clause(value, resolve_field)
        if inner is None:
            raise FatalError("'not' in a filter takes a non-empty filter", code="INVALID_INPUT")
        return f"NOT ({inner})"

    field = resolve_field(key)
    if isinstance(value, Mapping):
        if not value:
            raise FatalError(f"the filter on {key} has no operator; use for example {{'=': value}}", code="INVALID_INPUT")
        return _join("AND", [_comparison(field, str(operator), operand) for operator, operand in value.items()])
    if isinstance(value, (list, tuple, set, frozenset)):
        return _comparison(field, "in", value)
    return _comparison(field, "=", value)


def _comparison(field: str, operator: str, operand: Any) -> str:
    normalized = " ".join(operator.lower().split())
    if normalized == "<>":
        normalized = "!="
    if normalized not in OPERATORS:
        raise FatalError(f"unknown filter operator '{operator}' on {field}; use one of {', '.join(OPERATORS)}", code="INVALID_INPUT")

    if normalized in ("in", "not in"):
        if not isinstance(operand, (list, tuple, set, frozenset)):
            raise FatalError(f"'{normalized}' on {field} takes a list", code="INVALID_INPUT")
        if not operand:
            # IN () is not valid SOQL. No record has a null Id, so this matches nothing, and NOT IN
            # of nothing matches everything.
            return "Id = null" if normalized == "in" else "Id != null"
        return f"{field} {normalized.upper()} {literal(operand)}"
    if normalized == "like":
        if not isinstance(operand, str):
            raise FatalError(f"'like' on {field} takes a text pattern", code="INVALID_INPUT")
        return f"{field} LIKE {literal(operand)}"
    if isinstance(operand, (list, tuple, set, frozenset, Mapping)):
        raise FatalError(f"'{normalized}' on {field} takes a single value, not a {type(operand).__name__}", code="INVALID_INPUT")
    return f"{field} {normalized} {literal(operand)}"
