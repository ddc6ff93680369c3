"""A measured metric: its samples reduced to median and p95."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    metric: str
    backend: str
    values: list[float] = field(repr=False)
    unit: str = "ms"
    goal: str | None = None
    floor_ratio: float | None = None
    note: str | None = None
    vs_floor: bool = False  # the same flow as the floor scenario: report the ratio to it

    @property
    def samples(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def fmt(self, value: float) -> str:
        if self.unit == "ms":
            return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"
        if self.unit == "MB":
            return f"{value:.0f} MB"
        if self.unit == "×":
            return f"{value:.2f} ×"
        return f"{value:.1f} {self.unit}"

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "backend": self.backend,
            "unit": self.unit,
            "median": round(self.median, 4),
            "p95": round(self.p95, 4),
            "samples": self.samples,
            "floor_ratio": round(self.floor_ratio, 3) if self.floor_ratio else None,
            "goal": self.goal,
            "note": self.note,
        }


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds per call, one sample per call."""
    values = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        values.append((time.perf_counter() - started) * 1000)
    return values
