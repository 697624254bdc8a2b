"""The `recipe` commands for tools around recipes: connectors, connections, test cases, the sandbox, the schema."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click
import yaml

from engine.console import EXIT_CONFIGURATION, EXIT_FAILURE, EXIT_INVALID_RECIPE, EXIT_OK, EXIT_USAGE, fail
from engine.errors import ActionError, ConfigurationError, EventInvalid, RecipeInvalid
from engine.redact import Redactor
from engine.validate import recipe_files, recipe_schema

if TYPE_CHECKING:
    from engine.cli import Settings

__all__ = ["register_tool_commands"]


def register_tool_commands(group: click.Group) -> None:
    """Add `connectors`, `connections`, `test`, `sandbox` and `schema` to the `recipe` command group."""
    for command in (connectors, connections, test_cases, sandbox, schema):
        group.add_command(command)


def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    names = []
    for name, spec in schema.get("properties", {}).items():
        mark = "*" if name in required else ""
        secret = " (secret)" if spec.get("secret") else ""
        names.append(f"{name}{mark}{secret}")
    return ", ".join(names) or "-"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON, with the full input schemas.")
@click.pass_obj
def connectors(settings: Settings, as_json: bool) -> None:
    """List installed connectors with their triggers, actions and input fields (* marks required)."""
    registry = settings.registry
    documents = []
    for name in registry.names():
        try:
            connector = registry.get(name)
        except ConfigurationError as error:
            click.echo(f"{name}: {error}", err=True)
            continue
        documents.append(connector)

    if as_json:
        click.echo(json.dumps([
            {
                "name": connector.name, "title": connector.title, "connection": connector.connection_schema,
                "triggers": {name: {"description": spec.description, "input": spec.input_schema} for name, spec in connector.triggers.items()},
                "actions": {
                    name: {"description": spec.description, "access": spec.access.value, "input": spec.input_schema, "output": spec.output_schema}
                    for name, spec in connector.actions.items()
                },
            }
            for connector in documents
        ], indent=2))
        return

    for connector in documents:
        click.echo(f"{connector.name}: {connector.title}")
        click.echo(f"  connection: {_fields(connector.connection_schema)}")
        for name, spec in sorted(connector.triggers.items()):
            click.echo(f"  trigger {name}: {spec.description}")
            click.echo(f"      input: {_fields(spec.input_schema)}")
        for name, spec in sorted(connector.actions.items()):
            click.echo(f"  action  {name} ({spec.access.value}): {spec.description}")
            click.echo(f"      input: {_fields(spec.input_schema)}")
            if spec.output_schema.get("properties"):
                click.echo(f"      output: {_fields(spec.output_schema)}")


@click.command()
@click.option("--shopify-port", type=click.IntRange(0, 65535), default=8701, show_default=True, help="Port of the Shopify server (0 picks a free one).")
@click.option("--salesforce-port", type=click.IntRange(0, 65535), default=8702, show_default=True, help="Port of the Salesforce server (0 picks a free one).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated store and org, used when no state is saved yet.")
@click.option("--state", "state_path", type=click.Path(file_okay=False, path_type=Path), help="Folder the state is loaded from and saved to (default: the state directory).")
@click.option("--no-state", is_flag=True, help="Keep the state in memory only.")
@click.option("--extra-orders", type=click.IntRange(min=0), default=0, help="Generated orders added to the seed, for benchmarks.")
@click.option("--extra-items", type=click.IntRange(min=0), default=0, help="Generated ERP items added to the seed, for benchmarks.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Fixed latency added to every request, in milliseconds.")
@click.option("--jitter", type=click.FloatRange(min=0), default=0.0, help="Random extra latency up to this many milliseconds.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests answered with 500 or 503 (0 to 1).")
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests never answered (0 to 1).")
@click.pass_obj
def sandbox(settings: Settings, shopify_port: int, salesforce_port: int, seed: int, state_path: Path | None, no_state: bool,
            extra_orders: int, extra_items: int, latency: float, jitter: float, error_rate: float, timeout_rate: float) -> None:
    """Run the local Shopify and Salesforce servers in the foreground until Ctrl-C."""
    from connectors.sandbox.local import LocalSandbox
    from connectors.sandbox.server import Faults

    def faults() -> Faults:
        return Faults(latency=latency / 1000, jitter=jitter / 1000, error_share=error_rate, timeout_share=timeout_rate)

    state_dir = None if no_state else (state_path or settings.state_dir)
    try:
        local = LocalSandbox(state_dir, seed=seed, shopify_port=shopify_port, salesforce_port=salesforce_port,
                             shopify_faults=faults(), salesforce_faults=faults(), extra_orders=extra_orders, extra_items=extra_items)
    except OSError as error:
        fail(f"error: cannot start the sandbox: {error.strerror}; choose other ports with --shopify-port and --salesforce-port (0 picks free ones)", EXIT_CONFIGURATION)

    # The signal handlers stay in place while the servers stop and save, so a second Ctrl-C cannot cut the save short.
    with _stop_signals() as stopped, local:
        _print_sandbox(local, state_dir)
        stopped.wait()
    click.echo("sandbox stopped" + (f"; state saved in {state_dir / 'sandbox'}" if state_dir else ""))


def _print_sandbox(local: Any, state_dir: Path | None) -> None:
    click.echo(f"Shopify Admin API:   {local.shopify.base_url}/admin/api/{local.shopify.api_version}")
    click.echo(f"Salesforce REST API: {local.salesforce.base_url}/services/data/v62.0 (clients use {local.salesforce.instance_url})")
    click.echo(f"State: {state_dir / 'sandbox' if state_dir else 'in memory only'}")
    click.echo("\nConnections that reach it (fake sandbox credentials), for connections.yaml:\n")
    document = {
        "shopify": {"connector": "shopify", **local.shopify_settings()},
        "salesforce": {"connector": "salesforce", **local.salesforce_settings(login=True)},
    }
    click.echo(yaml.safe_dump(document, sort_keys=False).rstrip())
    click.echo("\nPress Ctrl-C to stop.")


@contextlib.contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """Yield an event that Ctrl-C (SIGINT) or SIGTERM sets, with the handlers in place from the start."""
    stopped = threading.Event()
    handlers = {number: signal.signal(number, lambda *_: stopped.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped
    finally:
        for number, previous in handlers.items():
            signal.signal(number, previous)


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def test_cases(settings: Settings, paths: tuple[Path, ...]) -> None:
    """Run recipes' test cases (NAME.cases.yaml beside NAME.yaml) as dry runs against a fresh sandbox."""
    from engine.cases import case_file_for, run_cases

    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        fail(f"error: {', '.join(missing)}: file or folder not found", EXIT_USAGE)
    recipes = [file for target in paths for file in recipe_files(target) if target.is_file() or case_file_for(file).exists()]
    if not recipes:
        fail(f"error: no recipe with test cases in {', '.join(str(path) for path in paths)}", EXIT_USAGE)

    results = []
    for recipe_path in recipes:
        try:
            results += run_cases(recipe_path, settings.registry)
        except RecipeInvalid as invalid:
            fail("\n".join(str(problem) for problem in invalid.problems), EXIT_INVALID_RECIPE)
        except (ConfigurationError, EventInvalid) as error:
            fail(f"error: {error}", EXIT_CONFIGURATION)
    for result in results:
        click.echo(result.report())

    failed = [result for result in results if not result.passed]
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(EXIT_FAILURE if failed else EXIT_OK)


