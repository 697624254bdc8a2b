"""Latency profiles: the delays and faults each sandbox injects during a benchmark run."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.salesforce.sandbox import WriteFaults
from connectors.sandbox.local import LocalSandbox
from connectors.sandbox.server import Faults

__all__ = ["Profile", "PROFILES", "profile_named"]


@dataclass(frozen=True)
class Profile:
    """Per-request latency (seconds) and fault shares for each sandbox.

    `salesforce_per_record` is added for every record a client writes, so a batch of 200
    records costs 0.4 s more than a single record at 2 ms.
    """

    name: str
    shopify_latency: float = 0.0
    salesforce_latency: float = 0.0
    jitter_share: float = 0.0
    salesforce_per_record: float = 0.0
    error_share: float = 0.0
    timeout_share: float = 0.0
    timeout_seconds: float = 5.0

    def apply(self, sandbox: LocalSandbox, seed: int = 11) -> None:
        """Set this profile's faults on a running or stopped sandbox."""
        sandbox.shopify.server.faults = self._faults(self.shopify_latency, seed)
        sandbox.salesforce.server.faults = self._faults(self.salesforce_latency, seed + 1)
        sandbox.salesforce.records.write_faults = WriteFaults(latency_per_record=self.salesforce_per_record)

    def _faults(self, latency: float, seed: int) -> Faults:
        return Faults(
            latency=latency,
            jitter=latency * self.jitter_share,
            error_share=self.error_share,
            timeout_share=self.timeout_share,
            timeout_seconds=self.timeout_seconds,
            seed=seed,
        )


# `typical` is Shopify 150 ms and Salesforce 250 ms per request plus up to 20 % jitter, and
# 2 ms per Salesforce record written. `bad` is three times slower with 1 % 5xx and 1 % dropped
# requests; the client sees a drop as a read timeout after `timeout_seconds`.
PROFILES: dict[str, Profile] = {
    "zero": Profile("zero"),
    "typical": Profile("typical", shopify_latency=0.150, salesforce_latency=0.250, jitter_share=0.2, salesforce_per_record=0.002),
    "bad": Profile(
        "bad",
        shopify_latency=0.450,
        salesforce_latency=0.750,
        jitter_share=0.2,
        salesforce_per_record=0.006,
        error_share=0.01,
        timeout_share=0.01,
    ),
    "fixed50": Profile("fixed50", shopify_latency=0.050, salesforce_latency=0.050),
}


def profile_named(name: str) -> Profile:
    """Return the profile called `name`; raises KeyError naming the known profiles."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}") from None
