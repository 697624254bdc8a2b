"""The `recipe` command line. The only module that prints or chooses exit codes.

Exit codes: 0 every job succeeded or was skipped; 1 a job or a poll failed; 2 usage error;
3 invalid recipe; 4 connection or configuration problem.
"""

from __future__ import annotations

import json
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, NoReturn

import click
import yaml

from engine import jsoncodec
from engine.connections import ConnectionBook
from engine.errors import ActionError, ConfigurationError, EventInvalid, RecipeInvalid
from engine.lock import read_owner
from engine.recipe import Recipe
from engine.redact import Redactor
from engine.registry import Registry
from engine.run import PollFailed, RecipeRun, RunSummary, open_connectors
from engine.store import JobRecord, JobStatus, SQLiteStore
from engine.validate import load_recipe, recipe_files, recipe_schema, validate_paths

__all__ = ["main", "cli"]

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_INVALID_RECIPE, EXIT_CONFIGURATION = 0, 1, 2, 3, 4

EPILOG = """\b
Exit codes:
  0  every job succeeded or was skipped
  1  a job failed, or the trigger's poll failed
  2  usage error
  3  invalid recipe
  4  connection or configuration problem
"""


class Settings:
    def __init__(self, state_dir: Path, connections: str | None) -> None:
        self.state_dir = state_dir
        self.connections = connections
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry()
        return self._registry

    def store(self) -> SQLiteStore:
        return SQLiteStore.in_state_dir(self.state_dir)

    def book(self) -> ConnectionBook:
        return ConnectionBook.load(self.connections)


def _exit(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _load(settings: Settings, path: Path) -> Recipe:
    if not path.is_file():
        _exit(f"error: recipe file {path} not found", EXIT_USAGE)
    try:
        return load_recipe(path, settings.registry)
    except RecipeInvalid as invalid:
        _exit("\n".join(str(problem) for problem in invalid.problems), EXIT_INVALID_RECIPE)
    except ConfigurationError as error:
        _exit(f"error: {error}", EXIT_CONFIGURATION)


@click.group(epilog=EPILOG)
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), envvar="RECIPE_STATE_DIR", default=Path(".recipe"),
              show_default=True, help="Folder for the job store, cursors and sandbox data (env RECIPE_STATE_DIR).")
@click.option("--connections", "connections", type=click.Path(dir_okay=False), default=None,
              help="Connections file (env RECIPE_CONNECTIONS; default ./connections.yaml).")
@click.option("-v", "--verbose", count=True, help="Log to stderr: -v for jobs and steps, -vv for debug.")
@click.pass_context
def cli(context: click.Context, state_dir: Path, connections: str | None, verbose: int) -> None:
    """Run YAML recipes that keep Shopify and an Ascent ERP org in Salesforce in step."""
    if verbose:
        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    context.obj = Settings(state_dir, connections)


