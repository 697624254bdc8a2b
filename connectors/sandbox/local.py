"""Both sandbox servers together: the local Shopify store and the local Salesforce org.

`LocalSandbox` starts the two servers, keeps their state in one folder, and returns the
connection settings that reach them. `recipe sandbox` runs one in the foreground; tests start one
per test; `shared_sandbox(state_dir)` starts one per state folder inside the current process, for
`recipe run --sandbox`, and stops it (saving its state) when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path
from typing import Any

from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox.server import Faults
from connectors.shopify.sandbox import ShopifySandbox
from engine.errors import ConfigurationError

__all__ = ["LocalSandbox", "shared_sandbox", "release_shared", "prepare_shopify", "prepare_salesforce", "SHOPIFY_STATE_FILE", "SALESFORCE_STATE_FILE", "STATE_FOLDER"]

log = logging.getLogger(__name__)

STATE_FOLDER = "sandbox"
SHOPIFY_STATE_FILE = "shopify.json"
SALESFORCE_STATE_FILE = "salesforce.json"


class LocalSandbox:
    """The Shopify and Salesforce sandboxes on 127.0.0.1, with their state in `state_dir/sandbox/`.

    Without a `state_dir` the state lives only in memory. With one, each server loads its file at
    construction when it exists (else it is seeded from `seed`) and saves it on `stop()`.
    """

    def __init__(
        self,
        state_dir: str | Path | None = None,
        seed: int = 7,
        shopify_port: int = 0,
        salesforce_port: int = 0,
        shopify_faults: Faults | None = None,
        salesforce_faults: Faults | None = None,
        extra_orders: int = 0,
        extra_items: int = 0,
    ) -> None:
        folder = Path(state_dir) / STATE_FOLDER if state_dir is not None else None
        self.shopify = ShopifySandbox(
            port=shopify_port,
            seed=seed,
            state_file=folder / SHOPIFY_STATE_FILE if folder else None,
            faults=shopify_faults,
            extra_orders=extra_orders,
        )
        self.salesforce = SalesforceSandbox(
            port=salesforce_port,
            seed=seed,
            state_file=folder / SALESFORCE_STATE_FILE if folder else None,
            faults=salesforce_faults,
            extra_items=extra_items,
        )

    def start(self) -> "LocalSandbox":
        self.shopify.start()
        self.salesforce.start()
        return self

    def stop(self) -> None:
        """Stop both servers; each saves its state file when it has one."""
        self.shopify.stop()
        self.salesforce.stop()

    def __enter__(self) -> "LocalSandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def shopify_settings(self) -> dict[str, Any]:
        """Return connection settings for the Shopify connector that reach this sandbox."""
        return {
            "shop": self.shopify.state.profile.domain,
            "access_token": self.shopify.access_token,
            "app_secret": self.shopify.app_secret,
            "api_version": self.shopify.api_version,
            "base_url": self.shopify.base_url,
        }

    def salesforce_settings(self, login: bool = False) -> dict[str, Any]:
        """Return connection settings for the Salesforce connector that reach this sandbox.

        By default they carry a session id, which is valid only while this process runs. With
        `login`, they carry the sandbox's username, password and security token instead, which
        keep working after a restart. `transport_routes` maps the https origins simple-salesforce
        builds to the plain-http loopback server; a connector mounts it with
        `connectors.salesforce.sandbox.transport.loopback_session`.
        """
        org = self.salesforce
        routes = {org.instance_url: org.base_url, org.base_url: org.base_url, org.login_url: org.base_url}
        if not login:
            return {"instance_url": org.instance_url, "access_token": org.session_id, "transport_routes": routes}
        credentials = org.credentials
        return {
            "username": credentials.username,
            "password": credentials.password,
            "security_token": credentials.security_token,
            "domain": org.login_domain,
            "transport_routes": routes,
        }


_shared: dict[Path, LocalSandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(state_dir: str | Path) -> LocalSandbox:
    """Return the sandbox of this process for `state_dir`, starting it on first use.

    It stops, and saves its state into `state_dir`, when the process exits normally.
    NOTE: a process killed with SIGKILL loses the sandbox changes made since it started; run
    `recipe sandbox` as its own process where that matters.
    """
    key = Path(state_dir).resolve()
    with _shared_lock:
        if key not in _shared:
            sandbox = LocalSandbox(key).start()
            _shared[key] = sandbox
            if len(_shared) == 1:
                atexit.register(_stop_shared)
            log.info("sandbox for %s: Shopify at %s, Salesforce at %s", key, sandbox.shopify.base_url, sandbox.salesforce.base_url)
        return _shared[key]


def release_shared(state_dir: str | Path) -> None:
    """Stop the process's sandbox for `state_dir`, if one runs, saving its state."""
    with _shared_lock:
        sandbox = _shared.pop(Path(state_dir).resolve(), None)
    if sandbox is not None:
        sandbox.stop()


def _stop_shared() -> None:
    with _shared_lock:
        for sandbox in _shared.values():
            sandbox.stop()
        _shared.clear()


def prepare_shopify(state_dir: str | Path, given: Any) -> None:
    """Apply a test case's given Shopify state to the sandbox saved in `state_dir`.

    `given` maps `orders` to a list of order specifications for `ShopState.create_order`
    (see docs/sandbox-shopify.md); each may carry `paid: true` to mark the new order paid.
    """
    if not isinstance(given, dict) or not isinstance(given.get("orders", []), list):
        raise ConfigurationError("the shopify connector's given state is a mapping with a list under 'orders'")
    sandbox = LocalSandbox(state_dir)
    try:
        for spec in given.get("orders", []):
            spec = dict(spec)
            paid = spec.pop("paid", False)
            order = sandbox.shopify.state.create_order(spec)
            if paid:
                sandbox.shopify.state.mark_paid(order["id"])
    finally:
        sandbox.stop()


def prepare_salesforce(state_dir: str | Path, given: Any) -> None:
    """Apply a test case's given Salesforce records to the sandbox saved in `state_dir`.

    `given` maps API object names to lists of records, created in order. A record may carry
    `_ref: NAME`, and a later field value `"@NAME"` is replaced by that record's Id.
    """
    if not isinstance(given, dict) or not all(isinstance(rows, list) for rows in given.values()):
        raise ConfigurationError("the salesforce connector's given state maps API object names to lists of records")
    sandbox = LocalSandbox(state_dir)
    created: dict[str, str] = {}
    try:
        for object_name, rows in given.items():
            for row in rows:
                fields = {key: _resolve(value, created) for key, value in row.items() if key != "_ref"}
                record_id = sandbox.salesforce.records.create(object_name, fields)
                if "_ref" in row:
                    created[str(row["_ref"])] = record_id
    finally:
        sandbox.stop()


def _resolve(value: Any, created: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("@") and value[1:] in created:
        return created[value[1:]]
    return value
