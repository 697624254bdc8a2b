"""Recipe test cases: a given event, and the outcome a dry run of the recipe must plan for it.

A recipe `orders.yaml` keeps its cases beside it in `orders.cases.yaml`:

    cases:
      - name: order with one line
        event: {id: 1001, updated_at: "2026-11-02T09:15:00-05:00", ...}   # or event_file: events/1001.json
        given:                       # optional sandbox state, by connector
          memory: {orders: [...]}
        expect:
          status: succeeded          # succeeded, skipped or failed
          reason: "..."              # for skipped: the exact reason
          error: "..."               # for failed: text the error message contains
          writes:                    # every write the job plans, in order
            - step: sales_order
              action: memory.upsert
              payload: {...}         # the rendered input, exactly

Each case runs as a dry run against a fresh sandbox in a temporary folder: reads go to the
sandbox, writes are planned and compared, and nothing is kept.
"""

from __future__ import annotations

import difflib
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine import jsoncodec
from engine.connections import ConnectionBook
from engine.errors import ConfigurationError, EventInvalid
from engine.recipe import Recipe
from engine.registry import Registry
from engine.run import RecipeRun, open_connectors
from engine.store import SQLiteStore
from engine.validate import load_recipe

__all__ = ["CaseResult", "case_file_for", "load_cases", "run_cases", "run_case"]

CASES_SUFFIX = ".cases.yaml"


@dataclass
class CaseResult:
    recipe: str
    name: str
    passed: bool
    differences: list[str] = field(default_factory=list)

    def report(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.recipe}: {self.name}"
        return "\n".join([head, *("    " + line for text in self.differences for line in text.splitlines())])


def case_file_for(recipe_path: Path) -> Path:
    """Return where a recipe's cases live: `NAME.cases.yaml` beside `NAME.yaml`."""
    return recipe_path.with_name(recipe_path.name.rsplit(".", 1)[0] + CASES_SUFFIX)


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Read a cases file. Raises ConfigurationError naming the file and the case that is malformed."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigurationError(f"{where}: the cases file is not valid YAML") from None

    cases = document.get("cases") if isinstance(document, dict) else None
    if not isinstance(cases, list) or not cases:
        raise ConfigurationError(f"{path}: expected a list under 'cases'")
    for number, case in enumerate(cases, start=1):
        if not isinstance(case, dict) or not isinstance(case.get("name"), str):
            raise ConfigurationError(f"{path}: case {number} needs a 'name'")
        if ("event" in case) == ("event_file" in case):
            raise ConfigurationError(f"{path}: case '{case['name']}' needs exactly one of 'event' or 'event_file'")
        if not isinstance(case.get("expect"), dict) or case["expect"].get("status") not in ("succeeded", "skipped", "failed", "waiting"):
            raise ConfigurationError(f"{path}: case '{case['name']}' needs 'expect' with a status: succeeded, skipped, failed or waiting")
    return cases


def run_cases(recipe_path: Path, registry: Registry) -> list[CaseResult]:
    """Run every case of a recipe. Raises ConfigurationError or RecipeInvalid before any case runs."""
    recipe = load_recipe(recipe_path, registry)
    case_path = case_file_for(recipe_path)
    if not case_path.exists():
        raise ConfigurationError(f"{recipe_path} has no test cases; write them in {case_path.name} beside it (see docs/recipes.md)")
    return [run_case(recipe, registry, case, case_path.parent) for case in load_cases(case_path)]


def run_case(recipe: Recipe, registry: Registry, case: dict[str, Any], folder: Path) -> CaseResult:
    """Dry-run one case against a fresh sandbox and compare the outcome with its expectation."""
    payload = _event(case, folder)
    with tempfile.TemporaryDirectory(prefix="recipe-case-") as state_dir:
        for connector_name, given in (case.get("given") or {}).items():
            registry.get(connector_name).prepare_sandbox(state_dir, given)

        store = SQLiteStore(":memory:")
        try:
            with open_connectors(recipe, registry, ConnectionBook({}, "test cases", {}), True, Path(state_dir)) as (connectors, redactor):
                summary = RecipeRun(recipe, connectors, store, redactor, dry_run=True, sleep=lambda seconds: None).run_event(payload)
        finally:
            store.close()
            for name in recipe.connectors_used():
                registry.get(name).close_sandbox(state_dir)

    if not summary.jobs:
        return CaseResult(recipe.name, case["name"], False, ["the trigger condition left the event out, so no job ran"])
    job = summary.jobs[0]
    actual = {
        "status": job.status.value,
        "reason": job.reason,
        "error": (job.error or {}).get("message"),
        "writes": [_plain({"step": write.step, "action": f"{write.connector}.{write.action}", "payload": write.payload}) for write in summary.planned.get(job.id, [])],
    }
    return CaseResult(recipe.name, case["name"], *_compare(case["expect"], actual))


def _event(case: dict[str, Any], folder: Path) -> Any:
    if "event" in case:
        return case["event"]
    path = folder / case["event_file"]
    try:
        return jsoncodec.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"case '{case['name']}': event file {path} not found") from None
    except ValueError as error:
        raise EventInvalid(f"case '{case['name']}': event file {path} is not valid JSON: {error}") from None


def _plain(value: Any) -> Any:
    """Round-trip through exact JSON so Decimals compare with the numbers written in YAML."""
    return jsoncodec.loads(jsoncodec.dumps(value))


def _compare(expect: dict[str, Any], actual: dict[str, Any]) -> tuple[bool, list[str]]:
    differences = []
    if expect["status"] != actual["status"]:
        detail = actual["reason"] or actual["error"] or ""
        differences.append(f"status: expected {expect['status']}, got {actual['status']}" + (f" ({detail})" if detail else ""))
    if "reason" in expect and expect["reason"] != actual["reason"]:
        differences.append(f"reason: expected {expect['reason']!r}, got {actual['reason']!r}")
    if "error" in expect and str(expect["error"]) not in str(actual["error"] or ""):
        differences.append(f"error: expected a message containing {expect['error']!r}, got {actual['error']!r}")
    if "writes" in expect:
        wanted = _plain(expect["writes"] or [])
        if wanted != actual["writes"]:
            differences.append("writes differ (- expected, + planned):\n" + _diff(wanted, actual["writes"]))
    return not differences, differences


def _diff(expected: Any, actual: Any) -> str:
    def lines(value: Any) -> list[str]:
        return yaml.safe_dump(_yaml_safe(value), sort_keys=False, allow_unicode=True, default_flow_style=False).splitlines()

    return "\n".join(difflib.unified_diff(lines(expected), lines(actual), "expected", "planned", lineterm="", n=2))


def _yaml_safe(value: Any) -> Any:
    """Replace Decimals with their text so yaml.safe_dump can write them."""
    if isinstance(value, dict):
        return {key: _yaml_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_yaml_safe(item) for item in value]
    if isinstance(value, Decimal):
        # Numbers compare by value, so the diff shows 25.0 and 25.00 alike.
        return format(value.normalize(), "f")
    return value
