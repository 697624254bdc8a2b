import shutil
from pathlib import Path

import pytest

from engine.cases import load_cases, run_cases
from engine.errors import ConfigurationError

from recipe_helpers import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def copy_example(folder: Path, cases: str) -> Path:
    for name in ("example-memory-orders.yaml", "example-items.csv"):
        shutil.copy(ROOT / "recipes" / name, folder / name)
    (folder / "example-memory-orders.cases.yaml").write_text(cases, encoding="utf-8")
    return folder / "example-memory-orders.yaml"


CASE = """
cases:
  - name: one line
    event:
      id: 7
      updated_at: "2026-11-03T10:00:00-05:00"
      name: "#7"
      customer: {first_name: Ada, last_name: Lovelace}
      line_items: [{sku: SKU-002, quantity: 3, price: "12.50", tax_lines: [{price: "1.00"}]}]
    expect:
      status: succeeded
      writes:
        - step: sales_order
          action: memory.upsert
          payload:
            object: sales_orders
            external_id_field: source_order_id
            record: {source_order_id: 7, number: WEB-7, customer: Ada Lovelace, tax_total: 1.00}
        - step: lines[0].sales_order_line
          action: memory.upsert
          payload:
            object: sales_order_lines
            external_id_field: line_key
            record: {line_key: 7-1, sales_order_id: "<sales_order.id from a held-back write>", item_number: ITEM-01004, quantity: QUANTITY, unit_price: 12.50, tax: 1.00}
"""


def test_matching_case_passes(tmp_path):
    [result] = run_cases(copy_example(tmp_path, CASE.replace("QUANTITY", "3")), REGISTRY)

    assert result.passed
    assert result.report() == "PASS example-memory-orders: one line"


def test_mismatch_shows_payload_diff(tmp_path):
    [result] = run_cases(copy_example(tmp_path, CASE.replace("QUANTITY", "2")), REGISTRY)

    assert not result.passed
    assert result.differences[0].startswith("writes differ (- expected, + planned):")
    assert "-      quantity: 2" in result.differences[0].splitlines()
    assert "+      quantity: 3" in result.differences[0].splitlines()


def test_wrong_status_names_reason(tmp_path):
    cases = CASE.replace("QUANTITY", "3").replace("customer: {first_name: Ada, last_name: Lovelace}", "customer: null")

    [result] = run_cases(copy_example(tmp_path, cases), REGISTRY)

    assert result.differences[0] == "status: expected succeeded, got skipped (Order #7 has no customer name; add one in Shopify and update the order)"


def test_given_state_reaches_the_sandbox(tmp_path):
    recipe = tmp_path / "lookup.yaml"
    recipe.write_text(
        "name: lookup-check\n"
        "trigger: {connector: memory, event: new_records, input: {object: orders}}\n"
        "steps:\n"
        "  - id: existing\n"
        "    action: memory.find\n"
        "    input: {object: customers, where: {email: \"{{ trigger.email }}\"}}\n"
        "  - id: known\n"
        "    if: \"{{ existing.count == 0 }}\"\n"
        "    stop: skipped\n"
        "    reason: \"no customer {{ trigger.email }}\"\n",
        encoding="utf-8",
    )
    (tmp_path / "lookup.cases.yaml").write_text(
        "cases:\n"
        "  - name: known customer\n"
        "    event: {id: 1, email: ada@example.com}\n"
        "    given: {memory: {customers: [{email: ada@example.com}]}}\n"
        "    expect: {status: succeeded, writes: []}\n"
        "  - name: unknown customer\n"
        "    event: {id: 2, email: bob@example.com}\n"
        "    expect: {status: skipped, reason: no customer bob@example.com}\n",
        encoding="utf-8",
    )

    results = run_cases(recipe, REGISTRY)

    assert [result.passed for result in results] == [True, True]


def test_case_without_status_is_rejected(tmp_path):
    path = tmp_path / "x.cases.yaml"
    path.write_text("cases:\n  - name: broken\n    event: {id: 1}\n    expect: {writes: []}\n", encoding="utf-8")

    with pytest.raises(ConfigurationError) as error:
        load_cases(path)

    assert str(error.value) == f"{path}: case 'broken' needs 'expect' with a status: succeeded, skipped, failed or waiting"
