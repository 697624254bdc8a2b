"""shopify-order-to-ascent end to end: Shopify orders polled from one sandbox, written to the other.

Each test runs the shipped recipe through the engine (`RecipeRun`) with the connectors the CLI
opens for `--sandbox`, and then reads the Salesforce sandbox's records field by field.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from connectors.sandbox.local import LocalSandbox, release_shared, shared_sandbox
from engine.connections import ConnectionBook
from engine.recipe import Recipe
from engine.registry import Registry
from engine.run import RecipeRun, RunSummary, open_connectors
from engine.store import JobRecord, JobStatus, SQLiteStore
from engine.validate import load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "shopify-order-to-ascent.yaml"

ACCOUNT = "Account"
CONTACT = "Contact"
ITEM = "PBSI__PBSI_Item__c"
ITEM_MAP = "Shopify_Item_Map__c"
ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"

EASTERN = timezone(timedelta(hours=-5))
SKIPPED_CUSTOM_LINE = (
    "Order #1007 was not synced: it has lines with no Shopify product or variant (a custom item or a deleted product), "
    "which match no ERP item: line 1 (Monogram engraving — gold foil). Replace them with catalogue products in Shopify, "
    "or enter the order in Ascent by hand"
)
SKIPPED_CANCELLED = "Order #1017 was cancelled in Shopify (2026-10-30) before it was synced, so it is not sent to Ascent"


class World:
    """A state folder with both sandboxes (the in-process shared ones), the recipe and a job store."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.registry = Registry()
        self.recipe: Recipe = load_recipe(RECIPE, self.registry)
        self.store = SQLiteStore(state_dir / "recipe.db")

    @property
    def sandbox(self) -> LocalSandbox:
        return shared_sandbox(self.state_dir)

    def run(self, dry_run: bool = False, event: Any = None) -> RunSummary:
        book = ConnectionBook({}, "tests", {})
        with open_connectors(self.recipe, self.registry, book, True, self.state_dir) as (connectors, redactor):
            run = RecipeRun(self.recipe, connectors, self.store, redactor, dry_run=dry_run, sleep=lambda seconds: None)
            return run.poll_and_run() if event is None else run.run_event(event)

    def replay(self, job_id: int) -> RunSummary:
        book = ConnectionBook({}, "tests", {})
        with open_connectors(self.recipe, self.registry, book, True, self.state_dir) as (connectors, redactor):
            return RecipeRun(self.recipe, connectors, self.store, redactor, sleep=lambda seconds: None).replay(job_id)

    def records(self, object_name: str) -> list[dict[str, Any]]:
        return self.sandbox.salesforce.records.all(object_name)

    def counts(self) -> dict[str, int]:
        return {name: len(self.records(name)) for name in (ACCOUNT, CONTACT, ITEM, ITEM_MAP, ORDER, LINE)}

    def one(self, object_name: str, field: str, value: Any) -> dict[str, Any]:
        found = [record for record in self.records(object_name) if record.get(field) == value]
        assert len(found) == 1, f"{len(found)} {object_name} records have {field} = {value!r}"
        return found[0]

    def sales_order(self, name: str) -> dict[str, Any]:
        return self.one(ORDER, "Shopify_Order_Name__c", name)

    def lines_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        lines = [line for line in self.records(LINE) if line["PBSI__Sales_Order__c"] == order["Id"]]
        return sorted(lines, key=lambda line: line["Shopify_Line_Id__c"])

    def shopify_order(self, name: str) -> dict[str, Any]:
        return next(order for order in self.sandbox.shopify.state.orders.values() if order["name"] == name)

    def reset_calls(self) -> None:
        self.sandbox.salesforce.server.reset_calls()
        self.sandbox.shopify.server.reset_calls()

    def close(self) -> None:
        self.store.close()
        release_shared(self.state_dir)


def by_order_name(world: World, jobs: list[JobRecord]) -> dict[str, JobRecord]:
    names = {str(order["id"]): order["name"] for order in world.sandbox.shopify.state.orders.values()}
    return {names[job.event_id]: job for job in jobs}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    opened = World(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, JobRecord]]]:
    """One run of the recipe over the 26 seeded orders, shared by the read-only tests below."""
    opened = World(tmp_path_factory.mktemp("seeded"))
    try:
        summary = opened.run()
        yield opened, by_order_name(opened, summary.jobs)
    finally:
        opened.close()


# ----- every seeded order ------------------------------------------------------------------------


