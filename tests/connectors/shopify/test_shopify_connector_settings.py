"""Connection settings, `check`, and the connector inside the engine: registry, recipe run, sandbox settings."""

from __future__ import annotations

import textwrap

import pytest
import responses

from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.settings import ShopifySettings
from engine.connector import secret_fields
from engine.errors import ConfigurationError
from engine.registry import Registry
from engine.run import RecipeRun
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

from shopify_connector_helpers import FAKE_API, RecordingSleep, clock, fake_settings, sandbox, sandbox_settings, sleep  # noqa: F401


def test_settings_default_url_and_version():
    settings = ShopifySettings.from_dict({"shop": "My-Store.myshopify.com", "access_token": "shpat_x"})

    assert settings.api_root == "https://my-store.myshopify.com/admin/api/2026-10"
    assert (settings.poll_overlap_seconds, settings.page_size, settings.max_retries, settings.timeout_seconds) == (60, 250, 3, 30.0)
    assert settings.loopback is False


@pytest.mark.parametrize(
    ("base_url", "api_root"),
    [
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/admin/api/2026-10"),
        ("http://localhost:8123/", "http://localhost:8123/admin/api/2026-10"),
        ("http://[::1]:8123", "http://[::1]:8123/admin/api/2026-10"),
        ("https://proxy.example.com", "https://proxy.example.com/admin/api/2026-10"),
    ],
)
def test_settings_accept_https_or_loopback_base_url(base_url, api_root):
    settings = ShopifySettings.from_dict({"shop": "s.myshopify.com", "access_token": "t", "base_url": base_url})

    assert settings.api_root == api_root


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"shop": "s.myshopify.com", "access_token": "t", "base_url": "http://shop.example.com"},
         "invalid Shopify base_url 'http://shop.example.com'; use https://, or http:// only for a loopback address such as 127.0.0.1"),
        ({"shop": "s.myshopify.com", "access_token": "t", "base_url": "https://x.example.com/admin"},
         "invalid Shopify base_url 'https://x.example.com/admin'; give only a scheme and host, for example https://s.myshopify.com"),
        ({"shop": "https://s.myshopify.com", "access_token": "t"},
         "invalid Shopify shop 'https://s.myshopify.com'; give only the domain, for example my-store.myshopify.com, without https:// or a path"),
        ({"shop": "s.myshopify.com"}, "the Shopify setting 'access_token' is missing; give the app's Admin API access token"),
        ({"access_token": "t"}, "the Shopify setting 'shop' is missing; give the shop's domain, for example my-store.myshopify.com"),
        ({"shop": "s.myshopify.com", "access_token": "t", "api_version": "2026-11"},
         "invalid Shopify api_version '2026-11'; write YYYY-MM with a release month (01, 04, 07, 10), for example 2026-10"),
        ({"shop": "s.myshopify.com", "access_token": "t", "page_size": 500},
         "invalid Shopify setting 'page_size' 500; expected a whole number from 1 to 250"),
    ],
)
def test_settings_reject_invalid_values(settings, message):
    with pytest.raises(ConfigurationError) as caught:
        ShopifyConnector(settings).open()

    assert str(caught.value) == message


def test_connection_schema_marks_secrets():
    assert secret_fields(ShopifyConnector.connection_schema) == {"access_token", "app_secret"}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
         "Shopify rejected the access token for fake-shop.myshopify.com (HTTP 401); check the connection's access_token"),
        (403, {"errors": "Forbidden"}, "the access token for fake-shop.myshopify.com may not read the shop (HTTP 403); grant the app the scopes it needs"),
        (404, {"errors": "Not Found"},
         f"Shopify returned 404 for {FAKE_API}/shop.json: check the shop domain 'fake-shop.myshopify.com' and the API version '2026-10'"),
    ],
)
def test_check_explains_refusals(status, body, message):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{FAKE_API}/shop.json", status=status, json=body)
        with pytest.raises(ConfigurationError) as caught:
            ShopifyConnector(fake_settings(), sleep=RecordingSleep()).check()

    assert str(caught.value) == message


def test_check_reports_a_version_shopify_replaced():
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{FAKE_API}/shop.json", json={"shop": {"name": "Fake", "myshopify_domain": "fake-shop.myshopify.com"}}, headers={"X-Shopify-API-Version": "2026-01"})
        line = ShopifyConnector(fake_settings()).check()

    assert line == "Shopify shop 'Fake' (fake-shop.myshopify.com), Admin API 2026-10; Shopify served version 2026-01 instead, so 2026-10 is not supported"


def test_sandbox_settings_reach_the_local_sandbox(tmp_path):
    settings = ShopifyConnector.sandbox_settings(str(tmp_path))

    with ShopifyConnector(settings) as connector:
        line = connector.check()

    assert line == "Shopify shop 'Sandbox Store' (sandbox-store.myshopify.com), Admin API 2026-10"
    assert settings["base_url"].startswith("http://127.0.0.1:")


def test_recipe_runs_on_the_shopify_trigger(tmp_path, sandbox, clock, sleep):
    recipe_file = tmp_path / "paid.yaml"
    recipe_file.write_text(
        textwrap.dedent(
            """
            name: shopify-paid-orders
            connections:
              shopify: shop
            trigger:
              connector: shopify
              event: paid_orders
              input:
                status: any
            steps:
              - id: transactions
                action: shopify.list_transactions
                input:
                  order_id: "{{ trigger.id }}"
            """
        ),
        encoding="utf-8",
    )
    recipe = load_recipe(recipe_file, Registry({"shopify": ShopifyConnector}))
    store = SQLiteStore(tmp_path / "recipe.db")
    connector = ShopifyConnector(sandbox_settings(sandbox), "shop", monotonic=clock.monotonic, sleep=sleep)

    with connector:
        summary = RecipeRun(recipe, {"shopify": connector}, store, sleep=lambda seconds: None).poll_and_run()
        again = RecipeRun(recipe, {"shopify": connector}, store, sleep=lambda seconds: None).poll_and_run()

    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED] * 21
    assert [job.event_label for job in summary.jobs][:2] == ["5900000000000@paid", "5900000000002@paid"]
    assert again.jobs == []
