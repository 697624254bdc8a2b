"""Fixtures shared by every test folder."""

import pytest

from connectors.sandbox.local import LocalSandbox


@pytest.fixture
def sandbox():
    """Both sandbox servers on free loopback ports, state in memory, stopped after the test."""
    with LocalSandbox() as local:
        yield local
