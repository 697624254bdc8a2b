"""The service commands of the `recipe` command line: `start`, `status`, `enable` and `disable`.

`engine.cli` adds them to its group with `register_service_commands(cli)`. They take the same
`Settings` object as the other commands and use the same exit codes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click
import yaml

from engine import jsoncodec
from engine.console import EXIT_CONFIGURATION, EXIT_FAILURE, EXIT_INVALID_RECIPE, EXIT_OK, EXIT_USAGE, fail
from engine.errors import ConfigurationError, Problem
from engine.lock import AlreadyRunning, LockOwner, ServiceLock, read_owner
from engine.logs import LOG_FORMATS, logging_to
from engine.recipe import Recipe
from engine.run import open_connectors
from engine.schedule import parse_duration
from engine.service import Service, ServiceOptions
from engine.status import DEFAULT_UNHEALTHY_AFTER, Health, RecipeStatus, ServiceStatus, service_status
from engine.store import SQLiteStore
from engine.validate import check_recipe, recipe_files
from engine.webhooks import WebhookServer

if TYPE_CHECKING:
    from engine.cli import Settings

__all__ = ["register_service_commands", "start", "status", "enable", "disable"]

log = logging.getLogger(__name__)

DEFAULT_RECIPES = Path("recipes")
DEFAULT_PORT = 8700


def register_service_commands(group: click.Group) -> None:
    """Add `start`, `status`, `enable` and `disable` to the `recipe` command group."""
    for command in (start, status, enable, disable):
        group.add_command(command)


def _seconds(context: click.Context, parameter: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


# Recipes ---------------------------------------------------------------------------------------


def _load_recipes(settings: "Settings", target: Path) -> list[Recipe]:
    """Check every recipe at `target` and return them all; exit with the `validate` messages if any is invalid."""
    if not target.exists():
        fail(f"error: {target}: file or folder not found", EXIT_USAGE)
    files = recipe_files(target)
    if not files:
        fail(f"error: no recipe files (*.yaml, *.yml) in {target}", EXIT_USAGE)

    recipes: list[Recipe] = []
    problems: list[Problem] = []
    for path in files:
        recipe, found = check_recipe(path, settings.registry)
        problems += found
        if recipe is not None:
            recipes.append(recipe)
    problems += _duplicate_names(recipes)

    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) in {len({problem.path for problem in problems})} file(s); nothing was started", err=True)
        sys.exit(EXIT_INVALID_RECIPE)
    return recipes


def _duplicate_names(recipes: list[Recipe]) -> list[Problem]:
    first: dict[str, Recipe] = {}
    problems = []
    for recipe in recipes:
        if recipe.name in first:
            message = f"recipe name '{recipe.name}' is also used by {first[recipe.name].path}; jobs are stored by name, so names must be unique"
            line, column = _name_position(recipe.path)
            problems.append(Problem(str(recipe.path), line, column, message))
        else:
            first[recipe.name] = recipe
    return problems


def _name_position(path: Path) -> tuple[int, int]:
    """Return the 1-based line and column of the value of a recipe file's top-level `name:` key, or (0, 0)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0, 0
    for number, text in enumerate(lines, start=1):
        if text.startswith("name:"):
            value = text[len("name:"):]
            return number, len("name:") + len(value) - len(value.lstrip()) + 1
    return 0, 0


# start -----------------------------------------------------------------------------------------


@click.command()
@click.argument("recipes_dir", metavar="[RECIPES_DIR]", required=False, default=DEFAULT_RECIPES, type=click.Path(path_type=Path))
@click.option("--sandbox", is_flag=True, help="Use the built-in sandbox instead of configured connections.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the webhook and /healthz server listens on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="Port of the webhook and /healthz server (0 picks a free one).")
@click.option("--standby", is_flag=True, help="If another instance runs on this state directory, wait and take over when it stops.")
@click.option("--stop-timeout", default="30s", show_default=True, callback=_seconds, help="How long a stop waits for running jobs (30s, 2m).")
@click.option("--unhealthy-after", default="15m", show_default=True, callback=_seconds,
              help="Report a recipe unhealthy when its poll is overdue by more than this (15m, 1h).")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", show_default=True, help="json writes one JSON object per line.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True, help="Lowest level logged.")
@click.pass_obj
def start(
    settings: "Settings", recipes_dir: Path, sandbox: bool, host: str, port: int, standby: bool,
    stop_timeout: float, unhealthy_after: float, log_format: str, log_level: str,
) -> None:
    """Run every enabled recipe on its schedule and take webhooks, until SIGTERM or Ctrl-C.

    RECIPES_DIR (default: recipes) is a folder of recipes or one recipe file. Every recipe is
    checked first; an invalid one stops the start with the same messages as `recipe validate`.
    """
    with logging_to(log_format, getattr(logging, log_level.upper())):
        recipes = _load_recipes(settings, recipes_dir)
        options = ServiceOptions(stop_timeout=stop_timeout, unhealthy_after=unhealthy_after)
        stop = threading.Event()
        with _stop_on_signals(stop):
            _run_service(settings, recipes, recipes_dir, sandbox, host, port, standby, options, stop)
    sys.exit(EXIT_OK)


