"""Latency figures the benchmarks print."""

from __future__ import annotations

from collections.abc import Sequence


def percentiles(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p99 and max of `seconds`, in milliseconds (None when there are none)."""
    if not seconds:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}
