"""The `recipe` command line, run in-process on the example recipe and the memory connector's sandbox."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from connectors.testing.memory import World
from engine import jsoncodec
from engine.cli import cli
from engine.registry import Registry

EXAMPLE = Path(__file__).resolve().parents[2] / "recipes" / "example-memory-orders.yaml"

SKIPPED_1003 = (
    "  skipped   job 3     event 1003@2026-11-02T11:40:00-05:00:"
    " Order #1003 has no customer name; add one in Shopify and update the order"
)

BAD_RECIPE = """\
name: Bad
trigger: {connector: memory, event: new_records, input: {object: orders}}
steps:
  - id: copy
    action: memory.craete
    input: {object: copies, record: {}}
"""

ORDER_2001 = {
    "id": 2001,
    "updated_at": "2026-11-03T08:00:00-05:00",
    "name": "#2001",
    "customer": {"first_name": "Grace", "last_name": "Hopper"},
    "line_items": [{"sku": "SKU-002", "quantity": 4, "price": "12.50", "tax_lines": [{"price": "4.00"}]}],
}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registry: Registry) -> None:
    """Run each command in tmp_path with only the memory connector and no configured connections."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("RECIPE_")]:
        monkeypatch.delenv(name)
    # The CLI builds its registry from installed entry points, so a connector installed later
    # would change `recipe connectors` and the "Installed:" lists.
    monkeypatch.setattr("engine.cli.Registry", lambda: registry)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def invoke(state_dir: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["--state-dir", str(state_dir), *arguments], prog_name="recipe")


