"""Helpers shared by the Salesforce sandbox tests (imported by name: the test folders have no packages)."""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox

API_VERSION = "62.0"


class RawApi:
    """Plain HTTP calls to the sandbox, for asserting status codes, headers and bodies exactly."""

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        self.sandbox = sandbox
        self.session = sandbox.http_session()

    def url(self, path: str) -> str:
        if path.startswith("/"):
            return self.sandbox.instance_url + path
        return f"{self.sandbox.instance_url}/services/data/v{API_VERSION}/{path}"

    def request(self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None, **options: Any) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {self.sandbox.session_id}"}
        all_headers.update(headers or {})
        return self.session.request(method, self.url(path), json=json, headers=all_headers, **options)

    def get(self, path: str, **options: Any) -> requests.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, json: Any = None, **options: Any) -> requests.Response:
        return self.request("POST", path, json=json, **options)

    def patch(self, path: str, json: Any = None, **options: Any) -> requests.Response:
        return self.request("PATCH", path, json=json, **options)

    def delete(self, path: str, **options: Any) -> requests.Response:
        return self.request("DELETE", path, **options)


def new_order(client: Salesforce, sandbox: SalesforceSandbox, shopify_order_id: str = "5001") -> dict[str, str]:
    """Create an Account, a sales order and two lines for the first two seeded items; return their ids."""
    items = sandbox.records.all("PBSI__PBSI_Item__c")
    account = client.Account.create({"Name": "Grace Hopper", "Shopify_Customer_Id__c": f"C{shopify_order_id}"})["id"]
    order = client.PBSI__PBSI_Sales_Order__c.create(
        {
            "PBSI__Customer__c": account,
            "PBSI__Order_Date__c": "2026-11-02",
            "Shopify_Order_Id__c": shopify_order_id,
            "PBSI__Shipping_Amount__c": 4.95,
        }
    )["id"]
    lines = []
    for index, item in enumerate(items[:2], start=1):
        lines.append(
            client.PBSI__PBSI_Sales_Order_Line__c.create(
                {
                    "PBSI__Sales_Order__c": order,
                    "PBSI__Item__c": item["Id"],
                    "PBSI__Quantity_Needed__c": index + 1,
                    "PBSI__Price__c": str(item["PBSI__salesprice__c"]),
                    "PBSI__Tax_Amount__c": "1.10",
                    "Shopify_Line_Id__c": f"{shopify_order_id}-{index}",
                }
            )["id"]
        )
    return {"account": account, "order": order, "line1": lines[0], "line2": lines[1]}
