"""Recipe validation: each kind of problem, reported at its file, line and column, in one pass."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.errors import ConfigurationError, Problem, RecipeInvalid
from engine.recipe import StepKind
from engine.registry import Registry
from engine.schedule import Cron, Interval
from engine.validate import check_recipe, load_recipe, recipe_files, validate_paths

ITEMS_CSV = "sku,item_number\nSKU-001,ITEM-01\nSKU-002,ITEM-02\n"


def write(folder: Path, text: str, name: str = "orders.yaml") -> Path:
    """Write `text`, dedented and without its leading newline, so its first line is line 1 of the file."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_in(path: Path, registry: Registry) -> list[Problem]:
    recipe, problems = check_recipe(path, registry)
    assert recipe is None
    return problems


# Valid recipes ---------------------------------------------------------------------------------


def test_valid_recipe_builds_recipe(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "items.csv").write_text(ITEMS_CSV, encoding="utf-8")
    path = write(tmp_path, """
        name: orders-to-erp
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule: {cron: "0 * * * *", timezone: Europe/Berlin}
          since: 2026-11-01T00:00:00-05:00
        settings: {prefix: "WEB-"}
        lookups:
          items: {file: items.csv, key: sku, value: item_number}
        steps:
          - id: no_customer
            if: "{{ not trigger.customer }}"
            stop: skipped
            reason: "Order {{ trigger.id }} has no customer"
          - id: order
            action: memory.upsert
            input:
              object: sales_orders
              external_id_field: number
              record: {number: "{{ settings.prefix }}{{ trigger.id }}"}
          - id: lines
            for_each: "{{ trigger.line_items }}"
            as: line
            steps:
              - id: line
                action: memory.create
                input:
                  object: sales_order_lines
                  record:
                    order_id: "{{ order.id }}"
                    item: "{{ line.sku | lookup('items') }}"
                    number: "{{ loop.number }}"
    """)

    recipe, problems = check_recipe(path, registry)

    assert problems == []
    assert recipe is not None
    assert recipe.name == "orders-to-erp"
    assert recipe.path == path
    assert recipe.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert recipe.settings == {"prefix": "WEB-"}
    assert recipe.lookups.tables["items"].entries == {"SKU-001": "ITEM-01", "SKU-002": "ITEM-02"}
    assert (recipe.trigger.connector, recipe.trigger.event) == ("memory", "new_records")
    assert recipe.trigger.input == {"object": "orders"}
    assert recipe.trigger.schedule == Cron("0 * * * *", "Europe/Berlin")
    assert recipe.trigger.since == datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert [(step.id, step.kind, step.line) for step in recipe.steps] == [
        ("no_customer", StepKind.STOP, 12),
        ("order", StepKind.ACTION, 16),
        ("lines", StepKind.FOR_EACH, 22),
    ]
    assert recipe.steps[0].stop_status == "skipped"
    assert (recipe.steps[1].connector, recipe.steps[1].action) == ("memory", "upsert")
    assert recipe.steps[2].item_name == "line"
    assert [(step.id, step.kind, step.line) for step in recipe.steps[2].steps] == [("line", StepKind.ACTION, 26)]


def test_valid_recipe_default_schedule(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}, since: 2026-11-01}
        steps:
          - id: copy
            action: memory.create
            input: {object: copies, record: {id: "{{ trigger.id }}"}}
    """)

    recipe, problems = check_recipe(path, registry)

    assert problems == []
    assert recipe is not None
    assert recipe.trigger.schedule == Interval(300.0)
    assert recipe.trigger.since == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert recipe.trigger.batch_size == 250


def test_lookup_key_twice_same_value(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "items.csv").write_text("sku,item_number\nSKU-001,ITEM-01\nSKU-001,ITEM-01\n", encoding="utf-8")
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        lookups:
          items: {file: items.csv, key: sku, value: item_number}
        steps:
          - id: copy
            action: memory.create
            input: {object: copies, record: {item: "{{ trigger.sku | lookup('items') }}"}}
    """)

    recipe, problems = check_recipe(path, registry)

    assert problems == []
    assert recipe is not None
    assert recipe.lookups.tables["items"].entries == {"SKU-001": "ITEM-01"}