@click.group()
def connections() -> None:
    """Check configured connections."""


@connections.command("test")
@click.argument("name")
@click.option("--connector", "connector_name", help="The connector, when the connection does not name one (default: a connector called NAME).")
@click.option("--sandbox", is_flag=True, help="Check the built-in sandbox for this connector instead.")
@click.pass_obj
def connections_test(settings: Settings, name: str, connector_name: str | None, sandbox: bool) -> None:
    """Make one cheap call with connection NAME and say what was reached, or what is wrong."""
    try:
        book = settings.book()
        chosen = connector_name or book.connector_of(name) or name
        if chosen not in settings.registry and not connector_name and book.connector_of(name) is None:
            raise ConfigurationError("it is not configured; add it to connections.yaml with its connector, or set RECIPE_<NAME>_CONNECTOR")
        connector_class = settings.registry.get(chosen)
        if sandbox or book.is_sandbox(name):
            values = connector_class.sandbox_settings(str(settings.state_dir))
            if values is None:
                fail(f"error: connector '{chosen}' has no sandbox", EXIT_CONFIGURATION)
            redactor = Redactor()
        else:
            connection = book.get(name, connector_class)
            values = connection.settings
            redactor = Redactor(connection.secrets(connector_class))
        with connector_class(values, name) as connector:
            reached = connector.check()
    except ConfigurationError as error:
        message = str(error)
        fail(f"error: {message}" if message.startswith(f"connection '{name}'") else f"error: connection '{name}': {message}", EXIT_CONFIGURATION)
    except ActionError as error:
        fail(f"error: connection '{name}' ({chosen}) failed its check: {redactor.text(str(error))}", EXIT_CONFIGURATION)
    click.echo(f"connection '{name}' ({chosen}) works: {redactor.text(reached)}")


@click.command()
def schema() -> None:
    """Print the recipe language's JSON Schema (point your editor's YAML plugin at it)."""
    click.echo(json.dumps(recipe_schema(), indent=2))