def _run_service(
    settings: "Settings", recipes: list[Recipe], recipes_dir: Path, sandbox: bool, host: str, port: int, standby: bool,
    options: ServiceOptions, stop: threading.Event,
) -> None:
    lock = ServiceLock(settings.state_dir)
    details = {"state_dir": str(settings.state_dir.resolve()), "recipes": str(recipes_dir.resolve()), "unhealthy_after": options.unhealthy_after}
    if not _acquire(lock, details, standby, stop):
        log.info("stopped while waiting as a standby")
        return
    try:
        _serve(settings, recipes, lock, sandbox, host, port, options, stop)
    finally:
        lock.release()


def _acquire(lock: ServiceLock, details: dict[str, Any], standby: bool, stop: threading.Event) -> bool:
    """Take the state directory's lock, or wait for it with --standby; returns False when stopped while waiting."""
    try:
        lock.acquire(details)
        return True
    except ConfigurationError as error:
        fail(f"error: {error}", EXIT_CONFIGURATION)
    except AlreadyRunning as running:
        if not standby:
            fail(f"error: {running}. Stop it first, or start this one with --standby to take over when it stops.", EXIT_CONFIGURATION)
        log.info("standby: %s; waiting to take over when it stops", running)
    return lock.acquire_standby(details, stop)


def _serve(
    settings: "Settings", recipes: list[Recipe], lock: ServiceLock, sandbox: bool, host: str, port: int,
    options: ServiceOptions, stop: threading.Event,
) -> None:
    store = settings.store()
    try:
        try:
            book = settings.book()
        except ConfigurationError as error:
            fail(f"error: {error}", EXIT_CONFIGURATION)
        service = Service(recipes, store, lambda recipe: open_connectors(recipe, settings.registry, book, sandbox, settings.state_dir), options=options)
        try:
            server = WebhookServer(service, host, port, health=lambda: service.status(lock.owner).to_document())
        except OSError as error:
            fail(f"error: cannot listen on {host}:{port}: {error.strerror}; choose another port with --port (0 picks a free one)", EXIT_CONFIGURATION)
        try:
            service.start()
        except ConfigurationError as error:
            server.stop()
            fail(f"error: {error}", EXIT_CONFIGURATION)

        server.start()
        lock.update({"http": server.url})
        while not stop.wait(0.5):
            pass

        log.info("stopping: no new polls or webhooks; waiting up to %.0fs for running jobs", options.stop_timeout)
        server.stop()
        service.stop()
    finally:
        store.close()


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on the first SIGTERM or SIGINT; a second one ends the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(number: int, frame: Any) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now; unfinished jobs resume at the next start", signal.Signals(number).name)
            os._exit(EXIT_FAILURE)
        log.info("%s received; stopping", signal.Signals(number).name)
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# status ----------------------------------------------------------------------------------------


@click.command()
@click.argument("recipes_dir", metavar="[RECIPES_DIR]", required=False, type=click.Path(path_type=Path))
@click.option("--unhealthy-after", default=None, callback=_seconds,
              help="Overdue time after which a recipe is unhealthy (default: the running service's setting, else 15m).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON, the same document /healthz returns.")
@click.pass_obj
def status(settings: "Settings", recipes_dir: Path | None, unhealthy_after: float | None, as_json: bool) -> None:
    """Show each recipe: enabled, schedule, last poll, cursor, waiting jobs, last hour's jobs, last error, health.

    RECIPES_DIR defaults to the running service's folder, else `recipes`. Exits 1 when a recipe is unhealthy.
    """
    owner = read_owner(settings.state_dir)
    target = recipes_dir or _service_recipes(owner) or DEFAULT_RECIPES
    recipes = _load_recipes_leniently(settings, target)
    threshold = unhealthy_after or _service_threshold(owner)

    store_file = settings.state_dir / SQLiteStore.FILE_NAME
    # A state directory where nothing ran yet has no store, and looking must not create one.
    store = settings.store() if store_file.exists() else SQLiteStore(":memory:")
    try:
        result = service_status(store, recipes, datetime.now(timezone.utc), threshold, owner)
    finally:
        store.close()

    if as_json:
        click.echo(jsoncodec.dumps(result.to_document(), indent=2))
    else:
        _print_status(result, settings.state_dir)
    sys.exit(EXIT_OK if result.healthy else EXIT_FAILURE)


def _service_recipes(owner: LockOwner | None) -> Path | None:
    recipes = owner.details.get("recipes") if owner else None
    return Path(recipes) if recipes else None


def _service_threshold(owner: LockOwner | None) -> float:
    value = owner.details.get("unhealthy_after") if owner else None
    return float(value) if isinstance(value, (int, float)) else DEFAULT_UNHEALTHY_AFTER


