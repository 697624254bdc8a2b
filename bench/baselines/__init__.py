"""Hand-written scripts that the benchmarks compare the recipes against, on the same client libraries."""

__all__: list[str] = []
