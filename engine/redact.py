"""Keep secrets out of job records, logs and messages.

Every value of a connection field marked secret is replaced wherever it appears in text, and
values under keys that name a credential (token, password, secret, authorization) are hidden too.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

__all__ = ["Redactor", "REDACTED"]

REDACTED = "***"

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|authorization|api[_-]?key|session[_-]?id|private[_-]?key)", re.IGNORECASE)

# Shorter values are not redacted by substring: a 2-character secret would blank out ordinary text.
_MIN_SECRET_LENGTH = 4


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({str(value) for value in secrets if value and len(str(value)) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted(set(self.secrets) | {str(value) for value in secrets if value and len(str(value)) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        """Return a copy of a structure with secrets replaced; non-text leaves are kept as they are."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: (REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) and item not in (None, "") else self.value(item)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value