def test_load_recipe_invalid_raises(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: Orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    with pytest.raises(RecipeInvalid) as raised:
        load_recipe(path, registry)

    message = "invalid recipe name 'Orders'; use lowercase letters, digits and dashes, starting with a letter or digit"
    assert raised.value.problems == [Problem(str(path), 1, 7, message)]
    assert str(raised.value) == f"{path}:1:7: {message}"


def test_load_recipe_missing_file(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "absent.yaml"

    with pytest.raises(ConfigurationError) as raised:
        load_recipe(path, registry)

    assert str(raised.value) == f"recipe file {path} not found"


# YAML and schema -------------------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: [new_records
          input: {object: orders}
        steps: []
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 8, "YAML syntax error: expected ',' or ']', but got ':'"),
    ]


def test_top_level_list_rejected(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        - name: orders
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 1, 1, "a recipe must be a mapping with name, trigger and steps"),
    ]


def test_duplicate_key(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          connector: memory
          input: {object: orders}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 3, "duplicate key 'connector' (first defined on line 3); remove one of them"),
    ]


def test_missing_required_key(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          input: {object: orders}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 2, 1, "trigger is missing the required key 'event'"),
    ]


def test_unknown_key_suggests_name(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        descripton: Copy orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 2, 1,
            "unknown key 'descripton' in the recipe. Did you mean 'description'? Allowed keys: concurrency, connections,"
            " description, enabled, lookups, name, on_error, settings, steps, trigger",
        ),
    ]


def test_wrong_type(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        enabled: "yes"
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 2, 10, "enabled must be true or false, not the text 'yes'"),
    ]


def test_step_with_action_and_stop(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.create
            input: {object: copies, record: {}}
            stop: skipped
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 4, 5,
            "steps[0]: a step needs exactly one of: 'action' (with 'input'), 'for_each' with 'steps', 'stop' with 'reason', or 'compose'",
        ),
    ]


def test_invalid_recipe_name(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: Orders_Sync
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 1, 7,
            "invalid recipe name 'Orders_Sync'; use lowercase letters, digits and dashes, starting with a letter or digit",
        ),
    ]


def test_invalid_step_id(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy-order
            action: memory.create
            input: {object: copies, record: {}}
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 4, 9,
            "invalid step id 'copy-order'; use letters, digits and underscores, starting with a letter"
            " (it is used as a name in mappings)",
        ),
    ]


# Connectors, triggers and actions --------------------------------------------------------------


def test_unknown_connector_suggests_name(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memroy, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 2, 22, "unknown connector 'memroy'. Did you mean 'memory'? Installed: memory"),
    ]


def test_unknown_trigger(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: paid_orders, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 2, 37, "connector 'memory' has no trigger 'paid_orders'. Triggers: new_records"),
    ]


def test_unknown_action_suggests_name(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.craete
            input: {object: copies, record: {}}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 13, "connector 'memory' has no action 'craete'. Did you mean 'create'? Actions: create, find, get, upsert"),
    ]


def test_unknown_action_input(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.create
            input:
              object: copies
              recrd: {id: "{{ trigger.id }}"}
              record: {}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 8, 7, "unknown input 'recrd' for action 'memory.create'. Did you mean 'record'? Inputs: object, record"),
    ]


def test_missing_required_input(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.create
            input:
              record: {id: "{{ trigger.id }}"}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 6, 5, "missing required input 'object' for action 'memory.create'"),
    ]


# Step ids and the names mappings use -----------------------------------------------------------


def test_duplicate_step_id(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.create
            input: {object: copies, record: {}}
          - id: copy
            action: memory.create
            input: {object: backups, record: {}}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 7, 9, "duplicate step id 'copy' (first used on line 4); step ids must be unique in a recipe"),
    ]


def test_mapping_unknown_step(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: order
            action: memory.create
            input: {object: sales_orders, record: {}}
          - id: line
            action: memory.create
            input:
              object: sales_order_lines
              record: {order_id: "{{ ordr.id }}"}
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 11, 26,
            "unknown name 'ordr' in steps[1].input.record.order_id. Did you mean 'order'?"
            " Names available here: lookup, none, order, range, settings, trigger",
        ),
    ]


def test_mapping_later_step(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: line
            action: memory.create
            input:
              object: sales_order_lines
              record: {order_id: "{{ order.id }}"}
          - id: order
            action: memory.create
            input: {object: sales_orders, record: {}}
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 8, 26,
            "'order' refers to step 'order' on line 9, which has not run yet at this point; a mapping can only use steps before it",
        ),
    ]


def test_mapping_loop_step_from_outside(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: lines
            for_each: "{{ trigger.line_items }}"
            steps:
              - id: line
                action: memory.create
                input: {object: sales_order_lines, record: {sku: "{{ item.sku }}"}}
          - id: summary
            action: memory.create
            input:
              object: summaries
              record: {last_line: "{{ line.id }}"}
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 14, 27,
            "'line' is a step inside the for_each 'lines'; outside that loop use 'lines', the list of each item's outputs",
        ),
    ]


