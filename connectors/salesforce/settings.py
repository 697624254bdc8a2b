"""The connection settings of the Salesforce connector and the login flow they select.

Three flows are accepted. Which settings are present selects the flow:

- an access token: `instance_url` and `access_token` (it cannot be renewed when it expires);
- username and password: `username`, `password`, `security_token` and `domain` (SOAP login);
- OAuth client credentials: `client_id`, `client_secret` and `domain` (a My Domain host).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.errors import ConfigurationError

__all__ = ["CONNECTION_SCHEMA", "LoginFlow", "ConnectionSettings", "DEFAULT_API_VERSION", "DEFAULT_TIMEOUT_SECONDS"]

DEFAULT_API_VERSION = "62.0"
DEFAULT_TIMEOUT_SECONDS = 30.0
# simple-salesforce offers the client-credentials flow only for a My Domain host, not these two.
_SHARED_LOGIN_DOMAINS = ("login", "test")

CONNECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "instance_url": {"type": "string", "description": "The org's URL, for example https://acme.my.salesforce.com; needed with access_token."},
        "access_token": {"type": "string", "secret": True, "description": "A session id or OAuth access token; cannot be renewed when it expires."},
        "username": {"type": "string", "description": "The integration user's username, for the username and password login."},
        "password": {"type": "string", "secret": True, "description": "The integration user's password."},
        "security_token": {"type": "string", "secret": True, "description": "The user's security token; empty when the IP range is trusted."},
        "domain": {"type": "string", "description": "Login host: 'login', 'test' or a My Domain such as 'acme.my' (https://acme.my.salesforce.com)."},
        "client_id": {"type": "string", "description": "Connected app consumer key, for the OAuth client-credentials flow."},
        "client_secret": {"type": "string", "secret": True, "description": "Connected app consumer secret."},
        "api_version": {"type": "string", "pattern": r"^\d+\.0$", "description": "REST API version, for example 62.0 (the default)."},
        "transport_routes": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Sandbox only: https origins mapped to the loopback server that serves them.",
        },
        "names_file": {"type": "string", "description": "Path of an edited copy of ascent_names.yaml, the Ascent name mapping."},
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "description": "Seconds to wait for each HTTP response (default 30)."},
    },
    "additionalProperties": False,
}


class LoginFlow(str, enum.Enum):
    ACCESS_TOKEN = "access_token"
    PASSWORD = "password"
    CLIENT_CREDENTIALS = "client_credentials"


@dataclass(frozen=True)
class ConnectionSettings:
    """Checked connection settings; `from_settings` picks the login flow."""

    flow: LoginFlow
    api_version: str = DEFAULT_API_VERSION
    instance_url: str | None = None
    access_token: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    domain: str = "login"
    client_id: str | None = None
    client_secret: str | None = None
    transport_routes: dict[str, str] = field(default_factory=dict)
    names_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def renewable(self) -> bool:
        """True when the connector can log in again after its session expires."""
        return self.flow is not LoginFlow.ACCESS_TOKEN

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "ConnectionSettings":
        """Check the settings and choose the login flow; raises ConfigurationError saying what is missing."""
        common = {
            "api_version": str(settings.get("api_version") or DEFAULT_API_VERSION),
            "transport_routes": dict(settings.get("transport_routes") or {}),
            "names_file": settings.get("names_file") or None,
            "timeout": float(settings.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
        }
        if common["api_version"].startswith("v"):
            raise ConfigurationError(f"api_version is written without the 'v', for example 62.0, not {common['api_version']}")

        if settings.get("access_token"):
            return cls._token_settings(settings, common)
        if settings.get("username") or settings.get("password"):
            return cls._password_settings(settings, common)
        if settings.get("client_id") or settings.get("client_secret"):
            return cls._client_credentials_settings(settings, common)
        raise ConfigurationError(
            "the Salesforce connection needs one way to log in: instance_url and access_token; or username, "
            "password, security_token and domain; or client_id, client_secret and a My Domain domain"
        )

    @classmethod
    def _token_settings(cls, settings: Mapping[str, Any], common: dict[str, Any]) -> "ConnectionSettings":
        instance_url = str(settings.get("instance_url") or "")
        if not instance_url.startswith("https://"):
            raise ConfigurationError(f"instance_url must be the org's https URL, such as https://acme.my.salesforce.com; got {instance_url!r}")
        return cls(LoginFlow.ACCESS_TOKEN, instance_url=instance_url.rstrip("/"), access_token=str(settings["access_token"]), **common)

    @classmethod
    def _password_settings(cls, settings: Mapping[str, Any], common: dict[str, Any]) -> "ConnectionSettings":
        missing = [name for name in ("username", "password") if not settings.get(name)]
        if settings.get("security_token") is None:
            missing.append("security_token")
        if missing:
            raise ConfigurationError(
                f"the username and password login needs {', '.join(missing)}; give security_token as an empty text if the IP range is trusted"
            )
        return cls(
            LoginFlow.PASSWORD,
            username=str(settings["username"]),
            password=str(settings["password"]),
            security_token=str(settings["security_token"]),
            domain=_domain(settings),
            **common,
        )

    @classmethod
    def _client_credentials_settings(cls, settings: Mapping[str, Any], common: dict[str, Any]) -> "ConnectionSettings":
        missing = [name for name in ("client_id", "client_secret", "domain") if not settings.get(name)]
        if missing:
            raise ConfigurationError(f"the OAuth client-credentials login needs {', '.join(missing)}")
        domain = _domain(settings)
        if domain in _SHARED_LOGIN_DOMAINS:
            raise ConfigurationError(
                f"the client-credentials flow needs the org's My Domain (such as 'acme.my'), not '{domain}'"
            )
        return cls(
            LoginFlow.CLIENT_CREDENTIALS,
            client_id=str(settings["client_id"]),
            client_secret=str(settings["client_secret"]),
            domain=domain,
            **common,
        )


def _domain(settings: Mapping[str, Any]) -> str:
    domain = str(settings.get("domain") or "login").strip()
    if "://" in domain or domain.endswith(".salesforce.com"):
        raise ConfigurationError(f"domain is the host name before .salesforce.com, such as 'login', 'test' or 'acme.my'; got {domain!r}")
    return domain
