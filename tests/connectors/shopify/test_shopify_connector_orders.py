"""The order triggers against the sandbox: order, versions, cursors, ties, overlap and paging."""

from __future__ import annotations

from datetime import datetime, timezone

from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.orders import buyer_key

from shopify_connector_helpers import clock, order_by_name, sandbox, sandbox_settings, shopify, sleep  # noqa: F401

TIE = "2026-10-28T12:00:00-04:00"
TIE_A = 5900000000013  # #1014
TIE_B = 5900000000014  # #1015

# Every seeded order by ascending updated_at, ties by id: the order new_or_updated_orders yields.
BY_UPDATED_AT = [
    "#1001", "#1002", "#1003", "#1004", "#1005", "#1006", "#1007", "#1008", "#1009", "#1011", "#1012", "#1013", "#1010",
    "#1014", "#1015", "#1016", "#1017", "#1018", "#1020", "#1019", "#1021", "#1022", "#1023", "#1024", "#1025", "#1026",
]


def names(poll):
    return [event.data["name"] for event in poll.events]


def drain(connector, trigger_name, limit, inputs=None, cursor=None, since=None):
    """Poll until nothing more is waiting; return every event and each poll."""
    events, polls = [], []
    while True:
        poll = connector.poll(trigger_name, inputs or {}, cursor, since, limit)
        polls.append(poll)
        events.extend(poll.events)
        cursor = poll.cursor
        if not poll.more:
            return events, polls


def test_updated_orders_first_poll_returns_oldest_changes(shopify):
    poll = shopify.poll("new_or_updated_orders", {}, None, None, 3)

    assert names(poll) == ["#1001", "#1002", "#1003"]
    assert [(event.id, event.version, event.key) for event in poll.events] == [
        ("5900000000000", "2026-10-05T09:15:00-04:00", "customer:7300000000000"),
        ("5900000000001", "2026-10-06T14:02:00-04:00", "email:guest.buyer@example.net"),
        # #1003 is the first customer's second order, so its jobs wait for #1001's.
        ("5900000000002", "2026-10-07T11:30:00-04:00", "customer:7300000000000"),
    ]
    assert poll.events[0].data == shopify.call("get_order", {"order_id": 5900000000000})
    assert poll.more is True
    assert poll.cursor == {"updated_at": "2026-10-07T11:30:00-04:00", "seen": ["5900000000002@2026-10-07T11:30:00-04:00"]}


def test_order_key_is_the_customer_else_the_email_else_the_order():
    assert buyer_key({"id": 1, "customer": {"id": 73}, "email": "a@example.com"}) == "customer:73"
    assert buyer_key({"id": 1, "customer": None, "email": "Ada@Example.com"}) == "email:ada@example.com"
    assert buyer_key({"id": 1, "customer": {}, "email": None}) == "order:1"


def test_updated_orders_tie_across_poll_boundary_is_kept(shopify):
    first = shopify.poll("new_or_updated_orders", {}, None, None, 14)
    second = shopify.poll("new_or_updated_orders", {}, first.cursor, None, 14)

    assert names(first) == BY_UPDATED_AT[:14]
    assert first.events[-1].version == TIE
    assert first.cursor == {"updated_at": TIE, "seen": [f"{TIE_A}@{TIE}"]}
    assert first.more is True
    assert names(second) == BY_UPDATED_AT[14:]
    assert (second.events[0].id, second.events[0].version) == (str(TIE_B), TIE)
    assert second.more is False


def test_updated_orders_tie_across_page_boundary_is_kept(sandbox, clock, sleep):
    connector = ShopifyConnector(sandbox_settings(sandbox, page_size=14), monotonic=clock.monotonic, sleep=sleep)
    with connector:
        events, polls = drain(connector, "new_or_updated_orders", 100)

    assert [event.data["name"] for event in events] == BY_UPDATED_AT
    assert len(polls) == 1
    assert sandbox.calls["GET /admin/api/{version}/orders.json"] == 2
    assert polls[0].cursor == {"updated_at": "2026-11-09T20:30:00-05:00", "seen": ["5900000000025@2026-11-09T20:30:00-05:00"]}


