"""Benchmarks: the shipped recipes against the loopback sandboxes, beside hand-written scripts.

`python -m bench SCENARIO` runs one scenario; bench/README.md lists them and what each measures.
"""

__all__: list[str] = []
