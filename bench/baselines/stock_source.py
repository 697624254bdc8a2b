"""The ERP side both stock baselines share: items whose stock changed, read with simple-salesforce.

Each baseline keeps its own cursor, the latest SystemModstamp it has seen, as an integrator's
script would keep it between runs; the first run starts from `since`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from connectors.sandbox.local import LocalSandbox

from bench.baselines.clients import query_all, salesforce_client

__all__ = ["ChangedItems"]

log = logging.getLogger(__name__)


@dataclass
class ChangedItems:
    """Reads the items with a Shopify SKU changed after the cursor; `cursor` is a SOQL date-time literal."""

    sandbox: LocalSandbox
    cursor: str
    strict: bool = False

    def read(self) -> list[dict[str, Any]]:
        """Return the changed items as {sku, quantity}, and move the cursor past them."""
        sf = salesforce_client(self.sandbox)
        operator = ">" if self.strict else ">="
        records = query_all(
            sf,
            "SELECT Id, Shopify_SKU__c, PBSI__Available_To_Promise__c, SystemModstamp FROM PBSI__PBSI_Item__c "
            f"WHERE Shopify_SKU__c != null AND SystemModstamp {operator} {self.cursor} ORDER BY SystemModstamp",
        )
        if records:
            self.cursor = _literal(records[-1]["SystemModstamp"])
            self.strict = True
        return [{"sku": record["Shopify_SKU__c"], "quantity": int(record["PBSI__Available_To_Promise__c"] or 0)} for record in records]


def _literal(stamp: str) -> str:
    """`2026-12-04T10:00:00.123+0000` as the SOQL literal `2026-12-04T10:00:00.123Z`."""
    return stamp.replace("+0000", "Z")
