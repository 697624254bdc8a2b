"""The plain clients both baselines use: `requests` for Shopify REST, simple-salesforce for Salesforce."""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from connectors.sandbox.local import LocalSandbox
from engine import jsoncodec

__all__ = ["ShopifyReader", "salesforce_client", "sf_post", "sf_patch", "soql_list", "query_all", "item_group_id"]

log = logging.getLogger(__name__)


class ShopifyReader:
    """Reads orders page by page, following the `Link` header and waiting out 429 and 5xx responses."""

    def __init__(self, sandbox: LocalSandbox, timeout: float = 30.0) -> None:
        self.base = sandbox.shopify.api_url()
        self.session = requests.Session()
        self.session.headers["X-Shopify-Access-Token"] = sandbox.shopify.access_token
        self.timeout = timeout

    def orders(self, created_at_min: str, limit: int) -> Iterator[list[dict[str, Any]]]:
        url: str | None = f"{self.base}/orders.json"
        params: dict[str, Any] | None = {"status": "any", "created_at_min": created_at_min, "limit": limit, "order": "created_at asc"}
        while url:
            response = self._get(url, params)
            yield response.json()["orders"]
            url = response.links.get("next", {}).get("url")
            params = None

    def _get(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        for attempt in range(8):
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.Timeout:
                log.warning("Shopify read timed out, retrying (attempt %d)", attempt + 1)
                continue
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500:
                time.sleep(0.5 * (attempt + 1))
                continue
            response.raise_for_status()
            return response
        raise RuntimeError(f"Shopify read of {url} failed after 8 attempts")


def salesforce_client(sandbox: LocalSandbox) -> Salesforce:
    """Return a simple-salesforce client on the sandbox's session id, through its loopback session."""
    return sandbox.salesforce.client()


def _call(sf: Salesforce, path: str, method: str, body: Any = None) -> Any:
    data = jsoncodec.dumps(body) if body is not None else None
    for attempt in range(8):
        try:
            return sf.restful(path, method=method, data=data, timeout=30)
        except requests.Timeout:
            log.warning("Salesforce %s %s timed out, retrying (attempt %d)", method, path, attempt + 1)
        except SalesforceGeneralError as error:
            if error.status < 500:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"Salesforce {method} {path} failed after 8 attempts")


def sf_post(sf: Salesforce, path: str, body: Any) -> Any:
    return _call(sf, path, "POST", body)


def sf_patch(sf: Salesforce, path: str, body: Any) -> Any:
    return _call(sf, path, "PATCH", body)


def soql_list(values: list[str]) -> str:
    """Format strings as a SOQL IN list, with quotes and backslashes escaped."""
    return "(" + ", ".join("'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" for value in values) + ")"


def query_all(sf: Salesforce, soql: str) -> list[dict[str, Any]]:
    return sf.query_all(soql)["records"]


def item_group_id(sf: Salesforce, name: str = "Default") -> str:
    """Return the Id of the item group that new items get, as the recipe's `new_item_group` setting names it."""
    found = query_all(sf, f"SELECT Id FROM PBSI__PBSI_Item_Group__c WHERE Name = {soql_list([name])[1:-1]}")
    if not found:
        raise RuntimeError(f"item group {name!r} not found in the org")
    return found[0]["Id"]