# validate --------------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def validate(settings: Settings, paths: tuple[Path, ...]) -> None:
    """Check recipe files (or folders of them); print every problem as file:line:column: message."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        _exit(f"error: {', '.join(missing)}: file or folder not found", EXIT_USAGE)
    problems = validate_paths(list(paths), settings.registry)
    found = [file for target in paths for file in recipe_files(target)]
    if not problems and not found:
        _exit(f"error: no recipe files (*.yaml, *.yml) in {', '.join(str(path) for path in paths)}", EXIT_USAGE)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        files = len({problem.path for problem in problems})
        click.echo(f"{len(problems)} problem(s) in {files} file(s)", err=True)
        sys.exit(EXIT_INVALID_RECIPE)
    click.echo("all recipes are valid", err=True)


# run / dry-run / replay ------------------------------------------------------------------------


def _progress(done: int, total: int | None) -> None:
    if sys.stderr.isatty() and total and total >= 20:
        click.echo(f"\r  {done}/{total} events", err=True, nl=False)


def _execute(settings: Settings, recipe_path: Path, sandbox: bool, dry_run: bool, action: str, argument: Any = None) -> RunSummary:
    recipe = _load(settings, recipe_path)
    owner = None if dry_run else read_owner(settings.state_dir)
    if owner is not None:
        _exit(
            f"error: `recipe start` ({owner.describe()}) is running on the state directory {settings.state_dir}; "
            "stop it first, or use `recipe dry-run`, which changes nothing",
            EXIT_CONFIGURATION,
        )
    store_file = settings.state_dir / SQLiteStore.FILE_NAME
    # A dry run on a fresh state directory has no history to read and must not create one.
    store = SQLiteStore(":memory:") if dry_run and not store_file.exists() else settings.store()
    try:
        with open_connectors(recipe, settings.registry, settings.book(), sandbox, settings.state_dir) as (connectors, redactor):
            run = RecipeRun(recipe, connectors, store, redactor, dry_run=dry_run, progress=_progress)
            if action == "event":
                return run.run_event(argument)
            if action == "replay":
                return run.replay(argument)
            return run.poll_and_run(argument)
    except ConfigurationError as error:
        _exit(f"error: {error}", EXIT_CONFIGURATION)
    except EventInvalid as error:
        _exit(f"error: {error}", EXIT_USAGE)
    except PollFailed as failed:
        _exit(f"error: polling {recipe.trigger.connector}.{recipe.trigger.event} failed: {failed.error}. Nothing was run; the cursor did not move.", EXIT_JOB_FAILED)
    finally:
        store.close()


def _read_event(path: Path) -> Any:
    try:
        return jsoncodec.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _exit(f"error: event file {path} not found", EXIT_USAGE)
    except (ValueError, UnicodeDecodeError) as error:
        _exit(f"error: event file {path} is not valid JSON: {error}", EXIT_USAGE)


@cli.command()
@click.argument("recipe_path", metavar="RECIPE", type=click.Path(path_type=Path))
@click.option("--event", "event_path", type=click.Path(dir_okay=False, path_type=Path), help="Run one job from this JSON event instead of polling.")
@click.option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of configured connections.")
@click.option("--max-events", type=click.IntRange(min=1), help="Stop polling after this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def run(settings: Settings, recipe_path: Path, event_path: Path | None, sandbox: bool, max_events: int | None, as_json: bool) -> None:
    """Poll the trigger, run one job per new event, and print a summary."""
    if event_path is not None:
        summary = _execute(settings, recipe_path, sandbox, False, "event", _read_event(event_path))
    else:
        summary = _execute(settings, recipe_path, sandbox, False, "poll", max_events)
    _print_summary(summary, settings, as_json, dry_run=False)


@cli.command("dry-run")
@click.argument("recipe_path", metavar="RECIPE", type=click.Path(path_type=Path))
@click.option("--event", "event_path", type=click.Path(dir_okay=False, path_type=Path), help="Plan one job from this JSON event instead of polling.")
@click.option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of configured connections.")
@click.option("--max-events", type=click.IntRange(min=1), help="Stop polling after this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def dry_run(settings: Settings, recipe_path: Path, event_path: Path | None, sandbox: bool, max_events: int | None, as_json: bool) -> None:
    """Do the reads, and print each write with its rendered payload instead of sending it."""
    if event_path is not None:
        summary = _execute(settings, recipe_path, sandbox, True, "event", _read_event(event_path))
    else:
        summary = _execute(settings, recipe_path, sandbox, True, "poll", max_events)
    _print_summary(summary, settings, as_json, dry_run=True)


@cli.command()
@click.argument("job_id", type=int)
@click.option("--recipe", "recipe_path", type=click.Path(path_type=Path), help="Recipe file to use (default: the file the job's recipe last ran from).")
@click.option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of configured connections.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def replay(settings: Settings, job_id: int, recipe_path: Path | None, sandbox: bool, as_json: bool) -> None:
    """Run a recorded job's event again through the current recipe, as a new job."""
    if recipe_path is None:
        store = settings.store()
        job = store.get_job(job_id)
        path = store.recipe_path(job.recipe) if job else None
        store.close()
        if job is None:
            _exit(f"error: job {job_id} not found; `recipe jobs` lists the jobs", EXIT_USAGE)
        if path is None:
            _exit(f"error: the file of recipe '{job.recipe}' is not known; pass it with --recipe", EXIT_USAGE)
        recipe_path = Path(path)
    summary = _execute(settings, recipe_path, sandbox, False, "replay", job_id)
    _print_summary(summary, settings, as_json, dry_run=False)


def _job_line(job: JobRecord) -> str:
    text = f"  {job.status.value:<9} job {job.id:<5} event {job.event_label}"
    if job.reason:
        text += f": {job.reason}"
    if job.error:
        text += f": {job.error.get('message', '')}"
    return text


def _print_summary(summary: RunSummary, settings: Settings, as_json: bool, dry_run: bool) -> None:
    if as_json:
        click.echo(jsoncodec.dumps(_summary_document(summary, dry_run), indent=2))
    else:
        _print_summary_text(summary, settings, dry_run)
    sys.exit(EXIT_JOB_FAILED if summary.failed else EXIT_OK)


