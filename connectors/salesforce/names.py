"""The Ascent name mapping: logical object and field names in recipes, API names on the wire.

`ascent_names.yaml` (or the user's copy named by the connection's `names_file`) maps each
logical object name (`sales_order`) to its API name (`PBSI__PBSI_Sales_Order__c`), and each
logical field name of that object (`customer`) to the field's API name (`PBSI__Customer__c`).
Actions accept either form. A name that is not a logical name passes through unchanged when it
looks like an API name: it contains `__` (`__c`, `__r`, the `PBSI__` prefix) or starts with a
capital letter as standard names do (`Id`, `Name`, `AccountId`, `SystemModstamp`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from engine.errors import ConfigurationError, FatalError

__all__ = ["AscentNames", "ObjectNames", "FieldNames", "DEFAULT_NAMES_FILE", "is_api_name", "relationship_name"]

log = logging.getLogger(__name__)

DEFAULT_NAMES_FILE = Path(__file__).with_name("ascent_names.yaml")
_FORMAT_VERSION = 1
_NAME_ERROR = "INVALID_NAME"
# API names are letters, digits and underscores. Checking this keeps recipe text that is not a
# name (spaces, quotes, keywords) out of queries and URL paths.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def is_api_name(name: str) -> bool:
    """Tell whether `name` reads as a Salesforce API name rather than a logical one."""
    return "__" in name or name[:1].isupper()


def relationship_name(api_field: str) -> str:
    """Return the name SOQL uses to reach a referenced record: `X__r` for `X__c`, `Account` for `AccountId`."""
    if api_field.endswith("__c"):
        return api_field[:-3] + "__r"
    if api_field.endswith("Id") and len(api_field) > 2:
        return api_field[:-2]
    return api_field


@dataclass(frozen=True)
class FieldNames:
    """One field of the mapping: its logical and API names and what is known about it."""

    logical: str
    api: str
    confirmed: bool
    references: str | None = None
    create_only: bool = False


@dataclass(frozen=True)
class ObjectNames:
    """One object of the mapping with its fields, found by logical name or case-insensitive API name."""

    logical: str
    api: str
    confirmed: bool
    fields: dict[str, FieldNames]
    _by_api: dict[str, FieldNames] = field(default_factory=dict, compare=False, repr=False)
    _by_relationship: dict[str, FieldNames] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for item in self.fields.values():
            self._by_api[item.api.lower()] = item
            if item.references:
                self._by_relationship[relationship_name(item.api).lower()] = item

    def by_api(self, api_name: str) -> FieldNames | None:
        return self._by_api.get(api_name.lower())

    def by_relationship(self, name: str) -> FieldNames | None:
        return self._by_relationship.get(name.lower())


class AscentNames:
    """The objects of a name mapping file; translates names in both directions."""

    def __init__(self, objects: Mapping[str, ObjectNames], source: str = "") -> None:
        self.objects = dict(objects)
        self.source = source
        self._by_api = {item.api.lower(): item for item in self.objects.values()}

    # ----- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> "AscentNames":
        """Read a mapping file (the packaged `ascent_names.yaml` when `path` is None).

        Raises ConfigurationError naming the file and the entry that is wrong.
        """
        source = Path(path) if path else DEFAULT_NAMES_FILE
        try:
            document = yaml.safe_load(source.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigurationError(f"cannot read the Ascent name mapping {source}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConfigurationError(f"the Ascent name mapping {source} is not valid YAML: {error}") from None
        return cls.from_document(document, str(source))

    @classmethod
    def from_document(cls, document: Any, source: str = "<mapping>") -> "AscentNames":
        """Build the mapping from parsed YAML; raises ConfigurationError for a malformed entry."""
        if not isinstance(document, dict) or not isinstance(document.get("objects"), dict):
            raise ConfigurationError(f"{source}: the name mapping needs an 'objects' mapping at the top level")
        if document.get("version", _FORMAT_VERSION) != _FORMAT_VERSION:
            raise ConfigurationError(f"{source}: unsupported name mapping version {document.get('version')!r}; expected {_FORMAT_VERSION}")

        objects = {logical: _read_object(source, logical, entry) for logical, entry in document["objects"].items()}
        for item in objects.values():
            for reference in item.fields.values():
                if reference.references and reference.references not in objects:
                    raise ConfigurationError(
                        f"{source}: {item.logical}.{reference.logical} references '{reference.references}', which is not an object of the mapping"
                    )
        return cls(objects, source)

    # ----- logical to API --------------------------------------------------------------------

    def find_object(self, name: str) -> ObjectNames | None:
        """Return the mapped object with this logical or API name, or None."""
        return self.objects.get(name) or self._by_api.get(name.lower())

    def object_name(self, name: str) -> str:
        """Return the API name of an object given by logical or API name.

        Raises FatalError for a name that is neither a logical name nor shaped like an API name.
        """
        if not isinstance(name, str) or not name:
            raise FatalError(f"an object name must be non-empty text, not {name!r}", code=_NAME_ERROR)
        if name in self.objects:
            return self.objects[name].api
        if is_api_name(name):
            return _checked(name, "object")
        raise FatalError(
            f"unknown object name '{name}'; use an API name or one of the logical names in {self.source}: {', '.join(sorted(self.objects))}",
            code=_NAME_ERROR,
        )

    def field_name(self, object_name: str, name: str) -> str:
        """Return the API name of a field, or a dotted path through lookups, of an object.

        Each segment of `customer.name` is resolved on the object the previous segment points
        at, so on a sales order it becomes `PBSI__Customer__r.Name`. Raises FatalError for an
        unknown logical name.
        """
        if not isinstance(name, str) or not name:
            raise FatalError(f"a field name must be non-empty text, not {name!r}", code=_NAME_ERROR)
        current = self.find_object(object_name)
        segments = name.split(".")
        resolved = []
        for index, segment in enumerate(segments):
            is_last = index == len(segments) - 1
            names, current = self._segment(current, object_name, segment, is_last)
            resolved.append(names)
        return ".".join(resolved)

    def _segment(self, current: ObjectNames | None, object_name: str, segment: str, is_last: bool) -> tuple[str, ObjectNames | None]:
        mapped = current.fields.get(segment) if current else None
        if mapped is None and not is_api_name(segment):
            where = f"object '{current.logical}'" if current else f"'{object_name}', which is not in the mapping"
            choices = f"; its logical fields are: {', '.join(sorted(current.fields))}" if current else "; use API names"
            raise FatalError(f"unknown field name '{segment}' on {where}{choices}", code=_NAME_ERROR)

        if mapped is None:
            _checked(segment, "field")
        if is_last:
            return (mapped.api if mapped else segment), None

        # A segment followed by more is a relationship: name it as SOQL does and move to its target.
        if mapped is not None:
            target = self.objects.get(mapped.references or "")
            return relationship_name(mapped.api), target
        reference = current.by_relationship(segment) if current else None
        return segment, self.objects.get(reference.references or "") if reference else None

    def record_to_api(self, object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of `record` with every key as an API field name.

        Raises FatalError when two keys name the same field (a logical and an API name).
        """
        if not isinstance(record, Mapping):
            raise FatalError(f"a record must be a mapping of field to value, not a {type(record).__name__}", code="INVALID_INPUT")
        translated: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for key, value in record.items():
            if key == "attributes":
                continue
            api = self.field_name(object_name, key)
            if api.lower() in origin:
                raise FatalError(f"the record names the field {api} twice: as '{origin[api.lower()]}' and as '{key}'", code="INVALID_INPUT", fields=[api])
            origin[api.lower()] = key
            translated[api] = value
        return translated

    def create_only_fields(self, object_name: str) -> set[str]:
        """Return the API names of the object's fields that only a create may set (master-detail)."""
        mapped = self.find_object(object_name)
        if mapped is None:
            return set()
        return {item.api for item in mapped.fields.values() if item.create_only}

    # ----- API to logical --------------------------------------------------------------------

    def with_logical_names(self, object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Return a record as the API returned it, without `attributes`, plus logical-name keys.

        Each mapped field present in the record is also given under its logical name, so recipes
        written against logical names can read outputs too. A relationship (`PBSI__Customer__r`)
        keeps its API name; its fields get logical keys from the object it points at.
        """
        mapped = self.find_object(object_name)
        shaped: dict[str, Any] = {}
        for key, value in record.items():
            if key == "attributes":
                continue
            if isinstance(value, Mapping) and mapped is not None:
                reference = mapped.by_relationship(key)
                target = reference.references if reference else None
                value = self.with_logical_names(self.objects[target].api, value) if target else _without_attributes(value)
            shaped[key] = value
        if mapped is None:
            return shaped
        for key in list(shaped):
            item = mapped.by_api(key)
            if item is not None and item.logical not in shaped:
                shaped[item.logical] = shaped[key]
        return shaped


def _checked(name: str, kind: str) -> str:
    if not _IDENTIFIER.match(name):
        raise FatalError(f"{kind} name {name!r} is not a valid API name: use letters, digits and underscores", code=_NAME_ERROR)
    return name


def _without_attributes(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: (_without_attributes(value) if isinstance(value, Mapping) else value) for key, value in record.items() if key != "attributes"}


def _read_object(source: str, logical: Any, entry: Any) -> ObjectNames:
    where = f"{source}: objects.{logical}"
    if not isinstance(logical, str) or is_api_name(logical):
        raise ConfigurationError(f"{where}: a logical object name is lower-case text without '__', such as sales_order")
    if not isinstance(entry, dict) or not isinstance(entry.get("api_name"), str) or not entry["api_name"]:
        raise ConfigurationError(f"{where}: needs 'api_name', the object's API name")
    fields_entry = entry.get("fields") or {}
    if not isinstance(fields_entry, dict):
        raise ConfigurationError(f"{where}.fields: must be a mapping of logical field name to its entry")

    fields = {name: _read_field(f"{where}.fields.{name}", name, value) for name, value in fields_entry.items()}
    seen: dict[str, str] = {}
    for item in fields.values():
        if item.api.lower() in seen:
            raise ConfigurationError(f"{where}.fields: {item.api} is mapped twice, by '{seen[item.api.lower()]}' and '{item.logical}'")
        seen[item.api.lower()] = item.logical
    return ObjectNames(logical, entry["api_name"], bool(entry.get("confirmed", False)), fields)


def _read_field(where: str, logical: Any, entry: Any) -> FieldNames:
    if not isinstance(logical, str) or is_api_name(logical) or "." in logical:
        raise ConfigurationError(f"{where}: a logical field name is lower-case text without '__' or '.', such as order_date")
    if isinstance(entry, str):
        return FieldNames(logical, entry, confirmed=False)
    if not isinstance(entry, dict) or not isinstance(entry.get("api_name"), str) or not entry["api_name"]:
        raise ConfigurationError(f"{where}: needs 'api_name', the field's API name")
    references = entry.get("references")
    if references is not None and not isinstance(references, str):
        raise ConfigurationError(f"{where}.references: must be the logical name of an object")
    return FieldNames(logical, entry["api_name"], bool(entry.get("confirmed", False)), references, bool(entry.get("create_only", False)))
