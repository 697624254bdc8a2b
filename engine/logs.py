"""Log formats of the service: text for people, one JSON object per line for log collectors.

Service log calls pass their facts twice: in the message as `key=value` pairs, for the text
format, and in `extra=fields(...)`, which the JSON format writes as separate keys.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, Iterator, TextIO

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging", "logging_to", "fields"]

LOG_FORMATS = ("text", "json")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def fields(**values: Any) -> dict[str, Any]:
    """Return `extra=` fields for a log call, leaving out the ones that are None."""
    return {key: value for key, value in values.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, the `extra=` fields, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["traceback"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text", level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record at `level` or above to `stream` (stderr by default) in the given format.

    Replaces the root logger's handlers, so it can be called after `recipe -v` configured them,
    and returns the new handler. Raises ValueError for a format not in LOG_FORMATS.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"invalid log format {log_format!r}; use one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


@contextlib.contextmanager
def logging_to(log_format: str = "text", level: int = logging.INFO, stream: TextIO | None = None) -> Iterator[logging.Handler]:
    """Configure logging as `configure_logging` does, and put the root logger back as it was on exit."""
    root = logging.getLogger()
    previous_handlers, previous_level = list(root.handlers), root.level
    handler = configure_logging(log_format, level, stream)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for existing in previous_handlers:
            root.addHandler(existing)
        root.setLevel(previous_level)