def _summary_document(summary: RunSummary, dry_run: bool) -> dict[str, Any]:
    jobs = []
    for job in summary.jobs:
        entry: dict[str, Any] = {"id": None if dry_run else job.id, "event": job.event_label, "status": job.status.value, "reason": job.reason, "error": job.error}
        if dry_run:
            entry["planned_writes"] = [vars(write) for write in summary.planned.get(job.id, [])]
        jobs.append(entry)
    return {
        "recipe": summary.recipe,
        "dry_run": dry_run,
        "jobs": jobs,
        "counts": {status.value: len(summary.with_status(status)) for status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.FAILED)},
        "already_processed": len(summary.already_done),
        "filtered_by_condition": summary.filtered,
        "more_waiting": summary.more_waiting,
    }


def _print_summary_text(summary: RunSummary, settings: Settings, dry_run: bool) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    if dry_run:
        _print_plan(summary)

    succeeded, skipped, failed = (summary.with_status(status) for status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.FAILED))
    verb = "would run" if dry_run else "ran"
    if not summary.jobs and not summary.already_done and not summary.filtered:
        click.echo(f"{summary.recipe}: no new events")
        return
    click.echo(f"{summary.recipe}: {verb} {len(summary.jobs)} job(s): {len(succeeded)} succeeded, {len(skipped)} skipped, {len(failed)} failed")
    if summary.already_done:
        click.echo(f"  {len(summary.already_done)} event(s) already processed earlier, not run again (use `recipe replay JOB` to run one again)")
    if summary.filtered:
        click.echo(f"  {summary.filtered} event(s) left out by the trigger condition")
    for job in skipped + failed:
        click.echo(_job_line(job) if not dry_run else _job_line(job).replace(f"job {job.id:<5} ", ""))
    if summary.more_waiting:
        click.echo("  more events are waiting; run again to continue")
    if dry_run:
        click.echo("Dry run: nothing was written, and no job or cursor was stored.")
    elif summary.jobs:
        click.echo(f"Details: `recipe job ID` (store: {settings.state_dir / SQLiteStore.FILE_NAME})")


def _print_plan(summary: RunSummary) -> None:
    for job in summary.jobs:
        writes = summary.planned.get(job.id, [])
        click.echo(f"event {job.event_label}: {job.status.value}, {len(writes)} write(s) held back")
        for write in writes:
            target = f" {write.target}" if write.target else ""
            click.echo(f"  {write.step}: {write.connector}.{write.action}{target}")
            for line in jsoncodec.dumps(write.payload, indent=2).splitlines():
                click.echo(f"    {line}")


# jobs / job --------------------------------------------------------------------------------------


