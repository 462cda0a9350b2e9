"""The latency histogram of perfspec: exact values kept to 3 significant digits (each within
0.5 %), one definition for every writer and reader: the Locust support module (microseconds), the
SQL benchmark (nanoseconds), and perfspec's readers and checker (nanoseconds, runtime/histogram.py
re-exports it). Merging sums counts per key, so shards and workers merge exactly; percentiles are
read from the merged counts (nearest rank), never averaged. Pure Python, no dependencies: written
once per output folder beside the generated files, which need only their tool.
"""

from __future__ import annotations

import base64
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import accumulate
from operator import itemgetter


def _plain(pairs: list) -> bool:
    """Whether every pair is [int value, int count] with both in range and every value once:
    the common case, checked without a Python step per pair."""
    if set(map(type, pairs)) != {list} or set(map(len, pairs)) != {2}:
        return False
    values, counts = [p[0] for p in pairs], [p[1] for p in pairs]
    if set(map(type, values)) != {int} or set(map(type, counts)) != {int}:
        return False
    return (
        min(values) >= 0
        and max(values) < 10**15
        and min(counts) >= 0
        and max(counts) < 10**15
        and len(set(values)) == len(values)
    )


def packed(numbers: list[int]) -> dict | None:
    """Whole numbers from 0 to 2**32 - 1 as one column of a result file: little-endian in the
    fewest of 8, 16 or 32 bits, in base64. None when one does not fit."""
    top = max(numbers, default=0)
    if top >= 1 << 32 or min(numbers, default=0) < 0:
        return None
    bits, code = (8, "B") if top < 1 << 8 else (16, "H") if top < 1 << 16 else (32, "I")
    data = array(code, numbers)
    if data.itemsize * 8 != bits:  # a platform whose C unsigned int is not 32 bits
        data = array("L", numbers) if array("L").itemsize * 8 == bits else None
        if data is None:
            return None
    if sys.byteorder == "big":
        data.byteswap()
    return {"bits": bits, "base64": base64.b64encode(data.tobytes()).decode("ascii")}


def columns(seconds: list[tuple[int, int, int, Mapping[int, int]]]) -> dict | None:
    """Per-second histograms (second, calls, failures, counts by value) as a result file's
    `columns`: `values` the distinct latencies ascending, then packed columns: `seconds`,
    `calls`, `failures` and `sizes` (entries) per second, and per entry, a second's in order of
    latency, its latency's `index` in `values` and its `count`. Reading a 30-minute file's
    columns takes a tenth of a second where lists of pairs took seconds. None when a number does
    not fit (the writer lists the seconds instead)."""
    table = sorted({value for _t, _c, _f, counts in seconds for value in counts})
    where = {value: i for i, value in enumerate(table)}
    index: list[int] = []
    counted: list[int] = []
    for _t, _c, _f, counts in seconds:
        keys = sorted(counts)
        index.extend(where[k] for k in keys)
        counted.extend(counts[k] for k in keys)
    parts = {
        "seconds": packed([s[0] for s in seconds]),
        "calls": packed([s[1] for s in seconds]),
        "failures": packed([s[2] for s in seconds]),
        "sizes": packed([len(s[3]) for s in seconds]),
        "index": packed(index),
        "counts": packed(counted),
    }
    if len(table) > 1 << 16 or any(p is None for p in parts.values()):
        return None
    return {"values": table, **parts}


def round3(value: int) -> int:
    """Round to 3 significant digits; values under 1000 stay exact (no string work: it runs once
    per request)."""
    if value < 1000:
        return max(0, value)
    scale = 10
    while value >= scale * 1000:
        scale *= 10
    return (value + scale // 2) // scale * scale


def half_width(value: float) -> float:
    """How far a value read from the histogram may be from the true one: half a unit of its third
    significant digit (values under 1000 are exact)."""
    if value < 1000:
        return 0.0
    return 10 ** (len(str(int(value))) - 3) / 2


class Histogram:
    """Counts by value (a whole number of the writer's unit), 3 significant digits."""

    __slots__ = ("counts", "_sorted")

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})
        self._sorted: list[tuple[int, int]] | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[Iterable], scale: int = 1) -> Histogram:
        """[[value, count], ...] as a result file holds them; `scale` converts the file's unit. A
        result file is not trusted: a negative, infinite or absurd value is refused."""
        h = cls()
        if scale == 1 and isinstance(pairs, list) and pairs and _plain(pairs):
            h.counts = dict(map(tuple, pairs))  # checked in C-speed passes: whole, in range, unique
            return h
        for value, count in pairs:
            if not (isinstance(value, int | float) and 0 <= value < 1e15):
                raise ValueError(f"latency {value!r} is not a finite, non-negative number")
            if not (isinstance(count, int) and 0 <= count < 10**15):
                raise ValueError(f"count {count!r} is not a whole number from 0 to 10^15")
            key = int(round(value * scale))
            h.counts[key] = h.counts.get(key, 0) + count
        return h

    def add(self, value: int, count: int = 1) -> None:
        key = round3(int(value))
        self.counts[key] = self.counts.get(key, 0) + count
        self._sorted = None

    def extend(self, values: Iterable[int]) -> None:
        for value in values:
            self.add(value)

    def merge(self, other: Histogram) -> Histogram:
        return self.merge_counts(other.counts)

    def merge_counts(self, counts: Mapping[int, int]) -> Histogram:
        for key, count in counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        self._sorted = None
        return self

    def merge_pairs(self, pairs: Iterable[Iterable[int]]) -> Histogram:
        for key, count in pairs:
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

    def quantiles(self, qs: Iterable[float]) -> list[int | None]:
        """Several quantiles in one pass (the running total in C, each rank found by bisection):
        what quantile() gives for each."""
        items = self._items()
        running = list(accumulate(map(itemgetter(1), items)))
        total = running[-1] if running else 0
        if total == 0:
            return [None for _q in qs]
        out: list[int | None] = []
        for q in qs:
            i = bisect_left(running, max(1, -int(-q * total // 1)))
            out.append(items[min(i, len(items) - 1)][0])
        return out

    def mean(self) -> float | None:
        total = self.total
        return sum(k * c for k, c in self.counts.items()) / total if total else None

    def min(self) -> int | None:
        return self._items()[0][0] if self.counts else None

    def max(self) -> int | None:
        return self._items()[-1][0] if self.counts else None

    def to_list(self) -> list[list[int]]:
        return [[k, c] for k, c in self._items()]

    to_pairs = to_list