def test_loop_names_valid_inside_loop(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: order
            action: memory.create
            input: {object: sales_orders, record: {}}
          - id: lines
            for_each: "{{ trigger.line_items }}"
            as: line
            steps:
              - id: found
                action: memory.find
                input: {object: items, where: {sku: "{{ line.sku }}"}}
              - id: line_copy
                action: memory.create
                input:
                  object: sales_order_lines
                  record: {order_id: "{{ order.id }}", count: "{{ found.count }}", number: "{{ loop.number }}"}
          - id: summary
            action: memory.create
            input: {object: summaries, record: {lines: "{{ lines | length }}"}}
    """)

    recipe, problems = check_recipe(path, registry)

    assert problems == []
    assert recipe is not None
    assert [step.id for step in recipe.steps[1].steps] == ["found", "line_copy"]


# Jinja ------------------------------------------------------------------------------------------


def test_jinja_error_one_line(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.create
            input:
              object: copies
              record: {id: "{{ trigger.id }"}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 8, 20, "Jinja syntax error in steps[0].input.record.id: unexpected '}'"),
    ]


def test_jinja_error_in_block_scalar(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: |
              Order {{ trigger.name }}
              has no {{ trigger.customer }
              customer name
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 8, 1, "Jinja syntax error in steps[0].reason: unexpected '}'"),
    ]


def test_jinja_error_in_folded_scalar(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: >
              Order {{ trigger.name }}
              has no {{ trigger.customer }
              customer name
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 8, 1, "Jinja syntax error in steps[0].reason: unexpected '}'"),
    ]


# Lookup tables --------------------------------------------------------------------------------


def test_lookup_file_missing(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        lookups:
          items:
            file: items.csv
            key: sku
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 11, f"lookup file 'items.csv' not found next to the recipe (looked for {tmp_path / 'items.csv'})"),
    ]


def test_lookup_file_missing_column(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "items.csv").write_text("sku,item\nSKU-001,ITEM-01\n", encoding="utf-8")
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        lookups:
          items:
            file: items.csv
            key: sku
            value: item_number
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 11, "lookup table 'items' is malformed: items.csv: column 'item_number' not found; the header has sku, item"),
    ]


def test_lookup_key_twice_differs(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "items.csv").write_text("sku,item_number\nSKU-001,ITEM-01\nSKU-002,ITEM-02\nSKU-001,ITEM-09\n", encoding="utf-8")
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        lookups:
          items:
            file: items.csv
            key: sku
            value: item_number
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 11, "lookup table 'items' is malformed: items.csv:4: key 'SKU-001' appears twice with different values"),
    ]


# Schedules and since --------------------------------------------------------------------------


def test_schedule_invalid_cron(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule: {cron: "61 * * * *"}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 6, 13, "invalid cron expression '61 * * * *'; use five fields: minute hour day-of-month month day-of-week"),
    ]


def test_schedule_unknown_time_zone(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule:
            cron: "0 * * * *"
            timezone: Europe/Berln
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    problems = problems_in(path, registry)

    assert [problem.message for problem in problems] == ["unknown time zone 'Europe/Berln'; use an IANA name such as 'Europe/Berlin'"]
    assert problems[0].path == str(path)


def test_time_zone_problem_on_its_line(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule:
            cron: "0 * * * *"
            timezone: Europe/Berln
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert [(problem.line, problem.column) for problem in problems_in(path, registry)] == [(8, 15)]


def test_schedule_zero_interval(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule: every 0s
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 6, 13, "invalid schedule 'every 0s'; the interval must be longer than zero"),
    ]


def test_schedule_invalid_interval(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          schedule: every 5 minutes
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 6, 13,
            "invalid schedule 'every 5 minutes'; write 'every 30s', 'every 5m', or {cron: '0 * * * *', timezone: 'Europe/Berlin'}",
        ),
    ]


def test_since_without_zone(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          since: 2026-11-01T00:00:00
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 6, 10,
            "since '2026-11-01T00:00:00' has no time zone; add one, for example 2026-11-01T00:00:00Z or 2026-11-01T00:00:00-05:00",
        ),
    ]


# Values that crash the checker ----------------------------------------------------------------


def test_trigger_input_text_reported(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger:
          connector: memory
          event: new_records
          input: orders
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 5, 10, "trigger.input must be a mapping, not the text 'orders'"),
    ]


def test_backoff_invalid_duration_reported(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        on_error:
          backoff: {initial: soon}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 4, 22,
            "invalid duration 'soon' in on_error.backoff.initial; write seconds, or text such as 500ms, 30s, 5m or 1h",
        ),
    ]


# One pass over a file, and over folders -------------------------------------------------------


def test_several_problems_sorted_by_line(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: Orders
        trigger:
          connector: memory
          event: new_records
          input: {object: orders}
          since: 2026-11-01T00:00:00
        steps:
          - id: copy
            action: memory.craete
            input: {object: copies, record: {}}
          - id: summary
            action: memory.create
            input: {object: summaries, colour: blue, record: {id: "{{ copy.id }"}}
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 1, 7, "invalid recipe name 'Orders'; use lowercase letters, digits and dashes, starting with a letter or digit"),
        Problem(
            str(path), 6, 10,
            "since '2026-11-01T00:00:00' has no time zone; add one, for example 2026-11-01T00:00:00Z or 2026-11-01T00:00:00-05:00",
        ),
        Problem(str(path), 9, 13, "connector 'memory' has no action 'craete'. Did you mean 'create'? Actions: create, find, get, upsert"),
        Problem(str(path), 13, 32, "unknown input 'colour' for action 'memory.create'. Inputs: object, record"),
        Problem(str(path), 13, 59, "Jinja syntax error in steps[1].input.record.id: unexpected '}'"),
    ]


def test_recipe_files_skip_cases(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "a.cases.yaml", "b.cases.yml", "notes.txt"):
        (tmp_path / name).write_text("name: x\n", encoding="utf-8")

    assert recipe_files(tmp_path) == [tmp_path / "a.yml", tmp_path / "b.yaml"]
    assert recipe_files(tmp_path / "a.cases.yaml") == [tmp_path / "a.cases.yaml"]


def test_validate_paths_checks_all(tmp_path: Path, registry: Registry) -> None:
    good = write(tmp_path, """
        name: good
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: halt
            stop: skipped
            reason: nothing to do
    """, name="good.yaml")
    bad = write(tmp_path, """
        name: bad
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: copy
            action: memory.craete
            input: {object: copies, record: {}}
    """, name="bad.yaml")
    (tmp_path / "bad.cases.yaml").write_text("- this: is not a recipe\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"

    problems = validate_paths([tmp_path, good, missing], registry)

    assert problems == [
        Problem(str(bad), 5, 13, "connector 'memory' has no action 'craete'. Did you mean 'create'? Actions: create, find, get, upsert"),
        Problem(str(missing), 0, 0, "file or folder not found"),
    ]


def test_schema_messages_in_plain_words(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        lookups:
          my-items: {entries: {a: b}}
        concurrency: 0
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps: []
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 3, 3, "invalid lookup table name 'my-items'; use letters, digits and underscores, starting with a letter"),
        Problem(str(path), 4, 14, "concurrency must be 1 or more, not 0"),
        Problem(str(path), 6, 8, "steps must list at least one step"),
    ]


def test_loop_outside_for_each_is_unknown(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: order
            action: memory.create
            input: {object: sales_orders, record: {number: "{{ loop.number }}"}}
    """)

    assert problems_in(path, registry) == [
        Problem(
            str(path), 6, 52,
            "'loop' in steps[0].input.record.number is only available inside a for_each",
        ),
    ]


def test_unknown_filter_table_and_setting(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, """
        name: orders
        settings: {prefix: "WEB-"}
        lookups:
          items: {entries: {SKU-1: ITEM-1}}
        trigger: {connector: memory, event: new_records, input: {object: orders}}
        steps:
          - id: order
            action: memory.create
            input:
              object: sales_orders
              record:
                item: "{{ trigger.sku | lookp('items') }}"
                other: "{{ lookup('itemz', trigger.sku) }}"
                number: "{{ settings.prefx }}{{ trigger.id }}"
                fine: "{{ settings['prefix'] }}{{ trigger.sku | lookup('items', none) }}"
    """)

    assert problems_in(path, registry) == [
        Problem(str(path), 12, 15, "unknown filter 'lookp' in steps[0].input.record.item. Did you mean 'lookup'?"),
        Problem(str(path), 13, 16, "unknown lookup table 'itemz' in steps[0].input.record.other. Did you mean 'items'? Tables in this recipe: items"),
        Problem(str(path), 14, 17, "unknown setting 'prefx' in steps[0].input.record.number. Did you mean 'prefix'? Settings in this recipe: prefix"),
    ]
