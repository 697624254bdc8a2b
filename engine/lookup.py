"""Lookup tables: map one system's keys to another's, inline in the recipe or from a CSV file.

Keys are compared as text, so the Shopify variant id 42000000000155 (a JSON number) finds the CSV
row whose key column reads "42000000000155".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from engine.errors import RenderError

__all__ = ["LookupTable", "LookupTables", "read_csv_table", "MISSING"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class LookupTable:
    name: str
    entries: dict[str, Any]

    def get(self, key: Any, default: Any = MISSING) -> Any:
        """Return the value for `key`, or `default`; without a default a missing key is an error."""
        text = _key_text(key)
        if text in self.entries:
            return self.entries[text]
        if default is MISSING:
            raise RenderError(
                f"key {text!r} not found in lookup table '{self.name}'; "
                f"add it to the table, or give a default: lookup('{self.name}', key, none)"
            )
        return default


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return str(key).lower()
    return str(key).strip()


def read_csv_table(name: str, path: FilePath, key_column: str, value_column: str | None) -> LookupTable:
    """Read a CSV file with a header row into a table keyed by `key_column`.

    Raises ValueError with a message naming the file, line and column for a missing column,
    an empty key, or a key given twice with different values.
    """
    entries: dict[str, Any] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for column in (key_column, value_column):
            if column is not None and column not in columns:
                raise ValueError(f"{path.name}: column '{column}' not found; the header has {', '.join(columns) or 'no columns'}")

        for row in reader:
            line = reader.line_num
            key = (row.get(key_column) or "").strip()
            if not key:
                raise ValueError(f"{path.name}:{line}: the key column '{key_column}' is empty")
            value = row[value_column] if value_column else dict(row)
            if key in entries and entries[key] != value:
                raise ValueError(f"{path.name}:{line}: key {key!r} appears twice with different values")
            entries[key] = value

    return LookupTable(name, entries)


class LookupTables:
    """The lookup tables of one recipe, by name."""

    def __init__(self, tables: dict[str, LookupTable] | None = None) -> None:
        self.tables = dict(tables or {})

    def lookup(self, table: str, key: Any, default: Any = MISSING) -> Any:
        if table not in self.tables:
            known = ", ".join(sorted(self.tables)) or "none"
            raise RenderError(f"unknown lookup table '{table}' (tables in this recipe: {known})")
        return self.tables[table].get(key, default)

    def lookup_filter(self, key: Any, table: str, default: Any = MISSING) -> Any:
        """Look up a key given first, for use as a filter: `key | lookup('items')`."""
        return self.lookup(table, key, default)
