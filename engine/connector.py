"""The connector contract: what a connector offers and how the engine calls it.

A connector is a class with a name, its connection settings as a JSON Schema (secret fields carry
`"secret": true`), and methods marked as triggers or actions:

    class Memory(Connector):
        name = "memory"

        @trigger("new_records", input_schema={...})
        def new_records(self, inputs, cursor, since, limit) -> Poll: ...

        @action("create", writes=True, input_schema={...})
        def create(self, inputs) -> dict: ...

The engine opens a connector with its settings, polls triggers, calls actions and closes it.
A connector raises the `engine.errors` branches (`RetryableError`, `SkipEventError`,
`FatalError`) carrying the API's own error code and message; anything else it raises is a bug
and fails the job with the exception's type and message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar, Mapping

from engine.errors import ConfigurationError, EventInvalid

__all__ = [
    "Access",
    "ActionSpec",
    "TriggerSpec",
    "Event",
    "Poll",
    "Connector",
    "action",
    "trigger",
    "secret_fields",
]


class Access(str, enum.Enum):
    """Whether an action only reads, or changes something; a dry run holds back writes."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class ActionSpec:
    name: str
    access: Access
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    description: str
    method: str
    target: str | None = None

    @property
    def writes(self) -> bool:
        return self.access is Access.WRITE


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    input_schema: dict[str, Any]
    description: str
    method: str
    webhook_topics: tuple[str, ...] = ()


@dataclass
class Event:
    """One thing that happened in a source system; it becomes one job.

    `id` and `version` together are the job key: the same id and version are processed once.
    `key` orders events: events with the same key are processed in order (default: the id).
    """

    id: str
    version: str
    data: Any
    key: str | None = None

    def __post_init__(self) -> None:
        self.id = str(self.id)
        self.version = str(self.version)
        if self.key is None:
            self.key = self.id

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}" if self.version else self.id


@dataclass
class Poll:
    """The result of one poll: the events found, where the next poll starts, and whether more is waiting."""

    events: list[Event]
    cursor: Any
    more: bool = False
    waiting: int | None = None


def action(
    name: str,
    *,
    writes: bool,
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
    description: str = "",
    target: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method `method(self, inputs: dict) -> output` as an action.

    `target` names the input that identifies what a write changes (an object, a path), shown by dry run.
    """

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method._action_spec = ActionSpec(  # type: ignore[attr-defined]
            name=name,
            access=Access.WRITE if writes else Access.READ,
            input_schema=input_schema or {"type": "object"},
            output_schema=output_schema or {},
            description=description or (method.__doc__ or "").strip().split("\n")[0],
            method=method.__name__,
            target=target,
        )
        return method

    return mark


def trigger(
    name: str,
    *,
    input_schema: dict[str, Any] | None = None,
    description: str = "",
    webhook_topics: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method `method(self, inputs, cursor, since, limit) -> Poll` as a polling trigger."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method._trigger_spec = TriggerSpec(  # type: ignore[attr-defined]
            name=name,
            input_schema=input_schema or {"type": "object"},
            description=description or (method.__doc__ or "").strip().split("\n")[0],
            method=method.__name__,
            webhook_topics=tuple(webhook_topics),
        )
        return method

    return mark


def secret_fields(schema: dict[str, Any]) -> set[str]:
    """Return the names of the connection settings marked `"secret": true`."""
    return {name for name, spec in schema.get("properties", {}).items() if spec.get("secret")}


class Connector:
    """Base class of every connector. Subclasses set `name` and mark triggers and actions.

    Optional hooks: `open` and `close` (hold a client or session only between them),
    `check` (one cheap call that proves the connection works), `event_from_payload` (shape a
    given or webhook payload as an Event), `sandbox_settings` (settings for the local sandbox),
    `prepare_sandbox` (a test case's given sandbox state).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    connection_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    actions: ClassVar[dict[str, ActionSpec]] = {}
    triggers: ClassVar[dict[str, TriggerSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.actions = {}
        cls.triggers = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                if hasattr(value, "_action_spec"):
                    cls.actions[value._action_spec.name] = value._action_spec
                if hasattr(value, "_trigger_spec"):
                    cls.triggers[value._trigger_spec.name] = value._trigger_spec

    def __init__(self, settings: dict[str, Any], connection_name: str | None = None) -> None:
        self.settings = settings
        self.connection_name = connection_name or self.name
        self.round_trips = 0

    # Lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Prepare clients and sessions. Raises ConfigurationError when the settings cannot work."""

    def close(self) -> None:
        """Release clients and sessions; called even when a job failed."""

    def __enter__(self) -> "Connector":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> str:
        """Make one cheap call and return a line saying what was reached. Raises ActionError."""
        return "no check is defined for this connector"

    @classmethod
    def sandbox_settings(cls, state_dir: str) -> dict[str, Any] | None:
        """Return connection settings that reach a local sandbox, or None if there is none."""
        return None

    @classmethod
    def close_sandbox(cls, state_dir: str) -> None:
        """Stop a sandbox that `sandbox_settings` started for `state_dir`; does nothing by default."""

    @classmethod
    def prepare_sandbox(cls, state_dir: str, given: Any) -> None:
        """Put a test case's `given` state into the sandbox in `state_dir`, before it opens.

        Raises ConfigurationError when the connector cannot set up sandbox state.
        """
        raise ConfigurationError(f"connector '{cls.name}' cannot set up sandbox state for test cases")

    # Calls -----------------------------------------------------------------------------------

    def poll(self, trigger_name: str, inputs: dict[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        """Ask a trigger for events after `cursor` (or from `since` when there is no cursor yet)."""
        spec = self.triggers[trigger_name]
        return getattr(self, spec.method)(inputs, cursor, since, limit)

    def call(self, action_name: str, inputs: dict[str, Any]) -> Any:
        """Run an action with rendered inputs and return its output."""
        spec = self.actions[action_name]
        return getattr(self, spec.method)(inputs)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, trigger_name: str | None = None) -> Event:
        """Check a webhook delivery's signature over the raw body and shape it as the trigger's Event.

        `trigger_name` is the recipe's trigger, so the event has the same id and version that
        trigger's polls give, and a delivery seen by both runs once.

        Raises EventInvalid for a missing or bad signature, or a body that is not an event.
        Connectors without webhooks keep this default, which rejects every delivery.
        """
        raise EventInvalid(f"connector '{self.name}' does not accept webhooks")

    def event_from_payload(self, trigger_name: str, payload: Any) -> Event:
        """Shape a payload (from `--event` or a webhook) as an Event.

        The default reads `id` and `updated_at`; a connector overrides this for other shapes.
        """
        if not isinstance(payload, dict):
            raise EventInvalid(f"the event must be a JSON object, not {type(payload).__name__}")
        if "id" not in payload:
            raise EventInvalid("the event has no 'id' field; give it the source record's id (and its updated_at as the version)")
        return Event(id=payload["id"], version=payload.get("updated_at") or "", data=payload)
