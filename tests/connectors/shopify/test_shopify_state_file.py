"""Saving and loading the state: on demand, on stop, and at start."""

from __future__ import annotations

import json

from connectors.shopify.sandbox import ShopifySandbox
from engine import jsoncodec

from conftest import SandboxClient

NEW_ORDER = {"order": {"email": "saved@example.com", "line_items": [{"sku": "SKU-002", "quantity": 1}]}}


def test_state_file_survives_a_restart(tmp_path):
    state_file = tmp_path / "shopify.json"
    first = ShopifySandbox(port=0, state_file=state_file).start()
    client = SandboxClient(first)
    created = client.admin("POST", "orders", NEW_ORDER).json()["order"]
    client.session.close()
    first.stop()

    assert state_file.exists()
    second = ShopifySandbox(port=0, state_file=state_file, seed=99).start()
    client = SandboxClient(second)
    try:
        fetched = client.get(f"orders/{created['id']}.json")
        next_order = client.admin("POST", "orders", NEW_ORDER).json()["order"]
    finally:
        client.session.close()
        second.stop()

    assert fetched.status_code == 200
    assert fetched.json()["order"] == created
    assert next_order["name"] == "#1028"


def test_save_on_demand_reloads_identically(tmp_path, shopify_sandbox):
    path = shopify_sandbox.save(tmp_path / "copy.json")

    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == 1
    reloaded = ShopifySandbox(port=0, state_file=path)
    try:
        assert jsoncodec.dumps(reloaded.state.to_json()) == jsoncodec.dumps(shopify_sandbox.state.to_json())
    finally:
        reloaded.stop()


def test_admin_save_writes_the_state(tmp_path, client):
    target = tmp_path / "admin-save.json"

    response = client.admin("POST", "save", {"path": str(target)})

    assert response.status_code == 200
    assert response.json() == {"saved": str(target)}
    assert len(json.loads(target.read_text(encoding="utf-8"))["orders"]) == 26


def test_state_json_keeps_money_exact(shopify_sandbox):
    data = jsoncodec.loads(jsoncodec.dumps(shopify_sandbox.state.to_json()))
    order = data["orders"][0]

    assert order["total_price"] == "63.09"
    assert str(order["line_items"][0]["tax_lines"][2]["rate"]) == "0.00375"
