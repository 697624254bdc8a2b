"""The org's daily API request allowance and the `Sforce-Limit-Info` header that reports it."""

from __future__ import annotations

import threading

from connectors.sandbox.server import Response

__all__ = ["ApiUsage", "LIMIT_HEADER"]

LIMIT_HEADER = "Sforce-Limit-Info"


class ApiUsage:
    """Counts API requests against a daily limit; the count only resets when the sandbox is reset."""

    def __init__(self, daily_limit: int, used: int = 0) -> None:
        self.daily_limit = daily_limit
        self.used = used
        self._lock = threading.Lock()

    def spend(self) -> Response | None:
        """Count one request, or return the 403 response when the allowance is already spent."""
        with self._lock:
            if self.used >= self.daily_limit:
                return Response(
                    403,
                    [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                    headers={LIMIT_HEADER: self._header_value()},
                )
            self.used += 1
            return None

    def header_value(self) -> str:
        with self._lock:
            return self._header_value()

    def _header_value(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"
