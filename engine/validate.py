"""Check a recipe file completely and build the Recipe, reporting every problem in one pass.

Each problem points at the YAML node that is wrong (`file:line:column: message`) and names what
to change. The checks, in order: YAML syntax and duplicate keys, the JSON Schema of the recipe
language, then what the schema cannot see: connectors, triggers and actions that exist, action
inputs, step ids, the names each mapping uses, Jinja syntax, lookup files and schedules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

import jinja2
import jsonschema
from jinja2 import meta, nodes

from engine.connector import Connector
from engine.errors import ConfigurationError, Problem, RecipeInvalid
from engine.loader import Document, Path, load_yaml
from engine.lookup import LookupTable, LookupTables, read_csv_table
from engine.recipe import DEFAULT_BATCH_SIZE, ErrorPolicy, Recipe, Step, StepKind, TriggerConfig
from engine.registry import Registry, close_matches
from engine.render import MappingTemplate, Renderer, Template
from engine.schedule import parse_duration, parse_schedule

__all__ = ["load_recipe", "check_recipe", "validate_paths", "recipe_files", "recipe_schema", "CONTEXT_NAMES"]

# Names every mapping may use besides step ids and loop items.
CONTEXT_NAMES = ("trigger", "settings", "lookup", "none", "range")


def recipe_schema() -> dict[str, Any]:
    """Return the recipe language's JSON Schema, the file editors use for completion."""
    return json.loads(resources.files("engine").joinpath("recipe.schema.json").read_text(encoding="utf-8"))


_SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(recipe_schema())


_NOT_RECIPES = {"connections.yaml", "connections.yml"}


def recipe_files(target: FilePath) -> list[FilePath]:
    """Return the recipe files at a path: the file itself, or the YAML files directly in a folder.

    Test case files (`*.cases.yaml`) and a connections file beside the recipes are left out.
    """
    if target.is_dir():
        found = sorted(list(target.glob("*.yaml")) + list(target.glob("*.yml")))
        return [path for path in found if not path.name.endswith((".cases.yaml", ".cases.yml")) and path.name not in _NOT_RECIPES]
    return [target]


def validate_paths(targets: list[FilePath], registry: Registry) -> list[Problem]:
    """Check every recipe file at the given paths and return all problems found."""
    problems: list[Problem] = []
    for target in targets:
        if not target.exists():
            problems.append(Problem(str(target), 0, 0, "file or folder not found"))
            continue
        for path in recipe_files(target):
            problems.extend(check_recipe(path, registry)[1])
    return problems


def load_recipe(path: FilePath, registry: Registry) -> Recipe:
    """Load and check a recipe. Raises ConfigurationError when the file cannot be read, RecipeInvalid when it is wrong."""
    if not path.exists():
        raise ConfigurationError(f"recipe file {path} not found")
    recipe, problems = check_recipe(path, registry)
    if problems or recipe is None:
        raise RecipeInvalid(problems)
    return recipe