def _load_recipes_leniently(settings: "Settings", target: Path) -> list[Recipe]:
    """Load the valid recipes at `target`; name each invalid file on stderr and leave it out."""
    if not target.exists():
        fail(f"error: {target}: file or folder not found; pass the recipes folder", EXIT_USAGE)
    recipes = []
    for path in recipe_files(target):
        recipe, problems = check_recipe(path, settings.registry)
        if recipe is None:
            click.echo(f"warning: {path} is invalid ({len(problems)} problem(s)) and left out; `recipe validate {path}` lists them", err=True)
        else:
            recipes.append(recipe)
    return recipes


def _print_status(result: ServiceStatus, state_dir: Path) -> None:
    if result.owner is not None:
        address = result.owner.details.get("http")
        served = f"; webhooks and /healthz at {address}" if address else ""
        click.echo(f"service: running, {result.owner.describe()}{served}")
    else:
        click.echo(f"service: not running on {state_dir}")
    if not result.recipes:
        click.echo("no recipes")
    for recipe in result.recipes:
        click.echo("")
        _print_recipe(recipe)


def _print_recipe(recipe: RecipeStatus) -> None:
    state = "enabled" if recipe.enabled else f"disabled by {recipe.disabled_by}"
    health = recipe.health.upper() if recipe.health == Health.UNHEALTHY else recipe.health
    reason = f": {recipe.health_reason}" if recipe.health_reason and recipe.health != Health.DISABLED else ""
    click.echo(f"{recipe.name}: {state}, {health}{reason}")

    counts = recipe.jobs_last_hour
    at_source = "unknown" if recipe.events_waiting_at_source is None else str(recipe.events_waiting_at_source)
    error = recipe.last_error
    rows = [
        ("schedule", recipe.schedule),
        ("last poll", f"{recipe.last_poll_at}: {recipe.last_poll}" if recipe.last_poll_at else "never"),
        ("last success", recipe.last_success_at or "never"),
        ("cursor", "none" if recipe.cursor is None else jsoncodec.dumps(recipe.cursor)),
        ("waiting", f"{recipe.jobs_waiting} job(s) in the store, {at_source} event(s) at the source"),
        ("last hour", f"{counts['succeeded']} succeeded, {counts['skipped']} skipped, {counts['failed']} failed"),
        ("last error", f"{error['at']} {error['source']}: {error['message']}" if error else "none"),
    ]
    for label, value in rows:
        click.echo(f"  {label:<13} {value}")


# enable / disable ------------------------------------------------------------------------------


@click.command()
@click.argument("name")
@click.option("--recipes", "recipes_dir", type=click.Path(path_type=Path), default=DEFAULT_RECIPES, show_default=True,
              help="Folder searched for the recipe when the store has no record of it yet.")
@click.pass_obj
def enable(settings: "Settings", name: str, recipes_dir: Path) -> None:
    """Turn a recipe disabled with `recipe disable` back on; a running service resumes it within seconds."""
    path = _find_recipe_file(settings, name, recipes_dir)
    store = settings.store()
    store.set_enabled(name, True)
    store.close()
    click.echo(f"recipe {name} enabled; a running service resumes polling it within {ServiceOptions.switch_check:g}s")
    if _file_enabled(path) is False:
        click.echo(f"note: {path} sets `enabled: false`, so the recipe stays disabled until that line changes and the service restarts", err=True)


@click.command()
@click.argument("name")
@click.option("--recipes", "recipes_dir", type=click.Path(path_type=Path), default=DEFAULT_RECIPES, show_default=True,
              help="Folder searched for the recipe when the store has no record of it yet.")
@click.pass_obj
def disable(settings: "Settings", name: str, recipes_dir: Path) -> None:
    """Stop polling a recipe and taking its webhooks, without editing its file; the switch is kept in the store."""
    _find_recipe_file(settings, name, recipes_dir)
    store = settings.store()
    store.set_enabled(name, False)
    store.close()
    click.echo(f"recipe {name} disabled; a running service stops polling it within {ServiceOptions.switch_check:g}s (`recipe enable {name}` undoes this)")


def _find_recipe_file(settings: "Settings", name: str, recipes_dir: Path) -> Path:
    """Return the file of the recipe called `name`: the one the store last ran, else one in `recipes_dir`."""
    store_file = settings.state_dir / SQLiteStore.FILE_NAME
    if store_file.exists():
        store = settings.store()
        known = store.recipe_path(name)
        store.close()
        if known and Path(known).exists():
            return Path(known)

    names = {}
    if recipes_dir.is_dir():
        for path in recipe_files(recipes_dir):
            names[_recipe_name(path)] = path
    if name in names:
        return names[name]
    listed = ", ".join(sorted(str(found) for found in names if found)) or "none"
    fail(f"error: no recipe named '{name}' in {recipes_dir} or in the store; recipes found: {listed}. Pass the folder with --recipes", EXIT_USAGE)


def _recipe_name(path: Path) -> str | None:
    document = _read_yaml(path)
    value = document.get("name") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _file_enabled(path: Path) -> bool | None:
    document = _read_yaml(path)
    value = document.get("enabled", True) if isinstance(document, dict) else None
    return value if isinstance(value, bool) else None


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
