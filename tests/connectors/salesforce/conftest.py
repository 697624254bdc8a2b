"""Fixtures: a Salesforce sandbox on a free loopback port, and clients connected to it."""

from __future__ import annotations

from typing import Iterator

import pytest
from salesforce_sandbox_helpers import API_VERSION, RawApi
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox


@pytest.fixture
def salesforce_sandbox() -> Iterator[SalesforceSandbox]:
    """A seeded sandbox on a free port, stopped after the test."""
    sandbox = SalesforceSandbox(port=0).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def salesforce_client(salesforce_sandbox: SalesforceSandbox) -> Salesforce:
    """simple-salesforce on the sandbox's session id, through the sandbox transport."""
    return Salesforce(
        instance_url=salesforce_sandbox.base_url,
        session_id=salesforce_sandbox.session_id,
        session=salesforce_sandbox.http_session(),
        version=API_VERSION,
    )


@pytest.fixture
def raw_api(salesforce_sandbox: SalesforceSandbox) -> RawApi:
    return RawApi(salesforce_sandbox)
