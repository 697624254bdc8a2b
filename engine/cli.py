"""The `recipe` command line. The only module that prints or chooses exit codes.

Exit codes: 0 every job succeeded or was skipped; 1 a job or a poll failed; 2 usage error;
3 invalid recipe; 4 connection or configuration problem.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from engine import jsoncodec
from engine.console import EXIT_CONFIGURATION, EXIT_FAILURE, EXIT_INVALID_RECIPE, EXIT_OK, EXIT_USAGE, fail
from engine.connections import ConnectionBook
from engine.errors import ConfigurationError, EventInvalid, RecipeInvalid
from engine.lock import read_owner
from engine.recipe import Recipe
from engine.registry import Registry
from engine.run import PollFailed, RecipeRun, RunSummary, open_connectors
from engine.store import JobRecord, JobStatus, SQLiteStore
from engine.validate import load_recipe, recipe_files, validate_paths

__all__ = ["main", "cli"]

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


def _load(settings: Settings, path: Path) -> Recipe:
    if not path.is_file():
        fail(f"error: recipe file {path} not found", EXIT_USAGE)
    try:
        return load_recipe(path, settings.registry)
    except RecipeInvalid as invalid:
        fail("\n".join(str(problem) for problem in invalid.problems), EXIT_INVALID_RECIPE)
    except ConfigurationError as error:
        fail(f"error: {error}", EXIT_CONFIGURATION)


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
        fail(f"error: {', '.join(missing)}: file or folder not found", EXIT_USAGE)
    problems = validate_paths(list(paths), settings.registry)
    found = [file for target in paths for file in recipe_files(target)]
    if not problems and not found:
        fail(f"error: no recipe files (*.yaml, *.yml) in {', '.join(str(path) for path in paths)}", EXIT_USAGE)
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


def _execute(settings: Settings, recipe_path: Path, sandbox: bool, dry_run: bool, action: str, argument: Any = None, keep_succeeded: bool = True) -> RunSummary:
    recipe = _load(settings, recipe_path)
    owner = None if dry_run else read_owner(settings.state_dir)
    if owner is not None:
        fail(
            f"error: `recipe start` ({owner.describe()}) is running on the state directory {settings.state_dir}; "
            "stop it first, or use `recipe dry-run`, which changes nothing",
            EXIT_CONFIGURATION,
        )
    store_file = settings.state_dir / SQLiteStore.FILE_NAME
    # A dry run on a fresh state directory has no history to read and must not create one.
    store = SQLiteStore(":memory:") if dry_run and not store_file.exists() else settings.store()
    try:
        with open_connectors(recipe, settings.registry, settings.book(), sandbox, settings.state_dir) as (connectors, redactor):
            run = RecipeRun(recipe, connectors, store, redactor, dry_run=dry_run, progress=_progress, keep_succeeded=keep_succeeded)
            if action == "event":
                return run.run_event(argument)
            if action == "replay":
                return run.replay(argument)
            return run.poll_and_run(argument)
    except ConfigurationError as error:
        fail(f"error: {error}", EXIT_CONFIGURATION)
    except EventInvalid as error:
        fail(f"error: {error}", EXIT_USAGE)
    except PollFailed as failed:
        fail(f"error: polling {recipe.trigger.connector}.{recipe.trigger.event} failed: {failed.error}. Nothing was run; the cursor did not move.", EXIT_FAILURE)
    finally:
        store.close()


def _read_event(path: Path) -> Any:
    try:
        return jsoncodec.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"error: event file {path} not found", EXIT_USAGE)
    except (ValueError, UnicodeDecodeError) as error:
        fail(f"error: event file {path} is not valid JSON: {error}", EXIT_USAGE)


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
        # The text summary lists only the jobs that need attention, so a long backfill need not
        # keep every succeeded job in memory; --json lists them all.
        summary = _execute(settings, recipe_path, sandbox, False, "poll", max_events, keep_succeeded=as_json)
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
            fail(f"error: job {job_id} not found; `recipe jobs` lists the jobs", EXIT_USAGE)
        if path is None:
            fail(f"error: the file of recipe '{job.recipe}' is not known; pass it with --recipe", EXIT_USAGE)
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
    sys.exit(EXIT_FAILURE if summary.failed else EXIT_OK)


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
        "counts": {status.value: summary.counts[status] for status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.FAILED, JobStatus.WAITING)},
        "already_processed": len(summary.already_done),
        "filtered_by_condition": summary.filtered,
        "more_waiting": summary.more_waiting,
    }


def _print_summary_text(summary: RunSummary, settings: Settings, dry_run: bool) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    if dry_run:
        _print_plan(summary)

    skipped, failed, waiting = (summary.with_status(status) for status in (JobStatus.SKIPPED, JobStatus.FAILED, JobStatus.WAITING))
    verb = "would run" if dry_run else "ran"
    if not summary.ran and not summary.already_done and not summary.filtered:
        click.echo(f"{summary.recipe}: no new events")
        return
    counts = f"{summary.counts[JobStatus.SUCCEEDED]} succeeded, {len(skipped)} skipped, {len(failed)} failed"
    if waiting:
        counts += f", {len(waiting)} waiting to retry"
    click.echo(f"{summary.recipe}: {verb} {summary.ran} job(s): {counts}")
    if summary.already_done:
        click.echo(f"  {len(summary.already_done)} event(s) already processed earlier, not run again (use `recipe replay JOB` to run one again)")
    if summary.filtered:
        click.echo(f"  {summary.filtered} event(s) left out by the trigger condition")
    for job in skipped + failed + waiting:
        click.echo(_job_line(job) if not dry_run else _job_line(job).replace(f"job {job.id:<5} ", ""))
    if summary.more_waiting:
        click.echo("  more events are waiting; run again to continue")
    if dry_run:
        click.echo("Dry run: nothing was written, and no job or cursor was stored.")
    elif summary.ran:
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
        fail(f"error: job {job_id} not found; `recipe jobs` lists the jobs", EXIT_USAGE)

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


from engine.service_cli import register_service_commands  # noqa: E402  (the group must exist first)
from engine.tools_cli import register_tool_commands  # noqa: E402

register_service_commands(cli)
register_tool_commands(cli)


def main() -> None:
    """Entry point of the `recipe` console script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="recipe")


if __name__ == "__main__":
    main()
