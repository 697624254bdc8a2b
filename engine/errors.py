"""The engine's exceptions, one root branched by what should happen next.

- `RecipeInvalid`: fix the recipe file (carries every problem found, each with file and line).
- `ConfigurationError`: fix a connection or a setting before anything can run.
- `ActionError` and its branches, raised by connectors: `RetryableError` (try again later,
  possibly after `retry_after` seconds), `SkipEventError` (this event cannot be processed and
  that is not a failure), `FatalError` (give up on this job).
- `StopJob`: control flow for a stop step; not an error a person needs to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EngineError",
    "Problem",
    "RecipeInvalid",
    "ConfigurationError",
    "EventInvalid",
    "ActionError",
    "RetryableError",
    "SkipEventError",
    "FatalError",
    "RenderError",
    "StopJob",
    "ErrorKind",
]


class EngineError(Exception):
    """Root of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a recipe file, at a line and column (both 1-based; 0 when unknown)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class RecipeInvalid(EngineError):
    """A recipe cannot be loaded; `problems` lists every problem found in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class ConfigurationError(EngineError):
    """A connection, credential, file or setting is missing or wrong; nothing was run."""


class EventInvalid(EngineError):
    """A given event (`--event`, a webhook body) is not shaped as the trigger expects."""


class ErrorKind:
    RETRYABLE = "retryable"
    SKIP = "skip"
    FATAL = "fatal"


@dataclass
class _ErrorDetails:
    code: str | None = None
    status: int | None = None
    fields: list[str] = field(default_factory=list)
    retry_after: float | None = None


class ActionError(EngineError):
    """An error from a connector call, carrying the API's own error code and message.

    `kind` selects what the runner does next; use the subclasses rather than setting it.
    """

    kind = ErrorKind.FATAL

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: list[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = list(fields or [])
        self.retry_after = retry_after

    def to_record(self) -> dict[str, Any]:
        """Describe the error for a job record: kind, code, status, message and fields."""
        record: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.code:
            record["code"] = self.code
        if self.status is not None:
            record["status"] = self.status
        if self.fields:
            record["fields"] = self.fields
        if self.retry_after is not None:
            record["retry_after"] = self.retry_after
        return record

    def __str__(self) -> str:
        parts = [self.code] if self.code else []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        prefix = f"[{', '.join(parts)}] " if parts else ""
        suffix = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"{prefix}{self.message}{suffix}"


class RetryableError(ActionError):
    """A temporary failure (timeout, 5xx, rate limit, locked row): the call may succeed later."""

    kind = ErrorKind.RETRYABLE


class SkipEventError(ActionError):
    """The event cannot be processed, and that is expected: the job ends as skipped."""

    kind = ErrorKind.SKIP


class FatalError(ActionError):
    """A failure that retrying cannot fix (a validation error, a missing record): the job fails."""

    kind = ErrorKind.FATAL


class RenderError(FatalError):
    """A mapping could not be rendered: a missing data pill, a bad filter input, an output too large."""


class StopJob(EngineError):
    """Raised by a stop step to end the job as skipped or failed, or to set it aside to retry later."""

    def __init__(self, status: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
