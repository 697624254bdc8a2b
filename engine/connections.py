"""Connection settings: which connector a named connection uses, and its credentials.

Settings come from a YAML file that is never committed (`connections.yaml` in the working
directory, or the file named by `--connections` or `RECIPE_CONNECTIONS`) and from environment
variables, which win: `RECIPE_<NAME>_<FIELD>` with the connection name in capitals and dashes
as underscores (`RECIPE_ASCENT_PROD_PASSWORD` for the field `password` of `ascent-prod`).

    ascent-prod:
      connector: salesforce
      instance_url: https://example.my.salesforce.com
      access_token: ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from engine.connector import Connector, secret_fields
from engine.errors import ConfigurationError

__all__ = ["Connection", "ConnectionBook", "SANDBOX"]

SANDBOX = "sandbox"


@dataclass
class Connection:
    name: str
    connector: str
    settings: dict[str, Any]

    def secrets(self, connector: type[Connector]) -> list[str]:
        return [str(self.settings[field]) for field in secret_fields(connector.connection_schema) if self.settings.get(field)]


def _from_environment(text: str, spec: dict[str, Any]) -> Any:
    """Read an environment value as the type its schema declares; text that does not fit stays text and fails validation."""
    kind = spec.get("type")
    if kind == "boolean" and text.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return text.strip().lower() in ("true", "1", "yes")
    if kind in ("integer", "number"):
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError:
            return text
    return text


def _env_prefix(name: str) -> str:
    return "RECIPE_" + name.upper().replace("-", "_").replace(".", "_") + "_"


class ConnectionBook:
    """All configured connections, read once from the file and the environment."""

    def __init__(self, entries: dict[str, dict[str, Any]], source: str, environ: Mapping[str, str] | None = None) -> None:
        self.entries = entries
        self.source = source
        self.environ = dict(os.environ if environ is None else environ)

    @classmethod
    def load(cls, path: str | None = None, environ: Mapping[str, str] | None = None) -> "ConnectionBook":
        """Read the connections file if there is one. Raises ConfigurationError for a broken file."""
        env = os.environ if environ is None else environ
        chosen = path or env.get("RECIPE_CONNECTIONS")
        file = Path(chosen) if chosen else Path("connections.yaml")
        if not file.exists():
            if chosen:
                raise ConfigurationError(f"connections file {file} not found; create it or leave out --connections")
            return cls({}, "the environment", env)

        try:
            entries = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{file}:{mark.line + 1}" if mark else str(file)
            raise ConfigurationError(f"{where}: the connections file is not valid YAML") from None
        if not isinstance(entries, dict) or not all(isinstance(value, dict) for value in entries.values()):
            raise ConfigurationError(f"{file}: expected a mapping of connection name to its settings")
        return cls(entries, str(file), env)

    def get(self, name: str, expected_connector: type[Connector]) -> Connection:
        """Return the settings of `name`, checked against the connector's connection schema.

        Raises ConfigurationError naming the connection and the field, never a value.
        """
        settings = dict(self.entries.get(name, {}))
        prefix = _env_prefix(name)
        for key, value in self.environ.items():
            if key.startswith(prefix):
                field = key[len(prefix):].lower()
                settings[field] = _from_environment(value, expected_connector.connection_schema.get("properties", {}).get(field, {}))

        if not settings:
            raise ConfigurationError(
                f"connection '{name}' is not configured; add it to {self.source if self.source.endswith('.yaml') else 'connections.yaml'}"
                f" or set {prefix}<FIELD> variables, or run with --sandbox"
            )

        connector_name = settings.pop("connector", expected_connector.name)
        if connector_name != expected_connector.name:
            raise ConfigurationError(f"connection '{name}' is for connector '{connector_name}', but the recipe uses it for '{expected_connector.name}'")

        self._check(name, settings, expected_connector)
        return Connection(name, connector_name, settings)

    def connector_of(self, name: str) -> str | None:
        """Return the connector a configured connection names (file or `RECIPE_<NAME>_CONNECTOR`), or None."""
        from_env = self.environ.get(_env_prefix(name) + "CONNECTOR")
        return from_env or self.entries.get(name, {}).get("connector")

    def is_sandbox(self, name: str) -> bool:
        """Return whether the connections file sends this connection to the local sandbox (`sandbox: true`)."""
        return self.entries.get(name, {}).get(SANDBOX) is True

    @staticmethod
    def _check(name: str, settings: dict[str, Any], connector: type[Connector]) -> None:
        validator = jsonschema.Draft202012Validator(connector.connection_schema)
        errors = sorted(validator.iter_errors(settings), key=lambda error: list(error.absolute_path))
        if not errors:
            return
        first = errors[0]
        if first.validator == "required":
            missing = [field for field in first.validator_value if field not in settings]
            raise ConfigurationError(f"connection '{name}' is missing the setting '{missing[0]}' required by connector '{connector.name}'")
        field = ".".join(str(part) for part in first.absolute_path) or "(settings)"
        expected = f"expected {first.validator_value}" if first.validator == "type" else f"{first.validator} {first.validator_value!r}"
        raise ConfigurationError(f"connection '{name}': setting '{field}' is invalid ({expected}); see `recipe connectors --json`")
