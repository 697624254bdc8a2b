from pathlib import Path

import yaml
from click.testing import CliRunner

from engine.cli import cli


def invoke(tmp_path: Path, *arguments: str):
    return CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), "--connections", str(tmp_path / "connections.yaml"), *arguments], prog_name="recipe")


def write_connections(tmp_path: Path, entries: dict) -> None:
    (tmp_path / "connections.yaml").write_text(yaml.safe_dump(entries), encoding="utf-8")


def test_working_shopify_connection(tmp_path, sandbox):
    write_connections(tmp_path, {"main-store": {"connector": "shopify", **sandbox.shopify_settings()}})

    result = invoke(tmp_path, "connections", "test", "main-store")

    assert result.exit_code == 0
    assert result.stdout == "connection 'main-store' (shopify) works: Shopify shop 'Sandbox Store' (sandbox-store.myshopify.com), Admin API 2026-10\n"


def test_wrong_token_is_named_without_the_token(tmp_path, sandbox):
    settings = {**sandbox.shopify_settings(), "access_token": "shpat_wrong_value_123"}
    write_connections(tmp_path, {"main-store": {"connector": "shopify", **settings}})

    result = invoke(tmp_path, "connections", "test", "main-store")

    assert result.exit_code == 4
    assert result.stderr.startswith("error: connection 'main-store'")
    assert "shpat_wrong_value_123" not in result.stderr
    assert "401" in result.stderr or "access token" in result.stderr


def test_working_salesforce_login(tmp_path, sandbox):
    write_connections(tmp_path, {"ascent": {"connector": "salesforce", **sandbox.salesforce_settings(login=True)}})

    result = invoke(tmp_path, "connections", "test", "ascent")

    assert result.exit_code == 0
    assert result.stdout.startswith(f"connection 'ascent' (salesforce) works: Salesforce org {sandbox.salesforce.instance_url} (API 62.0): ")


def test_unknown_connection_says_how_to_configure(tmp_path):
    write_connections(tmp_path, {})

    result = invoke(tmp_path, "connections", "test", "nothere")

    assert result.exit_code == 4
    assert result.stderr == "error: connection 'nothere': it is not configured; add it to connections.yaml with its connector, or set RECIPE_<NAME>_CONNECTOR\n"
