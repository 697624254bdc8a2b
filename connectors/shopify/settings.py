"""The Shopify connection settings: their JSON Schema, and their validation into `ShopifySettings`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ConfigurationError

__all__ = ["CONNECTION_SCHEMA", "DEFAULT_API_VERSION", "ShopifySettings", "is_loopback_url"]

DEFAULT_API_VERSION = "2026-10"
DEFAULT_OVERLAP_SECONDS = 60
DEFAULT_PAGE_SIZE = 250
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 3

_VERSION = re.compile(r"\A(\d{4}-(01|04|07|10)|unstable)\Z")
_HOSTNAME = re.compile(r"\A(?=.{1,253}\Z)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+\Z")
_LOOPBACK_NAMES = ("localhost",)

CONNECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "shop": {"type": "string", "minLength": 1, "description": "The shop's domain, for example my-store.myshopify.com."},
        "access_token": {"type": "string", "minLength": 1, "secret": True, "description": "Admin API access token (shpat_...)."},
        "api_version": {"type": "string", "default": DEFAULT_API_VERSION, "description": "Admin API version, YYYY-MM (01, 04, 07 or 10) or unstable."},
        "app_secret": {"type": "string", "secret": True, "description": "The app's client secret; verifies webhook signatures."},
        "base_url": {"type": "string", "description": "Only for a local server: an https:// URL, or an http:// URL on a loopback address. Default https://{shop}."},
        "poll_overlap_seconds": {"type": "integer", "minimum": 0, "default": DEFAULT_OVERLAP_SECONDS, "description": "Seconds of recent changes each order poll reads again, for changes Shopify indexes late."},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 250, "default": DEFAULT_PAGE_SIZE, "description": "Largest REST page to ask for (Shopify allows 250)."},
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "default": DEFAULT_TIMEOUT_SECONDS, "description": "Seconds to wait for Shopify to connect and to respond."},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": DEFAULT_MAX_RETRIES, "description": "Retries of a throttled request (HTTP 429 or GraphQL THROTTLED) before the call fails as retryable."},
    },
    "required": ["shop", "access_token"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ShopifySettings:
    """Validated connection settings; `api_root` is the versioned Admin API URL."""

    shop: str
    access_token: str
    api_version: str
    app_secret: str | None
    base_url: str
    poll_overlap_seconds: int
    page_size: int
    timeout_seconds: float
    max_retries: int

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/admin/api/{self.api_version}"

    @property
    def loopback(self) -> bool:
        return is_loopback_url(self.base_url)

    @classmethod
    def from_dict(cls, settings: dict[str, Any]) -> "ShopifySettings":
        """Validate raw settings. Raises ConfigurationError naming the setting, never a secret's value."""
        unknown = sorted(set(settings) - set(CONNECTION_SCHEMA["properties"]))
        if unknown:
            raise ConfigurationError(f"unknown Shopify setting '{unknown[0]}'; the settings are {', '.join(CONNECTION_SCHEMA['properties'])}")

        shop = _shop(settings.get("shop"))
        token = settings.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("the Shopify setting 'access_token' is missing; give the app's Admin API access token")

        version = str(settings.get("api_version") or DEFAULT_API_VERSION)
        if not _VERSION.match(version):
            raise ConfigurationError(f"invalid Shopify api_version {version!r}; write YYYY-MM with a release month (01, 04, 07, 10), for example {DEFAULT_API_VERSION}")

        app_secret = settings.get("app_secret")
        if app_secret is not None and not isinstance(app_secret, str):
            raise ConfigurationError("the Shopify setting 'app_secret' must be text")

        return cls(
            shop=shop,
            access_token=token.strip(),
            api_version=version,
            app_secret=app_secret or None,
            base_url=_base_url(settings.get("base_url"), shop),
            poll_overlap_seconds=_integer(settings, "poll_overlap_seconds", DEFAULT_OVERLAP_SECONDS, 0, 86_400),
            page_size=_integer(settings, "page_size", DEFAULT_PAGE_SIZE, 1, 250),
            timeout_seconds=_seconds(settings.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
            max_retries=_integer(settings, "max_retries", DEFAULT_MAX_RETRIES, 0, 10),
        )


def is_loopback_url(url: str) -> bool:
    """Return whether `url` names a loopback host (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shop(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("the Shopify setting 'shop' is missing; give the shop's domain, for example my-store.myshopify.com")
    shop = value.strip().lower()
    if "://" in shop or "/" in shop:
        raise ConfigurationError(f"invalid Shopify shop {value!r}; give only the domain, for example my-store.myshopify.com, without https:// or a path")
    if not _HOSTNAME.match(shop):
        raise ConfigurationError(f"invalid Shopify shop {value!r}; expected a domain such as my-store.myshopify.com")
    return shop


def _base_url(value: Any, shop: str) -> str:
    if value in (None, ""):
        return f"https://{shop}"
    if not isinstance(value, str):
        raise ConfigurationError("the Shopify setting 'base_url' must be text")

    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.query or parts.fragment or parts.path not in ("",) or not parts.hostname:
        raise ConfigurationError(f"invalid Shopify base_url {value!r}; give only a scheme and host, for example https://{shop}")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and is_loopback_url(url):
        return url
    # A token sent over plain http to another host could be read on the way.
    raise ConfigurationError(f"invalid Shopify base_url {value!r}; use https://, or http:// only for a loopback address such as 127.0.0.1")


def _integer(settings: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"invalid Shopify setting '{name}' {value!r}; expected a whole number from {low} to {high}")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigurationError(f"invalid Shopify setting 'timeout_seconds' {value!r}; expected a positive number of seconds")
    return float(value)
