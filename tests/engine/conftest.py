"""Fixtures shared by the engine tests."""

from __future__ import annotations

import pytest

from connectors.testing.memory import MemoryConnector
from engine.registry import Registry


@pytest.fixture
def registry() -> Registry:
    """A registry holding only the memory connector, so no test depends on installed entry points."""
    return Registry({"memory": MemoryConnector})