def test_seeded_orders_succeed_or_skip_with_reason(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, jobs = seeded

    skipped = {name: job.reason for name, job in jobs.items() if job.status is JobStatus.SKIPPED}
    succeeded = sorted(name for name, job in jobs.items() if job.status is JobStatus.SUCCEEDED)
    assert len(jobs) == 26
    assert skipped == {"#1007": SKIPPED_CUSTOM_LINE, "#1017": SKIPPED_CANCELLED}
    assert succeeded == [f"#{number}" for number in range(1001, 1027) if number not in (1007, 1017)]
    assert len(world.records(ORDER)) == 24


def test_seeded_order_totals_equal_shopify_totals(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, jobs = seeded

    for name, job in jobs.items():
        if job.status is JobStatus.SUCCEEDED:
            assert world.sales_order(name)["PBSI__Order_Total__c"] == Decimal(world.shopify_order(name)["total_price"]), name


def test_seeded_jobs_take_3_salesforce_round_trips(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    _, jobs = seeded

    trips = {name: job.round_trips for name, job in jobs.items()}
    assert trips == {name: 0 if name in ("#1007", "#1017") else 3 for name in jobs}


def test_multi_tax_lines_sum_exactly(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    lines = world.lines_of(world.sales_order("#1001"))
    assert [line["PBSI__Tax_Amount__c"] for line in lines] == [Decimal("3.55"), Decimal("1.11")]
    assert [line["PBSI__Taxable__c"] for line in lines] == [True, True]


def test_guest_checkout_gets_account_keyed_by_email(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    order = world.sales_order("#1002")
    account = world.one(ACCOUNT, "Id", order["PBSI__Customer__c"])
    contact = world.one(CONTACT, "Id", order["PBSI__Contact__c"])
    assert account["Shopify_Customer_Id__c"] == "guest:guest.buyer@example.net"
    assert account["Name"] == "Jordan Lee"
    assert (contact["FirstName"], contact["LastName"], contact["Email"]) == ("Jordan", "Lee", "guest.buyer@example.net")


def test_pos_sale_uses_repeat_customer_account(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    pos = world.sales_order("#1003")
    web = world.sales_order("#1001")
    account = world.one(ACCOUNT, "Id", pos["PBSI__Customer__c"])
    assert pos["PBSI__Customer__c"] == web["PBSI__Customer__c"]
    assert pos["PBSI__Shipping_Address__c"] is None
    assert pos["PBSI__Shipping_Amount__c"] == Decimal("0.00")
    assert (account["BillingStreet"], account["BillingCity"], account["ShippingCity"]) == ("45 Joralemon Street", "Brooklyn", "Brooklyn")


def test_business_customer_account_has_company_name(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    orders = [world.sales_order(name) for name in ("#1004", "#1015", "#1025")]
    account = world.one(ACCOUNT, "Id", orders[0]["PBSI__Customer__c"])
    contact = world.one(CONTACT, "Id", orders[0]["PBSI__Contact__c"])
    assert {order["PBSI__Customer__c"] for order in orders} == {account["Id"]}
    assert account["Name"] == "Brightline Studio LLC"
    assert (contact["FirstName"], contact["LastName"], contact["AccountId"]) == ("Priya", "Raman", account["Id"])


def test_percentage_discount_lands_on_lines(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    lines = world.lines_of(world.sales_order("#1005"))
    assert [line["PBSI__Discount_Amount__c"] for line in lines] == [Decimal("9.00"), Decimal("2.97")]
    assert [line["PBSI__Total_Price__c"] for line in lines] == [Decimal("80.95"), Decimal("26.73")]


def test_euro_tax_included_order_carried_net(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    order = world.sales_order("#1006")
    lines = world.lines_of(order)
    contact = world.one(CONTACT, "Id", order["PBSI__Contact__c"])
    assert order["PBSI__Currency__c"] == "USD"
    assert order["PBSI__Order_Total__c"] == Decimal("202.00")
    assert [(line["PBSI__Price__c"], line["PBSI__Tax_Amount__c"], line["PBSI__Discount_Amount__c"]) for line in lines] == [
        (Decimal("125.21"), Decimal("23.79"), Decimal("0.00")),
        (Decimal("28.57"), Decimal("5.43"), Decimal("0.00")),
    ]
    assert (contact["FirstName"], contact["LastName"]) == ("Zoë", "Łukasiewicz")
    assert order["PBSI__Billing_Address__c"] == "Zoë Łukasiewicz\nSchönhauser Allee 36\nBerlin, 10435\nGermany"


def test_gift_card_line_is_untaxed(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    gift_card, tee = world.lines_of(world.sales_order("#1008"))
    item = world.one(ITEM, "Id", gift_card["PBSI__Item__c"])
    assert item["Shopify_SKU__c"] == "SKU-009-50"
    assert (gift_card["PBSI__Taxable__c"], gift_card["PBSI__Tax_Amount__c"]) == (False, Decimal("0.00"))
    assert (tee["PBSI__Taxable__c"], tee["PBSI__Tax_Amount__c"]) == (True, Decimal("1.32"))


def test_partial_payment_and_refund_keep_totals(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    refunded_lines = world.lines_of(world.sales_order("#1010"))
    assert world.sales_order("#1009")["PBSI__Order_Total__c"] == Decimal("337.54")
    assert world.sales_order("#1010")["PBSI__Order_Total__c"] == Decimal("240.41")
    assert [line["PBSI__Quantity__c"] for line in refunded_lines] == [Decimal("2"), Decimal("1")]


def test_unknown_sku_becomes_item_and_map_row(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    (line,) = world.lines_of(world.sales_order("#1011"))
    item = world.one(ITEM, "Shopify_SKU__c", "SKU-010")
    row = world.one(ITEM_MAP, "Shopify_Variant_Id__c", str(world.shopify_order("#1011")["line_items"][0]["variant_id"]))
    assert line["PBSI__Item__c"] == item["Id"]
    assert (item["Name"], item["PBSI__description__c"], item["PBSI__salesprice__c"]) == ("SKU-010", "Limited Print — Kyōto", Decimal("75.00"))
    assert (item["PBSI__Taxable__c"], item["PBSI__Item_Status__c"]) == (True, "Active")
    assert item["PBSI__Item_Group__c"] == world.one("PBSI__PBSI_Item_Group__c", "Name", "Default")["Id"]
    assert item["PBSI__Default_Location__c"] == world.one("PBSI__PBSI_Location__c", "Name", "Main Warehouse")["Id"]
    assert (row["PBSI__Item__c"], row["Shopify_Product_Id__c"]) == (item["Id"], "7100000003984")


def test_erp_only_skus_use_items_found_by_sku(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    lines = world.lines_of(world.sales_order("#1012"))
    assert [world.one(ITEM, "Id", line["PBSI__Item__c"])["Shopify_SKU__c"] for line in lines] == ["SKU-014", "SKU-006-GRY"]
    assert len(world.records(ITEM_MAP)) == 20


def test_changed_address_is_the_one_synced(seeded: tuple[World, dict[str, JobRecord]]) -> None:
    world, _ = seeded

    shipping = world.shopify_order("#1013")["shipping_address"]
    order = world.sales_order("#1013")
    assert order["PBSI__Shipping_Address__c"].splitlines()[1] == shipping["address1"]


# ----- one order, field by field -----------------------------------------------------------------

GRACE = {
    "customer": {"email": "grace.hopper@example.com", "first_name": "Grace", "last_name": "Hopper", "phone": "+12125550199"},
    "shipping_address": {
        "first_name": "Grace",
        "last_name": "Hopper",
        "address1": "1 Centre Street",
        "address2": "Floor 19",
        "city": "New York",
        "province_code": "NY",
        "zip": "10007",
        "country_code": "US",
        "phone": "+12125550199",
    },
    "line_items": [{"sku": "SKU-001-L", "quantity": 2}, {"sku": "SKU-008", "quantity": 1}, {"sku": "SKU-005", "quantity": 3}],
    "shipping_line": {"title": "Standard", "price": "5.95"},
    "discount_code": {"code": "WELCOME10", "type": "percentage", "value": "10"},
}


def test_three_line_order_field_by_field(world: World) -> None:
    created = world.sandbox.shopify.state.create_order(copy.deepcopy(GRACE), at=datetime(2026, 11, 20, 10, 30, tzinfo=EASTERN))

    summary = world.run()

    (job,) = [job for job in summary.jobs if job.event_id == str(created["id"])]
    order = world.one(ORDER, "Shopify_Order_Id__c", str(created["id"]))
    account = world.one(ACCOUNT, "Id", order["PBSI__Customer__c"])
    contact = world.one(CONTACT, "Id", order["PBSI__Contact__c"])
    lines = world.lines_of(order)
    address = "Grace Hopper\n1 Centre Street\nFloor 19\nNew York, NY 10007\nUnited States"
    assert job.status is JobStatus.SUCCEEDED
    assert {key: account[key] for key in account if key not in ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "attributes")} == {
        "IsDeleted": False,
        "Name": "Grace Hopper",
        "Phone": "+12125550199",
        "BillingStreet": "1 Centre Street\nFloor 19",
        "BillingCity": "New York",
        "BillingState": "New York",
        "BillingPostalCode": "10007",
        "BillingCountry": "United States",
        "ShippingStreet": "1 Centre Street\nFloor 19",
        "ShippingCity": "New York",
        "ShippingState": "New York",
        "ShippingPostalCode": "10007",
        "ShippingCountry": "United States",
        "Shopify_Customer_Id__c": str(created["customer"]["id"]),
    }
    assert {key: contact[key] for key in contact if key not in ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "attributes")} == {
        "IsDeleted": False,
        "Name": "Grace Hopper",
        "FirstName": "Grace",
        "LastName": "Hopper",
        "Email": "grace.hopper@example.com",
        "Phone": "+12125550199",
        "AccountId": account["Id"],
        "MailingStreet": "1 Centre Street\nFloor 19",
        "MailingCity": "New York",
        "MailingState": "New York",
        "MailingPostalCode": "10007",
        "MailingCountry": "United States",
        "Shopify_Customer_Id__c": str(created["customer"]["id"]),
    }
    assert {key: order[key] for key in order if key not in ("Id", "Name", "CreatedDate", "LastModifiedDate", "SystemModstamp", "attributes")} == {
        "IsDeleted": False,
        "PBSI__Customer__c": account["Id"],
        "PBSI__Contact__c": contact["Id"],
        "PBSI__Customer_Purchase_Order__c": None,
        "PBSI__Order_Date__c": "2026-11-20",
        "PBSI__Status__c": "Open",
        "PBSI__Stage__c": None,
        "PBSI__Order_Total__c": Decimal("170.68"),
        "Shopify_Order_Id__c": str(created["id"]),
        "Shopify_Order_Name__c": created["name"],
        "PBSI__Billing_Address__c": address,
        "PBSI__Shipping_Address__c": address,
        "PBSI__Shipping_Amount__c": Decimal("5.95"),
        "PBSI__Discount_Amount__c": None,
        "PBSI__Currency__c": "USD",
    }
    assert created["total_price"] == "170.68"
    items = {sku: world.one(ITEM, "Shopify_SKU__c", sku)["Id"] for sku in ("SKU-001-L", "SKU-008", "SKU-005")}
    expected_lines = [
        (items["SKU-001-L"], Decimal("2"), Decimal("21.99"), "Classic Tee", True, Decimal("3.51"), Decimal("4.40"), Decimal("39.58")),
        (items["SKU-008"], Decimal("1"), Decimal("58.00"), "Ceramic Pour-Over Set", True, Decimal("4.64"), Decimal("5.80"), Decimal("52.20")),
        (items["SKU-005"], Decimal("3"), Decimal("24.00"), "Organic Coffee Beans 1 kg", False, Decimal("0.00"), Decimal("7.20"), Decimal("64.80")),
    ]
    for line, shopify_line, expected in zip(lines, created["line_items"], expected_lines):
        item, quantity, price, title, taxable, tax, discount, total = expected
        assert line["Shopify_Line_Id__c"] == str(shopify_line["id"])
        assert line["PBSI__Item__c"] == item
        assert (line["PBSI__Quantity__c"], line["PBSI__Quantity_Needed__c"]) == (quantity, quantity)
        assert line["PBSI__Price__c"] == price
        assert line["PBSI__Line_Description__c"] == title
        assert line["PBSI__Taxable__c"] is taxable
        assert line["PBSI__Tax_Amount__c"] == tax
        assert line["PBSI__Discount_Amount__c"] == discount
        assert line["PBSI__Total_Price__c"] == total
        assert line["PBSI__Quantity_Packed__c"] is None
    assert len(lines) == 3


# ----- repeats, dry runs and shared items --------------------------------------------------------


def test_second_run_and_replay_create_nothing(world: World) -> None:
    first = world.run()
    after_first = world.counts()

    second = world.run()
    replayed = world.replay(first.jobs[0].id)

    assert second.jobs == []
    assert [job.status for job in replayed.jobs] == [JobStatus.SUCCEEDED]
    assert world.counts() == after_first
    assert after_first == {ACCOUNT: 13, CONTACT: 13, ITEM: 23, ITEM_MAP: 20, ORDER: 24, LINE: 36}


def test_dry_run_creates_nothing(world: World) -> None:
    before = world.counts()

    summary = world.run(dry_run=True)

    planned = [write for writes in summary.planned.values() for write in writes]
    assert len(planned) == 24
    assert {(write.connector, write.action) for write in planned} == {("salesforce", "save_tree")}
    assert world.counts() == before
    assert world.store.list_jobs("shopify-order-to-ascent") == []
    assert world.sandbox.salesforce.calls["POST composite.graph"] == 0


def test_shared_new_sku_makes_one_item(world: World) -> None:
    at = datetime(2026, 11, 21, 9, 0, tzinfo=EASTERN)
    first = world.sandbox.shopify.state.create_order({**copy.deepcopy(GRACE), "line_items": [{"sku": "SKU-010", "quantity": 1}]}, at=at)
    guest = {"email": "kim@example.org", "shipping_address": {"first_name": "Kim", "last_name": "Park", "address1": "5 Oak Lane", "city": "Austin", "province_code": "TX", "zip": "78701", "country_code": "US"}}
    second = world.sandbox.shopify.state.create_order({**guest, "line_items": [{"sku": "SKU-010", "quantity": 2}]}, at=at + timedelta(minutes=5))

    summary = world.run()

    new_jobs = [job for job in summary.jobs if job.event_id in (str(first["id"]), str(second["id"]))]
    items = [item for item in world.records(ITEM) if item["Shopify_SKU__c"] == "SKU-010"]
    rows = [row for row in world.records(ITEM_MAP) if row["PBSI__Item__c"] == items[0]["Id"]]
    order_lines = [world.lines_of(world.one(ORDER, "Shopify_Order_Id__c", str(order["id"])))[0] for order in (first, second)]
    assert [job.status for job in new_jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert len(items) == 1
    assert [row["Shopify_Variant_Id__c"] for row in rows] == [str(first["line_items"][0]["variant_id"])]
    assert [line["PBSI__Item__c"] for line in order_lines] == [items[0]["Id"], items[0]["Id"]]


def test_missing_item_group_fails_before_writing(world: World) -> None:
    world.recipe.settings["new_item_group"] = "Closeouts"
    event = copy.deepcopy(world.shopify_order("#1011"))
    before = world.counts()

    summary = world.run(event=event)

    (job,) = summary.jobs
    assert job.status is JobStatus.FAILED
    assert job.reason == (
        "Order #1011 needs new ERP items (SKU-010), but the item group 'Closeouts' (setting new_item_group) does not exist in Ascent; "
        "create it or change the setting, then replay this job"
    )
    assert world.counts() == before


# ----- round trips -------------------------------------------------------------------------------


def big_order(world: World, lines: int, new_skus: int) -> dict[str, Any]:
    """A Shopify order with `lines` catalogue lines, of which the first `new_skus` get SKUs the ERP lacks.

    The order is created in the Shopify sandbox, so its amounts add up, and then given as an event.
    """
    catalogue = [variant for variant in world.sandbox.shopify.state.variants.values() if variant.get("sku")]
    specs = [{"variant_id": catalogue[number % len(catalogue)]["id"], "quantity": 1} for number in range(lines)]
    order = world.sandbox.shopify.state.create_order({**copy.deepcopy(GRACE), "line_items": specs}, at=datetime(2026, 11, 22, 12, 0, tzinfo=EASTERN))
    for number, line in enumerate(order["line_items"][:new_skus]):
        line["sku"] = f"NEW-{number:03d}"
        line["variant_id"] = 49_000_000_000_000 + number
    return order


def test_200_lines_take_3_round_trips(world: World) -> None:
    order = big_order(world, lines=200, new_skus=20)
    world.reset_calls()

    summary = world.run(event=order)

    (job,) = summary.jobs
    saved = world.one(ORDER, "Shopify_Order_Id__c", str(order["id"]))
    assert job.status is JobStatus.SUCCEEDED
    assert job.round_trips == 3
    assert dict(world.sandbox.salesforce.calls) == {"POST composite": 1, "GET query": 1, "POST composite.graph": 1}
    assert dict(world.sandbox.shopify.calls) == {}
    assert len(world.lines_of(saved)) == 200
    assert len([item for item in world.records(ITEM) if item["Shopify_SKU__c"].startswith("NEW-")]) == 20
    assert saved["PBSI__Order_Total__c"] == Decimal(order["total_price"])


def test_tree_over_500_records_takes_4_round_trips(world: World) -> None:
    # 3 + 200 lines + 2 × 150 new items and map rows = 503 records, past one graph's 500.
    order = big_order(world, lines=200, new_skus=150)
    world.reset_calls()

    summary = world.run(event=order)

    (job,) = summary.jobs
    assert job.status is JobStatus.SUCCEEDED
    assert job.round_trips == 4
    assert world.sandbox.salesforce.calls["POST composite.graph"] == 2


def test_poll_of_seeded_orders_reads_shopify_once(world: World) -> None:
    world.sandbox.shopify.server.reset_calls()

    world.run()

    assert dict(world.sandbox.shopify.calls) == {"GET /admin/api/{version}/orders.json": 1}