def json_of(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def memory_records(state_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return jsoncodec.loads((state_dir / "memory-sandbox.json").read_text(encoding="utf-8"))["records"]


def add_sandbox_order(state_dir: Path, order: dict[str, Any]) -> None:
    file = state_dir / "memory-sandbox.json"
    world = World.from_json(file.read_text(encoding="utf-8"))
    world.add("orders", order)
    file.write_text(world.to_json(), encoding="utf-8")


def write_event(folder: Path, event: dict[str, Any], name: str = "event.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


# validate --------------------------------------------------------------------------------------


def test_validate_valid_recipe(state_dir: Path) -> None:
    result = invoke(state_dir, "validate", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "all recipes are valid\n"


def test_validate_invalid_lists_problems(state_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "recipes"
    folder.mkdir()
    bad = folder / "bad.yaml"
    bad.write_text(BAD_RECIPE, encoding="utf-8")
    for name in (EXAMPLE.name, "example-items.csv"):
        (folder / name).write_bytes((EXAMPLE.parent / name).read_bytes())

    result = invoke(state_dir, "validate", str(folder))

    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        f"{bad}:1:7: invalid recipe name 'Bad'; use lowercase letters, digits and dashes, starting with a letter or digit",
        f"{bad}:5:13: connector 'memory' has no action 'craete'. Did you mean 'create'? Actions: create, find, get, upsert",
    ]
    assert result.stderr == "2 problem(s) in 1 file(s)\n"


# run -------------------------------------------------------------------------------------------


def test_run_sandbox_example(state_dir: Path) -> None:
    result = invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "example-memory-orders: ran 3 job(s): 2 succeeded, 1 skipped, 0 failed",
        SKIPPED_1003,
        f"Details: `recipe job ID` (store: {state_dir / 'recipe.db'})",
    ]
    assert result.stderr == ""


def test_run_sandbox_writes_records(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    records = memory_records(state_dir)

    assert records["sales_orders"] == [
        {"source_order_id": 1001, "number": "WEB-1001", "customer": "Ada Lovelace", "tax_total": Decimal("2.00"), "id": "sal-4"},
        {"source_order_id": 1002, "number": "WEB-1002", "customer": "Jürgen Schäfer", "tax_total": Decimal("1.00"), "id": "sal-6"},
    ]
    assert [(line["line_key"], line["sales_order_id"], line["item_number"], line["unit_price"]) for line in records["sales_order_lines"]] == [
        ("1001-1", "sal-4", "ITEM-01002", Decimal("19.99")),
        ("1002-1", "sal-6", "ITEM-01004", Decimal("12.50")),
        ("1002-2", "sal-6", "ITEM-01011", Decimal("24.00")),
    ]


def test_run_twice_creates_no_job(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    result = invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout == "example-memory-orders: no new events\n"
    assert [job["id"] for job in json_of(invoke(state_dir, "jobs", "--json"))] == [3, 2, 1]


def test_run_failed_job_exits_one(state_dir: Path, tmp_path: Path) -> None:
    unknown_sku = dict(ORDER_2001, line_items=[{"sku": "SKU-999", "quantity": 1, "price": "5.00", "tax_lines": []}])
    event = write_event(tmp_path, unknown_sku)

    result = invoke(state_dir, "run", "--sandbox", "--event", str(event), str(EXAMPLE))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "example-memory-orders: ran 1 job(s): 0 succeeded, 0 skipped, 1 failed",
        "  failed    job 1     event 2001@2026-11-03T08:00:00-05:00: step 'lines[0].sales_order_line' for event"
        " 2001@2026-11-03T08:00:00-05:00: input.record.item_number: key 'SKU-999' not found in lookup table 'items';"
        " add it to the table, or give a default: lookup('items', key, none)",
        f"Details: `recipe job ID` (store: {state_dir / 'recipe.db'})",
    ]


# run --event -----------------------------------------------------------------------------------


def test_run_event_runs_one_job(state_dir: Path, tmp_path: Path) -> None:
    event = write_event(tmp_path, ORDER_2001)

    result = invoke(state_dir, "run", "--sandbox", "--event", str(event), str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "example-memory-orders: ran 1 job(s): 1 succeeded, 0 skipped, 0 failed",
        f"Details: `recipe job ID` (store: {state_dir / 'recipe.db'})",
    ]
    jobs = json_of(invoke(state_dir, "jobs", "--json"))
    assert [(job["id"], job["event_id"], job["event_version"], job["status"]) for job in jobs] == [
        (1, "2001", "2026-11-03T08:00:00-05:00", "succeeded"),
    ]
    assert [order["number"] for order in memory_records(state_dir)["sales_orders"]] == ["WEB-2001"]


def test_run_event_keeps_cursor(state_dir: Path, tmp_path: Path) -> None:
    event = write_event(tmp_path, ORDER_2001)
    invoke(state_dir, "run", "--sandbox", "--event", str(event), str(EXAMPLE))

    result = invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    assert result.stdout.splitlines()[0] == "example-memory-orders: ran 3 job(s): 2 succeeded, 1 skipped, 0 failed"


def test_run_event_again_already_processed(state_dir: Path, tmp_path: Path) -> None:
    event = write_event(tmp_path, ORDER_2001)
    invoke(state_dir, "run", "--sandbox", "--event", str(event), str(EXAMPLE))

    result = invoke(state_dir, "run", "--sandbox", "--event", str(event), str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "example-memory-orders: ran 0 job(s): 0 succeeded, 0 skipped, 0 failed",
        "  1 event(s) already processed earlier, not run again (use `recipe replay JOB` to run one again)",
    ]
    assert len(json_of(invoke(state_dir, "jobs", "--json"))) == 1


def test_run_event_missing_file(state_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"

    result = invoke(state_dir, "run", "--sandbox", "--event", str(missing), str(EXAMPLE))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: event file {missing} not found\n"


def test_run_event_not_json(state_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": 2001,\n', encoding="utf-8")

    result = invoke(state_dir, "run", "--sandbox", "--event", str(broken), str(EXAMPLE))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: event file {broken} is not valid JSON: Expecting property name enclosed in double quotes: line 2 column 1 (char 13)\n"
    )


# dry-run ---------------------------------------------------------------------------------------


def test_dry_run_prints_held_writes(state_dir: Path) -> None:
    result = invoke(state_dir, "dry-run", "--sandbox", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent("""\
        event 1001@2026-11-02T09:15:00-05:00: succeeded, 2 write(s) held back
          sales_order: memory.upsert sales_orders
            {
              "object": "sales_orders",
              "external_id_field": "source_order_id",
              "record": {
                "source_order_id": 1001,
                "number": "WEB-1001",
                "customer": "Ada Lovelace",
                "tax_total": 2.00
              }
            }
          lines[0].sales_order_line: memory.upsert sales_order_lines
            {
              "object": "sales_order_lines",
              "external_id_field": "line_key",
              "record": {
                "line_key": "1001-1",
                "sales_order_id": "<sales_order.id from a held-back write>",
                "item_number": "ITEM-01002",
                "quantity": 2,
                "unit_price": 19.99,
                "tax": 2.00
              }
            }
        event 1002@2026-11-02T10:05:00-05:00: succeeded, 3 write(s) held back
          sales_order: memory.upsert sales_orders
            {
              "object": "sales_orders",
              "external_id_field": "source_order_id",
              "record": {
                "source_order_id": 1002,
                "number": "WEB-1002",
                "customer": "Jürgen Schäfer",
                "tax_total": 1.00
              }
            }
          lines[0].sales_order_line: memory.upsert sales_order_lines
            {
              "object": "sales_order_lines",
              "external_id_field": "line_key",
              "record": {
                "line_key": "1002-1",
                "sales_order_id": "<sales_order.id from a held-back write>",
                "item_number": "ITEM-01004",
                "quantity": 1,
                "unit_price": 12.50,
                "tax": 1.00
              }
            }
          lines[1].sales_order_line: memory.upsert sales_order_lines
            {
              "object": "sales_order_lines",
              "external_id_field": "line_key",
              "record": {
                "line_key": "1002-2",
                "sales_order_id": "<sales_order.id from a held-back write>",
                "item_number": "ITEM-01011",
                "quantity": 3,
                "unit_price": 24.00,
                "tax": 0
              }
            }
        event 1003@2026-11-02T11:40:00-05:00: skipped, 0 write(s) held back
        example-memory-orders: would run 3 job(s): 2 succeeded, 1 skipped, 0 failed
          skipped   event 1003@2026-11-02T11:40:00-05:00: Order #1003 has no customer name; add one in Shopify and update the order
        Dry run: nothing was written, and no job or cursor was stored.
    """)


def test_dry_run_fresh_leaves_no_trace(state_dir: Path) -> None:
    invoke(state_dir, "dry-run", "--sandbox", str(EXAMPLE))

    assert not (state_dir / "memory-sandbox.json").exists()
    assert not (state_dir / "recipe.db").exists()
    assert invoke(state_dir, "jobs").stdout == "no jobs recorded\n"


def test_dry_run_changes_nothing(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))
    add_sandbox_order(state_dir, ORDER_2001)
    memory_before = (state_dir / "memory-sandbox.json").read_bytes()
    jobs_before = json_of(invoke(state_dir, "jobs", "--json"))

    result = invoke(state_dir, "dry-run", "--sandbox", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "event 2001@2026-11-03T08:00:00-05:00: succeeded, 2 write(s) held back"
    assert (state_dir / "memory-sandbox.json").read_bytes() == memory_before
    assert json_of(invoke(state_dir, "jobs", "--json")) == jobs_before
    after = invoke(state_dir, "run", "--sandbox", str(EXAMPLE))
    assert after.stdout.splitlines()[0] == "example-memory-orders: ran 1 job(s): 1 succeeded, 0 skipped, 0 failed"


# jobs ------------------------------------------------------------------------------------------


def test_jobs_lists_newest_first(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))
    created = {job["id"]: job["created_at"][:19].replace("T", " ") for job in json_of(invoke(state_dir, "jobs", "--json"))}

    result = invoke(state_dir, "jobs")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "   ID  RECIPE                       STATUS    CREATED (UTC)        EVENT / REASON",
        f"    3  example-memory-orders        skipped   {created[3]}  1003@2026-11-02T11:40:00-05:00"
        "  Order #1003 has no customer name; add one in Shopify and update the order",
        f"    2  example-memory-orders        succeeded {created[2]}  1002@2026-11-02T10:05:00-05:00",
        f"    1  example-memory-orders        succeeded {created[1]}  1001@2026-11-02T09:15:00-05:00",
    ]


def test_jobs_columns_line_up(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    header, first_row, *_ = invoke(state_dir, "jobs").stdout.splitlines()

    assert first_row.index("1003@") == header.index("EVENT / REASON")


def test_jobs_filter_by_status(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    result = invoke(state_dir, "jobs", "--status", "skipped")

    assert result.exit_code == 0
    assert [line.split()[:3] for line in result.stdout.splitlines()[1:]] == [["3", "example-memory-orders", "skipped"]]


def test_jobs_json(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    jobs = json_of(invoke(state_dir, "jobs", "--json"))

    assert [set(job) for job in jobs] == [{
        "id", "recipe", "recipe_hash", "event_id", "event_version", "event_key", "status", "reason", "error",
        "replay_of", "created_at", "started_at", "finished_at", "round_trips",
    }] * 3
    assert [(job["id"], job["event_id"], job["status"], job["round_trips"], job["replay_of"]) for job in jobs] == [
        (3, "1003", "skipped", 0, None),
        (2, "1002", "succeeded", 3, None),
        (1, "1001", "succeeded", 2, None),
    ]
    assert jobs[0]["reason"] == "Order #1003 has no customer name; add one in Shopify and update the order"
    assert [datetime.fromisoformat(job["finished_at"]).utcoffset() for job in jobs] == [timedelta(0)] * 3


def test_jobs_json_status_filter(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    jobs = json_of(invoke(state_dir, "jobs", "--status", "skipped", "--json"))

    assert [(job["id"], job["status"]) for job in jobs] == [(3, "skipped")]


# job -------------------------------------------------------------------------------------------


def test_job_shows_step_inputs_outputs(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))
    record = json_of(invoke(state_dir, "job", "1", "--json"))
    times = [f"{step['duration_ms']:.1f}" for step in record["steps"]]

    result = invoke(state_dir, "job", "1")

    assert result.exit_code == 0
    assert result.stdout == textwrap.dedent(f"""\
        job 1  recipe example-memory-orders ({record['recipe_hash']})  event 1001@2026-11-02T09:15:00-05:00
        status succeeded
        created {record['created_at']}  started {record['started_at']}  finished {record['finished_at']}  round trips 2

        [not_run] no_customer  attempts 0  {times[0]} ms  round trips 0

        [succeeded] sales_order  attempts 1  {times[1]} ms  round trips 1
          input:
            {{
              "object": "sales_orders",
              "external_id_field": "source_order_id",
              "record": {{
                "source_order_id": 1001,
                "number": "WEB-1001",
                "customer": "Ada Lovelace",
                "tax_total": 2.00
              }}
            }}
          output:
            {{
              "id": "sal-4",
              "created": true
            }}

        [succeeded] lines[0].sales_order_line  attempts 1  {times[2]} ms  round trips 1
          input:
            {{
              "object": "sales_order_lines",
              "external_id_field": "line_key",
              "record": {{
                "line_key": "1001-1",
                "sales_order_id": "sal-4",
                "item_number": "ITEM-01002",
                "quantity": 2,
                "unit_price": 19.99,
                "tax": 2.00
              }}
            }}
          output:
            {{
              "id": "sal-5",
              "created": true
            }}
    """)


def test_job_json_has_steps_and_event(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    record = jsoncodec.loads(invoke(state_dir, "job", "2", "--json").stdout)

    assert (record["id"], record["event_id"], record["status"]) == (2, "1002", "succeeded")
    assert record["event"]["customer"] == {"first_name": "Jürgen", "last_name": "Schäfer"}
    assert [(step["path"], step["status"], step["attempts"]) for step in record["steps"]] == [
        ("no_customer", "not_run", 0),
        ("sales_order", "succeeded", 1),
        ("lines[0].sales_order_line", "succeeded", 1),
        ("lines[1].sales_order_line", "succeeded", 1),
    ]
    assert record["steps"][1]["input"]["record"] == {
        "source_order_id": 1002, "number": "WEB-1002", "customer": "Jürgen Schäfer", "tax_total": Decimal("1.00"),
    }
    assert record["steps"][1]["output"] == {"id": "sal-6", "created": True}
    assert record["steps"][3]["input"]["record"]["tax"] == 0


def test_job_unknown_id(state_dir: Path) -> None:
    result = invoke(state_dir, "job", "99")

    assert result.exit_code == 2
    assert result.stderr == "error: job 99 not found; `recipe jobs` lists the jobs\n"


# replay ----------------------------------------------------------------------------------------


def test_replay_creates_new_job(state_dir: Path) -> None:
    invoke(state_dir, "run", "--sandbox", str(EXAMPLE))

    result = invoke(state_dir, "replay", "1", "--sandbox")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "example-memory-orders: ran 1 job(s): 1 succeeded, 0 skipped, 0 failed",
        f"Details: `recipe job ID` (store: {state_dir / 'recipe.db'})",
    ]
    replayed = json_of(invoke(state_dir, "job", "4", "--json"))
    assert (replayed["replay_of"], replayed["event_id"], replayed["status"]) == (1, "1001", "succeeded")
    assert replayed["steps"][1]["output"] == {"id": "sal-4", "created": False}
    assert invoke(state_dir, "job", "4").stdout.splitlines()[1] == "status succeeded  replay of job 1"


def test_replay_unknown_job(state_dir: Path) -> None:
    result = invoke(state_dir, "replay", "7", "--sandbox")

    assert result.exit_code == 2
    assert result.stderr == "error: job 7 not found; `recipe jobs` lists the jobs\n"


# connectors ------------------------------------------------------------------------------------


def test_connectors_lists_memory(state_dir: Path) -> None:
    result = invoke(state_dir, "connectors")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "memory: In-memory test connector",
        "  connection: path, seed_demo_orders, api_key (secret)",
        "  trigger new_records: Records added to an object, oldest first; the cursor is the count already seen.",
        "      input: object*",
        "  action  create (write): Create a record; not idempotent.",
        "      input: object*, record*",
        "      output: id, created",
        "  action  find (read): Find records whose fields equal the given values.",
        "      input: object*, where",
        "      output: records, count",
        "  action  get (read): Get one record by id.",
        "      input: object*, id*",
        "  action  upsert (write): Create or update the record whose external id field matches; idempotent.",
        "      input: object*, external_id_field*, record*",
        "      output: id, created",
    ]


# Exit codes ------------------------------------------------------------------------------------


def test_invalid_recipe_exits_three(state_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_RECIPE, encoding="utf-8")

    result = invoke(state_dir, "run", "--sandbox", str(bad))

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:1:7: invalid recipe name 'Bad'; use lowercase letters, digits and dashes, starting with a letter or digit",
        f"{bad}:5:13: connector 'memory' has no action 'craete'. Did you mean 'create'? Actions: create, find, get, upsert",
    ]
    assert not (state_dir / "recipe.db").exists()


def test_missing_recipe_exits_two(state_dir: Path, tmp_path: Path) -> None:
    result = invoke(state_dir, "run", "--sandbox", str(tmp_path / "absent.yaml"))

    assert result.exit_code == 2
    assert result.stderr == f"error: recipe file {tmp_path / 'absent.yaml'} not found\n"


def test_unconfigured_connection_exits_four(state_dir: Path) -> None:
    result = invoke(state_dir, "run", str(EXAMPLE))

    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        "error: connection 'demo' is not configured; add it to connections.yaml"
        " or set RECIPE_DEMO_<FIELD> variables, or run with --sandbox\n"
    )


def test_usage_error_exits_two(state_dir: Path) -> None:
    result = invoke(state_dir, "run")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Usage: recipe run [OPTIONS] RECIPE",
        "Try 'recipe run --help' for help.",
        "",
        "Error: Missing argument 'RECIPE'.",
    ]


def test_bad_option_value_exits_two(state_dir: Path) -> None:
    result = invoke(state_dir, "jobs", "--status", "done")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--status': 'done' is not one of 'pending', 'running', 'succeeded', 'skipped', 'failed', 'waiting'."
    )


def test_help_lists_exit_codes(state_dir: Path) -> None:
    result = invoke(state_dir, "--help")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-6:] == [
        "  Exit codes:",
        "    0  every job succeeded or was skipped",
        "    1  a job failed, or the trigger's poll failed",
        "    2  usage error",
        "    3  invalid recipe",
        "    4  connection or configuration problem",
    ]


def test_validate_folder_without_recipes(state_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = invoke(state_dir, "validate", str(empty))

    assert result.exit_code == 2
    assert result.stderr == f"error: no recipe files (*.yaml, *.yml) in {empty}\n"


def test_recipe_test_runs_example_cases(state_dir: Path) -> None:
    result = invoke(state_dir, "test", str(EXAMPLE))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "3 passed, 0 failed"


def test_recipe_test_fails_on_mismatch(state_dir: Path, tmp_path: Path) -> None:
    for name in (EXAMPLE.name, "example-items.csv"):
        (tmp_path / name).write_bytes((EXAMPLE.parent / name).read_bytes())
    cases = (EXAMPLE.parent / "example-memory-orders.cases.yaml").read_text(encoding="utf-8")
    (tmp_path / "example-memory-orders.cases.yaml").write_text(cases.replace("item_number: ITEM-01002", "item_number: ITEM-99999"), encoding="utf-8")

    result = invoke(state_dir, "test", str(tmp_path / EXAMPLE.name))

    assert result.exit_code == 1
    assert "FAIL example-memory-orders: order with two lines becomes a sales order and two lines" in result.stdout
    assert "    -      item_number: ITEM-99999" in result.stdout.splitlines()
    assert "    +      item_number: ITEM-01002" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "2 passed, 1 failed"


def test_run_json_summary(state_dir: Path) -> None:
    document = json_of(invoke(state_dir, "run", "--sandbox", "--json", str(EXAMPLE)))

    assert document["counts"] == {"succeeded": 2, "skipped": 1, "failed": 0, "waiting": 0}
    assert document["jobs"][2] == {
        "id": 3, "event": "1003@2026-11-02T11:40:00-05:00", "status": "skipped",
        "reason": "Order #1003 has no customer name; add one in Shopify and update the order", "error": None,
    }


def test_dry_run_json_has_planned_writes(state_dir: Path) -> None:
    document = json_of(invoke(state_dir, "dry-run", "--sandbox", "--json", str(EXAMPLE)))

    first = document["jobs"][0]
    assert first["id"] is None
    assert [write["step"] for write in first["planned_writes"]] == ["sales_order", "lines[0].sales_order_line"]
    assert first["planned_writes"][0]["payload"]["record"]["number"] == "WEB-1001"


def test_run_refuses_while_service_holds_lock(state_dir: Path) -> None:
    from engine.lock import ServiceLock

    lock = ServiceLock(state_dir)
    lock.acquire()
    try:
        result = invoke(state_dir, "run", "--sandbox", str(EXAMPLE))
        planned = invoke(state_dir, "dry-run", "--sandbox", str(EXAMPLE))
    finally:
        lock.release()

    assert result.exit_code == 4
    assert result.stderr.startswith(f"error: `recipe start` (pid {os.getpid()} on ")
    assert result.stderr.endswith(f"is running on the state directory {state_dir}; stop it first, or use `recipe dry-run`, which changes nothing\n")
    assert planned.exit_code == 0
