"""Find connectors through the `recipe_engine.connectors` entry-point group.

A separate package adds a connector by declaring, in its own pyproject.toml:

    [project.entry-points."recipe_engine.connectors"]
    mystore = "mystore_connector:MyStoreConnector"
"""

from __future__ import annotations

import difflib
from importlib.metadata import EntryPoint, entry_points

from engine.connector import Connector
from engine.errors import ConfigurationError

__all__ = ["Registry", "ENTRY_POINT_GROUP", "close_matches"]

ENTRY_POINT_GROUP = "recipe_engine.connectors"


def close_matches(name: str, choices: list[str] | set[str]) -> str:
    """Return ` Did you mean 'x'?` for a near name, or an empty string."""
    matches = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" Did you mean '{matches[0]}'?" if matches else ""


class Registry:
    """The installed connectors, by name; loaded lazily so one broken connector spoils only itself."""

    def __init__(self, connectors: dict[str, type[Connector]] | None = None) -> None:
        self._loaded: dict[str, type[Connector]] = dict(connectors or {})
        self._entry_points: dict[str, EntryPoint] = {}
        if connectors is None:
            self._entry_points = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}

    def names(self) -> list[str]:
        return sorted(set(self._loaded) | set(self._entry_points))

    def __contains__(self, name: str) -> bool:
        return name in self._loaded or name in self._entry_points

    def get(self, name: str) -> type[Connector]:
        """Return the connector class. Raises ConfigurationError naming the connector and the real cause."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._entry_points:
            raise ConfigurationError(f"unknown connector '{name}'.{close_matches(name, self.names())} Installed: {', '.join(self.names()) or 'none'}")

        point = self._entry_points[name]
        try:
            connector = point.load()
        except Exception as error:  # an import error of any kind inside a third-party package
            raise ConfigurationError(
                f"connector '{name}' ({point.value}) failed to import: {type(error).__name__}: {error}"
            ) from error
        if not (isinstance(connector, type) and issubclass(connector, Connector)):
            raise ConfigurationError(f"connector '{name}' ({point.value}) is not a subclass of engine.connector.Connector")

        self._loaded[name] = connector
        return connector
