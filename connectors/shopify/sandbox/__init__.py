"""A local Shopify Admin API server for tests: REST, GraphQL, rate limits, webhooks and an admin API.

    from connectors.shopify.sandbox import ShopifySandbox
    with ShopifySandbox(port=0, seed=7) as sandbox:
        requests.get(f"{sandbox.api_url()}/orders.json", headers={"X-Shopify-Access-Token": "shpat_sandbox_token"})

docs/sandbox-shopify.md describes the endpoints, the seeded orders and the known differences
from the real service.
"""

from connectors.sandbox.server import Faults

from .app import DEFAULT_API_VERSION, ShopifySandbox
from .clock import Clock, ManualClock, SystemClock
from .seed import SEEDED_CASES, seed_state
from .state import OrderNotFound, ShopProfile, ShopState
from .webhooks import sign_webhook

__all__ = [
    "DEFAULT_API_VERSION",
    "SEEDED_CASES",
    "Clock",
    "Faults",
    "ManualClock",
    "OrderNotFound",
    "ShopProfile",
    "ShopState",
    "ShopifySandbox",
    "SystemClock",
    "seed_state",
    "sign_webhook",
]