def test_full_page_poll_reads_one_page(sandbox, clock, sleep):
    connector = ShopifyConnector(sandbox_settings(sandbox, page_size=13), monotonic=clock.monotonic, sleep=sleep)
    with connector:
        first = connector.poll("new_or_updated_orders", {}, None, None, 13)
        reads_for_first = sandbox.calls["GET /admin/api/{version}/orders.json"]
        rest, polls = drain(connector, "new_or_updated_orders", 13, cursor=first.cursor)

    assert names(first) == BY_UPDATED_AT[:13]
    assert first.more is True
    assert reads_for_first == 1
    assert [event.data["name"] for event in rest] == BY_UPDATED_AT[13:]
    # Each later page starts with the order re-read in the overlap window, so it contains 12 new
    # orders: one read per poll, 3 reads for 26 orders.
    assert sandbox.calls["GET /admin/api/{version}/orders.json"] == 3
    assert [len(poll.events) for poll in polls] == [12, 1]


def test_updated_orders_every_limit_loses_and_repeats_nothing(shopify):
    for limit in (1, 2, 5, 13, 14, 15):
        events, _ = drain(shopify, "new_or_updated_orders", limit)
        assert [event.data["name"] for event in events] == BY_UPDATED_AT, f"limit {limit}"


def test_updated_orders_poll_after_the_end_is_empty(shopify):
    events, polls = drain(shopify, "new_or_updated_orders", 50)

    again = shopify.poll("new_or_updated_orders", {}, polls[-1].cursor, None, 50)

    assert len(events) == 26
    assert again.events == []
    assert again.more is False
    assert again.cursor == polls[-1].cursor


def test_updated_orders_overlap_dedupes_rereads(shopify, sandbox):
    _, polls = drain(shopify, "new_or_updated_orders", 50)
    cursor = polls[-1].cursor
    last = order_by_name(sandbox, "#1026")
    before = sandbox.calls["GET /admin/api/{version}/orders.json"]

    again = shopify.poll("new_or_updated_orders", {}, cursor, None, 50)

    assert again.events == []
    assert sandbox.calls["GET /admin/api/{version}/orders.json"] == before + 1
    assert cursor["seen"] == [f"{last['id']}@{last['updated_at']}"]


def test_updated_orders_late_change_inside_overlap_is_found(shopify, sandbox):
    _, polls = drain(shopify, "new_or_updated_orders", 50)
    cursor = polls[-1].cursor
    # Shopify indexed this change late: its time is 30 s before the cursor's, inside the 60 s window.
    late = datetime.fromisoformat("2026-11-09T20:29:30-05:00")
    sandbox.state.update_order(order_by_name(sandbox, "#1001")["id"], {"note": "gift wrap"}, late)

    again = shopify.poll("new_or_updated_orders", {}, cursor, None, 50)

    assert [(event.data["name"], event.version) for event in again.events] == [("#1001", "2026-11-09T20:29:30-05:00")]
    assert again.events[0].data["note"] == "gift wrap"
    assert again.cursor == {
        "updated_at": "2026-11-09T20:30:00-05:00",
        "seen": ["5900000000000@2026-11-09T20:29:30-05:00", "5900000000025@2026-11-09T20:30:00-05:00"],
    }


def test_updated_orders_change_yields_a_new_version(shopify, sandbox):
    _, polls = drain(shopify, "new_or_updated_orders", 50)
    changed = sandbox.state.update_order(order_by_name(sandbox, "#1005")["id"], {"tags": "vip"})

    again = shopify.poll("new_or_updated_orders", {}, polls[-1].cursor, None, 50)

    assert [(event.id, event.version) for event in again.events] == [(str(changed["id"]), changed["updated_at"])]


def test_updated_orders_since_starts_the_first_poll(shopify):
    # 18:00 UTC is 13:00 in New York: after #1020's change at 12:45, before #1019's at 14:00.
    since = datetime(2026, 11, 3, 18, 0, tzinfo=timezone.utc)

    events, _ = drain(shopify, "new_or_updated_orders", 50, since=since)

    assert [event.data["name"] for event in events] == ["#1019", "#1021", "#1022", "#1023", "#1024", "#1025", "#1026"]


