"""A local Salesforce REST API server with Account, Contact and the Ascent ERP (`PBSI__`) objects.

Start one with `SalesforceSandbox(...).start()` and connect simple-salesforce to it with the
Session from `sandbox.http_session()`. `docs/sandbox-salesforce.md` describes what it covers.
"""

from connectors.sandbox.server import Faults

from .errors import ApiError
from .faults import WriteFaults
from .org import DEFAULT_LOGIN_DOMAIN, SalesforceSandbox
from .records import RecordStore
from .schema import SCHEMA

__all__ = ["SalesforceSandbox", "Faults", "WriteFaults", "RecordStore", "ApiError", "SCHEMA", "DEFAULT_LOGIN_DOMAIN"]