def check_recipe(path: FilePath, registry: Registry) -> tuple[Recipe | None, list[Problem]]:
    """Check one file; return the Recipe (None when anything is wrong) and the problems."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as error:
        return None, [Problem(str(path), 0, 0, f"cannot read the file: {error.strerror}")]
    except UnicodeDecodeError as error:
        return None, [Problem(str(path), 0, 0, f"the file is not UTF-8 text (byte {error.start})")]

    document, problems = load_yaml(text, str(path))
    if document.data is None:
        return None, problems
    if not isinstance(document.data, dict):
        return None, problems + [document.problem((), "a recipe must be a mapping with name, trigger and steps")]

    checker = _Checker(document, registry, FilePath(path))
    checker.check_schema()
    recipe = checker.build(hashlib.sha256(raw).hexdigest()[:12])
    problems += checker.problems
    problems.sort(key=lambda problem: (problem.line, problem.column))
    return (recipe if not problems else None), problems


@dataclass
class _StepInfo:
    id: str
    path: Path
    line: int
    order: int
    loop: str | None


def _where(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text or "the recipe"


class _Checker:
    def __init__(self, document: Document, registry: Registry, path: FilePath) -> None:
        self.document = document
        self.data: dict[str, Any] = document.data
        self.registry = registry
        self.path = path
        self.problems: list[Problem] = []
        self.renderer = Renderer()
        self.step_index: dict[str, _StepInfo] = {}
        self.schema_error_paths: list[Path] = []
        self._order = 0

    def add(self, path: Path, message: str, prefer_key: bool = False) -> None:
        self.problems.append(self.document.problem(path, message, prefer_key))

    # Schema ----------------------------------------------------------------------------------

    def check_schema(self) -> None:
        for error in _SCHEMA_VALIDATOR.iter_errors(self.data):
            self._report_schema_error(error)

    def has_schema_error(self, path: Path) -> bool:
        """Return whether the schema already reported a problem at or inside `path`."""
        return any(error_path[: len(path)] == path for error_path in self.schema_error_paths)

    def _report_schema_error(self, error: jsonschema.ValidationError) -> None:
        path: Path = tuple(error.absolute_path)
        self.schema_error_paths.append(path)
        where = _where(path)

        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                self.add(path + (key,), f"unknown key '{key}' in {where}.{close_matches(key, allowed)} Allowed keys: {', '.join(allowed)}", prefer_key=True)
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            self.add(path, f"{where} is missing the required key '{missing}'", prefer_key=True)
        elif error.validator == "oneOf" and len(path) >= 2 and path[-2] == "steps":
            self.add(path, f"{where}: a step needs exactly one of: 'action' (with 'input'), 'for_each' with 'steps', 'stop' with 'reason', or 'compose'")
        elif error.validator == "oneOf" and path and path[-1] == "schedule":
            self.add(path, f"invalid schedule {error.instance!r}; write 'every 30s', 'every 5m', or {{cron: '0 * * * *', timezone: 'Europe/Berlin'}}")
        elif error.validator == "oneOf" and len(path) >= 2 and path[-2] == "lookups":
            self.add(path, f"{where}: a lookup table needs 'entries', or 'file' and 'key'")
        elif error.validator == "oneOf" and path and path[-1] in ("initial", "max"):
            self.add(path, f"invalid duration {error.instance!r} in {where}; write seconds, or text such as 500ms, 30s, 5m or 1h")
        elif error.validator == "pattern" and path == ("name",):
            self.add(path, f"invalid recipe name {error.instance!r}; use lowercase letters, digits and dashes, starting with a letter or digit")
        elif error.validator == "pattern" and path and path[-1] == "id":
            self.add(path, f"invalid step id {error.instance!r}; use letters, digits and underscores, starting with a letter (it is used as a name in mappings)")
        elif error.validator == "pattern" and path and path[-1] == "action":
            self.add(path, f"invalid action {error.instance!r}; write connector.action, for example salesforce.upsert")
        elif error.validator == "minItems" and path and path[-1] == "steps":
            self.add(path, f"{where} must list at least one step")
        elif error.validator in ("propertyNames", "pattern") and path == ("lookups",):
            self.add(path, f"invalid lookup table name {error.instance!r}; use letters, digits and underscores, starting with a letter")
        elif error.validator == "minimum" and path == ("concurrency",):
            self.add(path, f"concurrency must be 1 or more, not {error.instance!r}")
        elif error.validator == "type":
            self.add(path, f"{where} must be {_article(error.validator_value)}, not {_json_type(error.instance)}")
        elif error.validator == "enum":
            choices = ", ".join(repr(choice) for choice in error.validator_value)
            self.add(path, f"{where} must be one of {choices}, not {error.instance!r}")
        else:
            self.add(path, f"{where}: {error.message}")

    # Build -----------------------------------------------------------------------------------

    def build(self, content_hash: str) -> Recipe | None:
        data = self.data
        lookups = self._lookups(data.get("lookups"))
        self.renderer = Renderer(lookups)

        policy = self._policy(ErrorPolicy(), data.get("on_error"), ("on_error",))
        trigger = self._trigger(data.get("trigger"))

        steps: list[Step] = []
        if isinstance(data.get("steps"), list):
            self._index_steps(data["steps"], ("steps",), loop=None)
            steps = self._steps(data["steps"], ("steps",), visible=set(), loop_items=[], policy=policy)

        if self.problems or trigger is None or not isinstance(data.get("name"), str):
            return None
        return Recipe(
            name=data["name"],
            path=self.path,
            content_hash=content_hash,
            trigger=trigger,
            steps=steps,
            renderer=self.renderer,
            description=data.get("description", ""),
            enabled=data.get("enabled", True),
            connections=dict(data.get("connections") or {}),
            settings=dict(data.get("settings") or {}),
            lookups=lookups,
            policy=policy,
            concurrency=data.get("concurrency", 1),
        )

    def _policy(self, base: ErrorPolicy, override: Any, path: Path) -> ErrorPolicy:
        if not isinstance(override, dict) or self.has_schema_error(path):
            return base
        return base.merged(override)

    def _lookups(self, section: Any) -> LookupTables:
        tables: dict[str, LookupTable] = {}
        if not isinstance(section, dict):
            return LookupTables()

        for name, spec in section.items():
            if not isinstance(spec, dict):
                continue
            if isinstance(spec.get("entries"), dict):
                tables[name] = LookupTable(name, {str(key).strip(): value for key, value in spec["entries"].items()})
            elif isinstance(spec.get("file"), str) and isinstance(spec.get("key"), str):
                file = self.path.parent / spec["file"]
                if not file.is_file():
                    self.add(("lookups", name, "file"), f"lookup file '{spec['file']}' not found next to the recipe (looked for {file})")
                    continue
                try:
                    tables[name] = read_csv_table(name, file, spec["key"], spec.get("value"))
                except (ValueError, UnicodeDecodeError, OSError) as error:
                    self.add(("lookups", name, "file"), f"lookup table '{name}' is malformed: {error}")
        return LookupTables(tables)

    def _connector(self, name: Any, path: Path) -> type[Connector] | None:
        if not isinstance(name, str):
            return None
        if name not in self.registry:
            self.add(path, f"unknown connector '{name}'.{close_matches(name, self.registry.names())} Installed: {', '.join(self.registry.names()) or 'none'}")
            return None
        try:
            return self.registry.get(name)
        except ConfigurationError as error:
            self.add(path, str(error))
            return None

    def _trigger(self, section: Any) -> TriggerConfig | None:
        if not isinstance(section, dict):
            return None
        path: Path = ("trigger",)
        connector = self._connector(section.get("connector"), path + ("connector",))
        event = section.get("event")

        if connector is not None and isinstance(event, str):
            if event not in connector.triggers:
                choices = sorted(connector.triggers)
                self.add(path + ("event",), f"connector '{connector.name}' has no trigger '{event}'.{close_matches(event, choices)} Triggers: {', '.join(choices) or 'none'}")
            else:
                self._check_inputs(section.get("input") or {}, connector.triggers[event].input_schema, path + ("input",), f"trigger '{connector.name}.{event}'", path)

        schedule = None
        if "schedule" in section and not self.has_schema_error(path + ("schedule",)):
            try:
                schedule = parse_schedule(section["schedule"])
            except ValueError as error:
                where = path + ("schedule", "timezone") if str(error).startswith("unknown time zone") else path + ("schedule",)
                self.add(where, str(error))

        since = None if self.has_schema_error(path + ("since",)) else self._since(section.get("since"), path + ("since",))
        condition = self._template(section.get("when"), path + ("when",), set(), [])

        if connector is None or not isinstance(event, str):
            return None
        inputs = section.get("input") if isinstance(section.get("input"), dict) else {}
        config = TriggerConfig(connector=connector.name, event=event, input=dict(inputs), since=since, condition=condition)
        if schedule is not None:
            config.schedule = schedule
        config.batch_size = section.get("batch_size", DEFAULT_BATCH_SIZE)
        config.batch = bool(section.get("batch", False))
        return config

    def _since(self, value: Any, path: Path) -> datetime | None:
        if value is None:
            return None
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.add(path, f"invalid since {text!r}; write an ISO 8601 date (2026-11-01) or date-time with a zone (2026-11-01T00:00:00-05:00)")
            return None
        if moment.tzinfo is None:
            self.add(path, f"since {text!r} has no time zone; add one, for example {text}Z or {text}-05:00")
            return None
        return moment

    def _check_inputs(self, inputs: Any, schema: dict[str, Any], path: Path, owner: str, owner_path: Path) -> None:
        if not isinstance(inputs, dict):
            return
        properties = schema.get("properties", {})
        if properties and schema.get("additionalProperties", False) is False:
            for key in inputs:
                if key not in properties:
                    self.add(path + (key,), f"unknown input '{key}' for {owner}.{close_matches(str(key), list(properties))} Inputs: {', '.join(sorted(properties))}", prefer_key=True)
        for key in schema.get("required", []):
            if key not in inputs:
                self.add(path if path in self.document.key_marks else owner_path, f"missing required input '{key}' for {owner}", prefer_key=True)

    # Steps -----------------------------------------------------------------------------------

    def _index_steps(self, steps: list[Any], path: Path, loop: str | None) -> None:
        for index, step in enumerate(steps):
            if not isinstance(step, dict) or not isinstance(step.get("id"), str):
                continue
            step_path = path + (index,)
            step_id = step["id"]
            line = self.document.position(step_path + ("id",))[0]
            if step_id in self.step_index:
                first = self.step_index[step_id].line
                self.add(step_path + ("id",), f"duplicate step id '{step_id}' (first used on line {first}); step ids must be unique in a recipe")
            else:
                self._order += 1
                self.step_index[step_id] = _StepInfo(step_id, step_path, line, self._order, loop)
            if isinstance(step.get("steps"), list):
                self._index_steps(step["steps"], step_path + ("steps",), loop=step_id)

    def _steps(self, steps: list[Any], path: Path, visible: set[str], loop_items: list[str], policy: ErrorPolicy) -> list[Step]:
        built: list[Step] = []
        seen = set(visible)
        for index, data in enumerate(steps):
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                continue
            step = self._step(data, path + (index,), seen, loop_items, policy)
            if step is not None:
                built.append(step)
            seen.add(data["id"])
        return built

    def _step(self, data: dict[str, Any], path: Path, visible: set[str], loop_items: list[str], policy: ErrorPolicy) -> Step | None:
        line = self.document.position(path)[0]
        step = Step(id=data["id"], kind=StepKind.ACTION, line=line)
        step.condition = self._template(data.get("if"), path + ("if",), visible, loop_items)
        step.policy = self._policy(policy, data.get("on_error"), path + ("on_error",))

        if "action" in data and isinstance(data["action"], str) and "." in data["action"]:
            connector_name, action_name = data["action"].split(".", 1)
            step.connector, step.action = connector_name, action_name
            connector = self._connector(connector_name, path + ("action",))
            if connector is not None:
                if action_name not in connector.actions:
                    choices = sorted(connector.actions)
                    self.add(path + ("action",), f"connector '{connector_name}' has no action '{action_name}'.{close_matches(action_name, choices)} Actions: {', '.join(choices)}")
                else:
                    spec = connector.actions[action_name]
                    self._check_inputs(data.get("input") or {}, spec.input_schema, path + ("input",), f"action '{data['action']}'", path)
            step.input = self._mapping(data.get("input") or {}, path + ("input",), visible, loop_items)
            return step

        if "for_each" in data:
            step.kind = StepKind.FOR_EACH
            step.items = self._template(data["for_each"], path + ("for_each",), visible, loop_items)
            step.item_name = data.get("as", "item")
            if isinstance(data.get("steps"), list):
                step.steps = self._steps(data["steps"], path + ("steps",), visible, loop_items + [step.item_name], policy)
            return step

        if "compose" in data:
            step.kind = StepKind.COMPOSE
            step.input = self._mapping(data["compose"], path + ("compose",), visible, loop_items)
            return step

        if "stop" in data:
            step.kind = StepKind.STOP
            step.stop_status = data["stop"]
            step.reason = self._template(data.get("reason", ""), path + ("reason",), visible, loop_items)
            self._retry_timing(step, data, path)
            return step
        return None

    def _retry_timing(self, step: Step, data: dict[str, Any], path: Path) -> None:
        for key in ("retry_after", "give_up_after"):
            if key not in data or self.has_schema_error(path + (key,)):
                continue
            if data["stop"] != "retry":
                self.add(path + (key,), f"'{key}' only applies to 'stop: retry'", prefer_key=True)
                continue
            setattr(step, key, parse_duration(data[key]))

    # Templates -------------------------------------------------------------------------------

    def _mapping(self, value: Any, path: Path, visible: set[str], loop_items: list[str]) -> MappingTemplate:
        def walk(item: Any, item_path: Path) -> Any:
            if isinstance(item, dict):
                return {key: walk(child, item_path + (key,)) for key, child in item.items()}
            if isinstance(item, list):
                return [walk(child, item_path + (index,)) for index, child in enumerate(item)]
            if isinstance(item, str):
                return self._template(item, item_path, visible, loop_items)
            return item

        return MappingTemplate(walk(value, path))

    def _template(self, source: Any, path: Path, visible: set[str], loop_items: list[str]) -> Template | None:
        if source is None:
            return None
        try:
            template = self.renderer.compile(source)
        except jinja2.TemplateSyntaxError as error:
            line, column = self._syntax_error_position(path, error)
            self.problems.append(Problem(self.document.file, line, column, self._syntax_message(path, error)))
            return None
        if template.kind != "constant":
            tree = self.renderer.environment.parse(template.source)
            self._check_names(tree, path, visible, loop_items)
            self._check_lookups_and_settings(tree, path)
        return template

    def _syntax_message(self, path: Path, error: jinja2.TemplateSyntaxError) -> str:
        message = error.message or "invalid template"
        for kind, known in (("filter", self.renderer.environment.filters), ("test", self.renderer.environment.tests)):
            prefix = f"No {kind} named '"
            if message.startswith(prefix):
                name = message[len(prefix):].split("'", 1)[0]
                return f"unknown {kind} '{name}' in {_where(path)}.{close_matches(name, list(known))}"
        return f"Jinja syntax error in {_where(path)}: {message}"

    def _check_lookups_and_settings(self, tree: nodes.Template, path: Path) -> None:
        """Check constant lookup table names and `settings.NAME` reads against this recipe."""
        tables = sorted(self.renderer.lookups.tables)
        for table in _lookup_table_names(tree):
            if table not in tables:
                self.add(path, f"unknown lookup table '{table}' in {_where(path)}.{close_matches(table, tables)} Tables in this recipe: {', '.join(tables) or 'none'}")

        settings = self.data.get("settings") if isinstance(self.data.get("settings"), dict) else {}
        for name in _settings_names(tree):
            if name not in settings:
                self.add(path, f"unknown setting '{name}' in {_where(path)}.{close_matches(name, list(settings))} Settings in this recipe: {', '.join(sorted(settings)) or 'none'}")

    def _syntax_error_position(self, path: Path, error: jinja2.TemplateSyntaxError) -> tuple[int, int]:
        line, column = self.document.position(path)
        if path not in self.document.block_scalars:
            return line + (error.lineno or 1) - 1, column if (error.lineno or 1) == 1 else 1

        # YAML folds and unindents a block before Jinja parses it, so find the line in the block as written.
        first_line, _ = self.document.block_scalars[path]
        try:
            self.renderer.environment.parse(self.document.raw_block(path))
        except jinja2.TemplateSyntaxError as raw_error:
            return first_line + (raw_error.lineno or 1) - 1, 1
        return first_line + (error.lineno or 1) - 1, 1

    def _check_names(self, tree: nodes.Template, path: Path, visible: set[str], loop_items: list[str]) -> None:
        names = meta.find_undeclared_variables(tree)
        loop_names = {"loop", *loop_items} if loop_items else set()
        allowed = set(CONTEXT_NAMES) | set(self.renderer.environment.globals) | loop_names | visible
        for name in sorted(names - allowed):
            info = self.step_index.get(name)
            if name == "loop" and info is None:
                self.add(path, f"'loop' in {_where(path)} is only available inside a for_each")
            elif info is None:
                available = sorted(set(CONTEXT_NAMES) | loop_names | visible)
                self.add(path, f"unknown name '{name}' in {_where(path)}.{close_matches(name, available)} Names available here: {', '.join(available)}")
            elif info.loop is not None and not self._inside_loop(path, info):
                self.add(path, f"'{name}' is a step inside the for_each '{info.loop}'; outside that loop use '{info.loop}', the list of each item's outputs")
            else:
                self.add(path, f"'{name}' refers to step '{name}' on line {info.line}, which has not run yet at this point; a mapping can only use steps before it")

    def _inside_loop(self, path: Path, info: _StepInfo) -> bool:
        loop_path = info.path[:-2]
        return path[: len(loop_path)] == loop_path


def _lookup_table_names(tree: nodes.Template) -> list[str]:
    """Return the table names given as constants to `lookup(table, key)` and `key | lookup(table)`."""
    names = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "lookup" and call.args and isinstance(call.args[0], nodes.Const):
            names.append(str(call.args[0].value))
    for applied in tree.find_all(nodes.Filter):
        if applied.name == "lookup" and applied.args and isinstance(applied.args[0], nodes.Const):
            names.append(str(applied.args[0].value))
    return names


def _settings_names(tree: nodes.Template) -> list[str]:
    """Return the names read as `settings.NAME` or `settings['NAME']`."""
    names = []
    for read in tree.find_all(nodes.Getattr):
        if isinstance(read.node, nodes.Name) and read.node.name == "settings":
            names.append(read.attr)
    for read in tree.find_all(nodes.Getitem):
        if isinstance(read.node, nodes.Name) and read.node.name == "settings" and isinstance(read.arg, nodes.Const):
            names.append(str(read.arg.value))
    return names


def _article(kind: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false"}
    if isinstance(kind, list):
        return " or ".join(names.get(item, item) for item in kind)
    return names.get(kind, str(kind))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"the text {value!r}"