def test_updated_orders_status_input_filters(shopify):
    events, _ = drain(shopify, "new_or_updated_orders", 50, inputs={"status": "cancelled"})

    assert [event.data["name"] for event in events] == ["#1017"]


def test_new_orders_yield_each_order_once(shopify, sandbox):
    events, polls = drain(shopify, "new_orders", 10)
    sandbox.state.update_order(order_by_name(sandbox, "#1003")["id"], {"tags": "updated"})

    again = shopify.poll("new_orders", {}, polls[-1].cursor, None, 10)

    assert [event.data["name"] for event in events] == [f"#{number}" for number in range(1001, 1027)]
    assert events[2].version == "2026-10-07T11:30:00-04:00" == events[2].data["created_at"]
    assert polls[-1].cursor == {"created_at": "2026-11-09T20:30:00-05:00", "seen": ["5900000000025@2026-11-09T20:30:00-05:00"]}
    assert again.events == []


def test_new_orders_returns_an_order_created_later(shopify, sandbox):
    _, polls = drain(shopify, "new_orders", 50)
    created = sandbox.state.create_order({"line_items": [{"sku": "SKU-002", "quantity": 1}], "email": "new@example.org"})

    again = shopify.poll("new_orders", {}, polls[-1].cursor, None, 50)

    assert [(event.id, event.version) for event in again.events] == [(str(created["id"]), created["created_at"])]
    assert again.events[0].data["name"] == "#1027"


def test_paid_orders_yield_paid_and_partially_paid(shopify):
    events, _ = drain(shopify, "paid_orders", 50)

    assert [(event.data["name"], event.version) for event in events] == [
        ("#1001", "paid"), ("#1003", "paid"), ("#1004", "paid"), ("#1005", "paid"), ("#1006", "paid"), ("#1007", "paid"),
        ("#1008", "paid"), ("#1009", "partially_paid"), ("#1011", "paid"), ("#1012", "paid"), ("#1013", "paid"),
        ("#1010", "partially_refunded"), ("#1014", "paid"), ("#1015", "paid"), ("#1018", "paid"), ("#1020", "paid"), ("#1019", "paid"), ("#1021", "paid"),
        ("#1023", "paid"), ("#1024", "paid"), ("#1025", "paid"),
    ]


def test_paid_orders_yield_an_order_once_paid(shopify, sandbox):
    _, polls = drain(shopify, "paid_orders", 50)
    pending = order_by_name(sandbox, "#1002")
    sandbox.state.mark_paid(pending["id"])

    again = shopify.poll("paid_orders", {}, polls[-1].cursor, None, 50)

    assert [(event.data["name"], event.version, event.data["financial_status"]) for event in again.events] == [("#1002", "paid", "paid")]


def test_paid_orders_limit_counts_only_paid_orders(shopify):
    poll = shopify.poll("paid_orders", {}, None, None, 2)

    assert names(poll) == ["#1001", "#1003"]
    assert poll.more is True
    assert poll.cursor == {"updated_at": "2026-10-07T11:30:00-04:00", "seen": ["5900000000002@2026-10-07T11:30:00-04:00"]}


def test_later_pages_send_only_page_info(sandbox, clock, sleep):
    connector = ShopifyConnector(sandbox_settings(sandbox, page_size=5), monotonic=clock.monotonic, sleep=sleep)
    with connector:
        events, _ = drain(connector, "new_or_updated_orders", 100, inputs={"status": "any"})

    # The sandbox returns 400 for any other parameter beside page_info, so six good pages mean none was sent.
    assert len(events) == 26
    assert sandbox.calls["GET /admin/api/{version}/orders.json"] == 6


def test_event_from_payload_shapes_orders_as_polls_do(shopify):
    poll = shopify.poll("new_or_updated_orders", {}, None, None, 1)
    order = poll.events[0].data

    updated = shopify.event_from_payload("new_or_updated_orders", order)
    created = shopify.event_from_payload("new_orders", order)
    paid = shopify.event_from_payload("paid_orders", order)

    assert (updated.id, updated.version, updated.key, updated.data) == (poll.events[0].id, poll.events[0].version, poll.events[0].key, order)
    assert (created.id, created.version) == ("5900000000000", order["created_at"])
    assert (paid.id, paid.version) == ("5900000000000", "paid")