@cli.command()
@click.option("--recipe", "recipe_name", help="Only jobs of this recipe (its name).")
@click.option("--status", type=click.Choice([status.value for status in JobStatus]), help="Only jobs with this status.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Most recent jobs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def jobs(settings: Settings, recipe_name: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List recorded jobs, newest first."""
    store = settings.store()
    found = store.list_jobs(recipe_name, JobStatus(status) if status else None, limit)
    store.close()
    if as_json:
        click.echo(jsoncodec.dumps([_job_document(job) for job in found], indent=2))
        return
    if not found:
        click.echo("no jobs match" if recipe_name or status else "no jobs recorded")
        return
    click.echo(f"{'ID':>5}  {'RECIPE':<28} {'STATUS':<9} {'CREATED (UTC)':<19}  EVENT / REASON")
    for job in found:
        note = job.reason or (job.error or {}).get("message", "")
        created = job.created_at[:19].replace("T", " ")
        click.echo(f"{job.id:>5}  {job.recipe:<28} {job.status.value:<9} {created:<19}  {job.event_label}{'  ' + note if note else ''}")


def _job_document(job: JobRecord) -> dict[str, Any]:
    document = {key: value for key, value in vars(job).items() if key != "event"}
    document["status"] = job.status.value
    return document


@cli.command()
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--event", "show_event", is_flag=True, help="Also print the trigger event.")
@click.pass_obj
def job(settings: Settings, job_id: int, as_json: bool, show_event: bool) -> None:
    """Show one job: each step's rendered input, output, error, attempts and time."""
    store = settings.store()
    record = store.get_job(job_id)
    steps = store.steps(job_id) if record else []
    store.close()
    if record is None:
        _exit(f"error: job {job_id} not found; `recipe jobs` lists the jobs", EXIT_USAGE)

    if as_json:
        document = _job_document(record)
        document["event"] = record.event
        document["steps"] = [dict(vars(step), status=step.status.value) for step in steps]
        click.echo(jsoncodec.dumps(document, indent=2))
        return

    click.echo(f"job {record.id}  recipe {record.recipe} ({record.recipe_hash})  event {record.event_label}")
    status_line = f"status {record.status.value}"
    if record.reason:
        status_line += f": {record.reason}"
    if record.replay_of:
        status_line += f"  replay of job {record.replay_of}"
    click.echo(status_line)
    click.echo(f"created {record.created_at}  started {record.started_at or '-'}  finished {record.finished_at or '-'}  round trips {record.round_trips}")
    if record.error:
        click.echo(f"error: {json.dumps(record.error, ensure_ascii=False)}")
    for step in steps:
        click.echo(f"\n[{step.status.value}] {step.path}  attempts {step.attempts}  {step.duration_ms:.1f} ms  round trips {step.round_trips}")
        for title, value in (("input", step.input), ("output", step.output), ("error", step.error)):
            if value is not None:
                click.echo(f"  {title}:")
                for line in jsoncodec.dumps(value, indent=2).splitlines():
                    click.echo(f"    {line}")
    if show_event:
        click.echo("\nevent:")
        click.echo(jsoncodec.dumps(record.event, indent=2))


# connectors ------------------------------------------------------------------------------------


def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    names = []
    for name, spec in schema.get("properties", {}).items():
        mark = "*" if name in required else ""
        secret = " (secret)" if spec.get("secret") else ""
        names.append(f"{name}{mark}{secret}")
    return ", ".join(names) or "-"


@cli.command()
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


@cli.command()
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
        _exit(f"error: cannot start the sandbox: {error.strerror}; choose other ports with --shopify-port and --salesforce-port (0 picks free ones)", EXIT_CONFIGURATION)

    with local, _stop_signals() as stopped:
        _print_sandbox(local, state_dir)
        stopped.wait()
    click.echo("sandbox stopped" + (f"; state saved in {state_dir}" if state_dir else ""))


def _print_sandbox(local: Any, state_dir: Path | None) -> None:
    click.echo(f"Shopify Admin API:   {local.shopify.base_url}/admin/api/{local.shopify.api_version}")
    click.echo(f"Salesforce REST API: {local.salesforce.base_url}/services/data/v62.0 (clients use {local.salesforce.instance_url})")
    click.echo(f"State: {state_dir or 'in memory only'}")
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


@cli.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def test_cases(settings: Settings, paths: tuple[Path, ...]) -> None:
    """Run recipes' test cases (NAME.cases.yaml beside NAME.yaml) as dry runs against a fresh sandbox."""
    from engine.cases import case_file_for, run_cases

    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        _exit(f"error: {', '.join(missing)}: file or folder not found", EXIT_USAGE)
    recipes = [file for target in paths for file in recipe_files(target) if target.is_file() or case_file_for(file).exists()]
    if not recipes:
        _exit(f"error: no recipe with test cases in {', '.join(str(path) for path in paths)}", EXIT_USAGE)

    results = []
    for recipe_path in recipes:
        try:
            results += run_cases(recipe_path, settings.registry)
        except RecipeInvalid as invalid:
            _exit("\n".join(str(problem) for problem in invalid.problems), EXIT_INVALID_RECIPE)
        except (ConfigurationError, EventInvalid) as error:
            _exit(f"error: {error}", EXIT_CONFIGURATION)
    for result in results:
        click.echo(result.report())

    failed = [result for result in results if not result.passed]
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(EXIT_JOB_FAILED if failed else EXIT_OK)


@cli.group()
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
            raise ConfigurationError(f"it is not configured; add it to connections.yaml with its connector, or set RECIPE_<NAME>_CONNECTOR")
        connector_class = settings.registry.get(chosen)
        if sandbox or book.is_sandbox(name):
            values = connector_class.sandbox_settings(str(settings.state_dir))
            if values is None:
                _exit(f"error: connector '{chosen}' has no sandbox", EXIT_CONFIGURATION)
            redactor = Redactor()
        else:
            connection = book.get(name, connector_class)
            values = connection.settings
            redactor = Redactor(connection.secrets(connector_class))
        with connector_class(values, name) as connector:
            reached = connector.check()
    except ConfigurationError as error:
        _exit(f"error: connection '{name}': {error}", EXIT_CONFIGURATION)
    except ActionError as error:
        _exit(f"error: connection '{name}' ({chosen}) failed its check: {redactor.text(str(error))}", EXIT_CONFIGURATION)
    click.echo(f"connection '{name}' ({chosen}) works: {redactor.text(reached)}")


@cli.command()
def schema() -> None:
    """Print the recipe language's JSON Schema (point your editor's YAML plugin at it)."""
    click.echo(json.dumps(recipe_schema(), indent=2))


from engine.service_cli import register_service_commands
register_service_commands(cli)


def main() -> None:
    """Entry point of the `recipe` console script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="recipe")


if __name__ == "__main__":
    main()
