"""Fixtures for the recipe tests: the sandbox a recipe run reaches, and a job store."""

from pathlib import Path
from typing import Iterator

import pytest

from connectors.sandbox.local import LocalSandbox, release_shared, shared_sandbox
from engine.store import SQLiteStore


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalSandbox]:
    """The sandbox that `open_connectors` reaches for `tmp_path`, stopped after the test; tests may change its state directly."""
    sandbox = shared_sandbox(tmp_path)
    try:
        yield sandbox
    finally:
        release_shared(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    job_store = SQLiteStore(tmp_path / "recipe.db")
    try:
        yield job_store
    finally:
        job_store.close()
