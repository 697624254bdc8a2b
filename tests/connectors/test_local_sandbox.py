import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox.transport import loopback_session
from connectors.sandbox.local import LocalSandbox, shared_sandbox


def test_shopify_settings_reach_the_store(sandbox):
    settings = sandbox.shopify_settings()

    response = requests.get(
        f"{settings['base_url']}/admin/api/{settings['api_version']}/orders/count.json",
        headers={"X-Shopify-Access-Token": settings["access_token"]},
        params={"status": "any"},
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["count"] == len(sandbox.shopify.state.orders)


def test_salesforce_session_settings_reach_the_org(sandbox):
    settings = sandbox.salesforce_settings()
    client = Salesforce(instance_url=settings["instance_url"], session_id=settings["access_token"], session=loopback_session(settings["transport_routes"]))

    result = client.query("SELECT Id FROM PBSI__PBSI_Location__c")

    assert result["totalSize"] == 1


def test_salesforce_login_settings_reach_the_org(sandbox):
    settings = sandbox.salesforce_settings(login=True)
    client = Salesforce(
        username=settings["username"],
        password=settings["password"],
        security_token=settings["security_token"],
        domain=settings["domain"],
        session=loopback_session(settings["transport_routes"]),
    )

    assert client.query("SELECT Id FROM PBSI__PBSI_Item_Group__c")["totalSize"] == 1


def test_state_persists_in_state_dir(tmp_path):
    with LocalSandbox(tmp_path) as first:
        order = first.shopify.state.create_order({"line_items": [{"sku": "SKU-002", "quantity": 1}]})
        item_id = first.salesforce.records.create("PBSI__PBSI_Item_Group__c", {"Name": "Extra"})

    assert (tmp_path / "sandbox" / "shopify.json").is_file()
    assert (tmp_path / "sandbox" / "salesforce.json").is_file()
    with LocalSandbox(tmp_path) as second:
        assert order["id"] in second.shopify.state.orders
        assert second.salesforce.records.get("PBSI__PBSI_Item_Group__c", item_id)["Name"] == "Extra"


def test_shared_sandbox_is_one_per_folder(tmp_path):
    first = shared_sandbox(tmp_path)

    assert shared_sandbox(tmp_path) is first
    assert shared_sandbox(tmp_path / "other") is not first


def test_sandbox_command_runs_until_interrupted(tmp_path):
    command = [sys.executable, "-m", "engine.cli", "--state-dir", str(tmp_path), "sandbox", "--shopify-port", "0", "--salesforce-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            break

    process.send_signal(signal.SIGINT)
    rest, errors = process.communicate(timeout=20)

    assert process.returncode == 0, errors
    assert lines[0].startswith("Shopify Admin API:   http://127.0.0.1:")
    assert lines[1].startswith("Salesforce REST API: http://127.0.0.1:")
    assert "  username: integration@sandbox.example" in lines
    assert rest.strip() == f"sandbox stopped; state saved in {tmp_path / 'sandbox'}"
    assert (tmp_path / "sandbox" / "salesforce.json").is_file()


def test_prepared_state_is_loaded_by_the_next_sandbox(tmp_path):
    from connectors.sandbox.local import prepare_salesforce, prepare_shopify

    prepare_shopify(tmp_path, {"orders": [{"line_items": [{"sku": "SKU-002", "quantity": 2}], "paid": True}]})
    prepare_salesforce(tmp_path, {"Account": [{"_ref": "acme", "Name": "Prepared Test Account"}], "Contact": [{"LastName": "Prepared-Contact", "AccountId": "@acme"}]})

    with LocalSandbox(tmp_path) as sandbox:
        newest = max(sandbox.shopify.state.orders.values(), key=lambda order: order["id"])
        [account] = [row for row in sandbox.salesforce.records.all("Account") if row["Name"] == "Prepared Test Account"]
        [contact] = [row for row in sandbox.salesforce.records.all("Contact") if row["LastName"] == "Prepared-Contact"]

    assert newest["line_items"][0]["sku"] == "SKU-002"
    assert newest["financial_status"] == "paid"
    assert contact["AccountId"] == account["Id"]
