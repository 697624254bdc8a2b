"""Injected faults carry Shopify's error bodies."""

from __future__ import annotations

from connectors.shopify.sandbox import Faults, ShopifySandbox

from conftest import SandboxClient


def start(faults):
    sandbox = ShopifySandbox(port=0, faults=faults).start()
    return sandbox, SandboxClient(sandbox)


def test_injected_server_errors_carry_a_shopify_body():
    sandbox, client = start(Faults(error_share=1.0, seed=3))
    try:
        response = client.get("orders.json")
    finally:
        client.session.close()
        sandbox.stop()

    assert response.status_code in (500, 503)
    assert response.json() == {"errors": "Internal Server Error" if response.status_code == 500 else "Service Unavailable"}
    assert sandbox.calls["GET /admin/api/{version}/orders.json"] == 1


def test_forced_429_carries_the_throttle_body_then_recovers():
    sandbox, client = start(Faults(forced_429=1))
    try:
        refused = client.get("orders/count.json")
        accepted = client.get("orders/count.json")
    finally:
        client.session.close()
        sandbox.stop()

    assert refused.status_code == 429
    assert refused.json() == {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}
    assert refused.headers["Retry-After"] == "0.5"
    assert accepted.status_code == 200


def test_faults_switch_on_while_running(client):
    client.sandbox.faults.forced_429 = 1

    assert client.get("orders/count.json").status_code == 429
    assert client.get("orders/count.json").status_code == 200
