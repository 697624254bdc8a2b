"""The position-keeping YAML loader: node positions, duplicate keys, dates and empty files."""

from __future__ import annotations

import textwrap

import pytest

from engine.errors import Problem
from engine.loader import load_yaml

NESTED = textwrap.dedent("""\
    name: orders
    trigger:
      connector: memory
      input: {object: orders}
    steps:
      - id: copy
        tags: [a, b]
      - id: halt
""")


def test_nested_key_positions() -> None:
    document, problems = load_yaml(NESTED, "orders.yaml")

    assert problems == []
    assert document.key_marks[("trigger", "connector")] == (3, 3)
    assert document.value_marks[("trigger", "connector")] == (3, 14)
    assert document.key_marks[("trigger", "input", "object")] == (4, 11)
    assert document.value_marks[("trigger", "input", "object")] == (4, 19)


def test_list_item_positions() -> None:
    document, problems = load_yaml(NESTED, "orders.yaml")

    assert problems == []
    assert document.value_marks[("steps", 0)] == (6, 5)
    assert document.value_marks[("steps", 1)] == (8, 5)
    assert document.key_marks[("steps", 1, "id")] == (8, 5)
    assert document.value_marks[("steps", 1, "id")] == (8, 9)
    assert document.value_marks[("steps", 0, "tags", 1)] == (7, 15)


def test_position_prefers_value_or_key() -> None:
    document, _ = load_yaml(NESTED, "orders.yaml")

    assert document.position(("steps", 0, "tags")) == (7, 11)
    assert document.position(("steps", 0, "tags"), prefer_key=True) == (7, 5)


def test_position_falls_back_to_parent() -> None:
    document, _ = load_yaml(NESTED, "orders.yaml")

    assert document.position(("steps", 1, "action", "input")) == (8, 5)
    assert document.position(("settings",)) == (1, 1)


def test_problem_carries_file_and_position() -> None:
    document, _ = load_yaml(NESTED, "orders.yaml")

    assert document.problem(("trigger", "connector"), "unknown connector") == Problem("orders.yaml", 3, 14, "unknown connector")


def test_duplicate_key_keeps_first() -> None:
    text = "name: orders\nsteps: []\nname: copy\nname: again\n"

    document, problems = load_yaml(text, "orders.yaml")

    assert document.data == {"name": "orders", "steps": []}
    assert problems == [
        Problem("orders.yaml", 3, 1, "duplicate key 'name' (first defined on line 1); remove one of them"),
        Problem("orders.yaml", 4, 1, "duplicate key 'name' (first defined on line 1); remove one of them"),
    ]


def test_duplicate_nested_key() -> None:
    text = "trigger:\n  input:\n    object: orders\n    object: items\n"

    document, problems = load_yaml(text, "orders.yaml")

    assert document.data == {"trigger": {"input": {"object": "orders"}}}
    assert problems == [Problem("orders.yaml", 4, 5, "duplicate key 'object' (first defined on line 3); remove one of them")]


def test_int_and_bool_keys_distinct() -> None:
    document, problems = load_yaml("1: one\ntrue: yes\n", "codes.yaml")

    assert problems == []
    assert document.data == {1: "one", "true": True}


def test_dates_kept_as_text() -> None:
    text = "day: 2026-11-01\nmoment: 2026-11-01T09:15:00-05:00\nlocal: 2026-11-01 09:15:00\n"

    document, problems = load_yaml(text, "orders.yaml")

    assert problems == []
    assert document.data == {"day": "2026-11-01", "moment": "2026-11-01T09:15:00-05:00", "local": "2026-11-01 09:15:00"}


def test_other_scalars_typed() -> None:
    document, problems = load_yaml("count: 3\nprice: 19.99\nactive: true\nnote: null\n", "orders.yaml")

    assert problems == []
    assert document.data == {"count": 3, "price": 19.99, "active": True, "note": None}


def test_block_scalars_recorded() -> None:
    text = "literal: |\n  a\n  b\nfolded: >\n  a\nplain: a\n"

    document, _ = load_yaml(text, "orders.yaml")

    assert document.block_scalars == {("literal",): (2, 3), ("folded",): (5, 5)}
    assert document.raw_block(("literal",)) == "  a\n  b"


def test_merge_key_copies_entries() -> None:
    text = "base: &base\n  retries: 3\nstep:\n  <<: *base\n  then: fail\n"

    document, problems = load_yaml(text, "orders.yaml")

    assert problems == []
    assert document.data["step"] == {"retries": 3, "then": "fail"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    document, problems = load_yaml(text, "orders.yaml")

    assert document.data is None
    assert problems == [Problem("orders.yaml", 1, 1, "the file is empty; a recipe needs at least a name, a trigger and steps")]


def test_syntax_error_position() -> None:
    document, problems = load_yaml("name: orders\nsteps: [copy\n", "orders.yaml")

    assert document.data is None
    assert problems == [Problem("orders.yaml", 3, 1, "YAML syntax error: expected ',' or ']', but got '<stream end>'")]


def test_undefined_alias() -> None:
    document, problems = load_yaml("steps: *common\n", "orders.yaml")

    assert document.data is None
    assert problems == [Problem("orders.yaml", 1, 8, "YAML syntax error: found undefined alias 'common'")]
