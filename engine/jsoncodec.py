"""JSON that keeps money exact: Decimals are written with their own digits and read back as Decimals.

`json` writes floats through `float.__repr__`, so a Decimal converted to float can gain digits
(`0.1 + 0.2`). Here a Decimal is written as the exact number text instead, and every JSON number
with a fraction or an exponent is read back as a Decimal.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

# A marker that no JSON text produced from real data can contain: json escapes NUL as \u0000.
_MARK = "\x00decimal:"
_MARKED = re.compile(r'"\\u0000decimal:([-+0-9.Ee]+)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write the non-finite number {value} as JSON")
        return _MARK + str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def dumps(value: Any, **options: Any) -> str:
    """Return `value` as JSON text, writing each Decimal with its exact digits."""
    options.setdefault("ensure_ascii", False)
    text = json.dumps(value, default=_default, **options)
    return _MARKED.sub(r"\1", text)


def loads(text: str | bytes) -> Any:
    """Parse JSON text, reading numbers with a fraction or exponent as Decimal."""
    return json.loads(text, parse_float=Decimal)
