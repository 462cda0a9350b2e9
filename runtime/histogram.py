"""Mergeable latency histograms: exact values kept to 3 significant digits, in nanoseconds.

Every result file (Locust, k6, SQL) becomes this form. Merging sums counts per key, so shards
and workers merge exactly; percentiles are read from the merged counts (nearest rank), never
averaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def round3(ns: int) -> int:
    """Round to 3 significant digits (values under 1000 ns stay exact)."""
    if ns < 1000:
        return max(0, ns)
    scale = 10 ** (len(str(ns)) - 3)
    return (ns + scale // 2) // scale * scale


def half_width(ns: float) -> float:
    """How far a value read from the histogram may be from the true one: half a unit of its third
    significant digit (values under 1000 ns are exact)."""
    if ns < 1000:
        return 0.0
    return 10 ** (len(str(int(ns))) - 3) / 2


class Histogram:
    __slots__ = ("counts", "_sorted")

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})
        self._sorted: list[tuple[int, int]] | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[Iterable], scale: int = 1) -> Histogram:
        """[[value, count], ...] in a file's unit; scale converts to nanoseconds."""
        h = cls()
        for value, count in pairs:
            # a result file is not trusted: a negative, infinite or absurd value is refused
            if not (isinstance(value, int | float) and 0 <= value < 1e15):
                raise ValueError(f"latency {value!r} is not a finite, non-negative number")
            if not (isinstance(count, int) and 0 <= count < 10**15):
                raise ValueError(f"count {count!r} is not a whole number from 0 to 10^15")
            key = int(round(value * scale))
            h.counts[key] = h.counts.get(key, 0) + count
        return h

    def add(self, ns: int, count: int = 1) -> None:
        key = round3(int(ns))
        self.counts[key] = self.counts.get(key, 0) + count
        self._sorted = None

    def merge(self, other: Histogram) -> Histogram:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        self._sorted = None
        return self

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _items(self) -> list[tuple[int, int]]:
        if self._sorted is None:
            self._sorted = sorted(self.counts.items())
        return self._sorted

    def quantile(self, q: float) -> int | None:
        """Nearest rank: the smallest value with at least q of all samples at or below it."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, -int(-q * total // 1))
        seen = 0
        for key, count in self._items():
            seen += count
            if seen >= rank:
                return key
        return self._items()[-1][0]

    def mean(self) -> float | None:
        total = self.total
        return sum(k * c for k, c in self.counts.items()) / total if total else None

    def min(self) -> int | None:
        return self._items()[0][0] if self.counts else None

    def max(self) -> int | None:
        return self._items()[-1][0] if self.counts else None

    def to_pairs(self) -> list[list[int]]:
        return [[k, c] for k, c in self._items()]
