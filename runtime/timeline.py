"""A series' per-second time line as columns: merged, sliced and read in array steps.

A 30-minute run of 8 endpoints is 14,400 per-second histograms; merging and reading them one
dictionary at a time took most of a `perfspec check` (#33). Here they are three columns of
histogram entries (second, value, count) beside each second's calls and failures, so a merge is
a concatenation and a percentile per second or per `for:` window is a sort and a cumulative sum.
The numbers are the ones Histogram gives (nearest rank over the same counts): tests/test_timeline.py
compares them on random series.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator

import numpy as np

from .histogram import Histogram
from .support.perfspec_histogram import packed

_EMPTY = np.zeros(0, np.int64)


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64) if len(values) else _EMPTY


class Timeline:
    """Seconds since the start (sorted, each once) with their calls and failures, and the latency
    histogram entries of every second as three columns: `at` (its second), `values`, `ns` (its
    count). A value may repeat within a second: its counts add up. Iterating gives
    (second, calls, failures, Histogram) per second, as a result file lists them."""

    __slots__ = ("secs", "calls", "fails", "at", "values", "ns", "_slots", "_order")

    def __init__(
        self,
        secs: np.ndarray = _EMPTY,
        calls: np.ndarray = _EMPTY,
        fails: np.ndarray = _EMPTY,
        at: np.ndarray = _EMPTY,
        values: np.ndarray = _EMPTY,
        ns: np.ndarray = _EMPTY,
    ) -> None:
        self.secs, self.calls, self.fails = secs, calls, fails
        self.at, self.values, self.ns = at, values, ns
        self._slots: list[tuple[int, int, int, Histogram]] | None = None
        self._order: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def build(cls, secs, calls, fails, at, values, ns) -> Timeline:
        """From columns in any order (a second may come twice: its calls add up)."""
        secs, calls, fails = _ints(secs), _ints(calls), _ints(fails)
        at, values, ns = _ints(at), _ints(values), _ints(ns)
        if len(secs) > 1 and not bool(np.all(secs[1:] > secs[:-1])):
            secs, where = np.unique(secs, return_inverse=True)
            summed_calls, summed_fails = np.zeros(len(secs), np.int64), np.zeros(len(secs), np.int64)
            np.add.at(summed_calls, where, calls)
            np.add.at(summed_fails, where, fails)
            calls, fails = summed_calls, summed_fails
        return cls(secs, calls, fails, at, values, ns)

    @classmethod
    def from_slots(cls, slots: Iterable) -> Timeline:
        """From (second, calls, failures, histogram) rows; a histogram as a Histogram, a mapping
        of value to count, or [value, count] pairs."""
        if isinstance(slots, Timeline):
            return slots
        secs, calls, fails, at, values, ns = [], [], [], [], [], []
        for t, c, f, h in slots:
            counts = h.counts if isinstance(h, Histogram) else dict(h)
            secs.append(t)
            calls.append(c)
            fails.append(f)
            at.extend([t] * len(counts))
            values.extend(counts)
            ns.extend(counts.values())
        return cls.build(secs, calls, fails, at, values, ns)

    @classmethod
    def merge(cls, timelines: list[Timeline]) -> Timeline:
        """Every second's calls, failures and histogram entries added up over the time lines."""
        timelines = [t for t in timelines if len(t.secs)]
        if not timelines:
            return cls()
        if len(timelines) == 1:
            return timelines[0]
        return cls.build(*(np.concatenate([getattr(t, k) for t in timelines]) for k in cls.__slots__[:6]))

    # -- the list view: what a result file holds ------------------------------------------------

    def __len__(self) -> int:
        return len(self.secs)

    def __bool__(self) -> bool:
        return len(self.secs) > 0

    def __iter__(self) -> Iterator[tuple[int, int, int, Histogram]]:
        return iter(self.slots())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return self.slots() == other
        if isinstance(other, Timeline):
            return [(t, c, f, h.counts) for t, c, f, h in self] == [
                (t, c, f, h.counts) for t, c, f, h in other
            ]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries ordered by second, then value."""
        if self._order is None:
            at, values = self.at, self.values
            top = int(values.max()) + 1 if len(values) else 1
            if len(at) and int(at.min()) >= 0 and int(at.max()) < 2**62 // top:
                key = at * top + values  # one key: a read series is in order already, a merge
                if bool(np.all(key[1:] >= key[:-1])):  # is runs in order (timsort merges them)
                    self._order = (at, values, self.ns)
                    return self._order
                order = np.argsort(key, kind="stable")
            else:
                order = np.lexsort((values, at))
            self._order = (at[order], values[order], self.ns[order])
        return self._order

    def slots(self) -> list[tuple[int, int, int, Histogram]]:
        if self._slots is None:
            at, values, ns = self._sorted()
            lo = np.searchsorted(at, self.secs, "left").tolist()
            hi = np.searchsorted(at, self.secs, "right").tolist()
            values_list, ns_list = values.tolist(), ns.tolist()
            out = []
            rows = zip(self.secs.tolist(), self.calls.tolist(), self.fails.tolist(), strict=True)
            for (t, c, f), a, b in zip(rows, lo, hi, strict=True):
                h = Histogram().merge_pairs(zip(values_list[a:b], ns_list[a:b], strict=True))
                out.append((t, c, f, h))
            self._slots = out
        return self._slots

    def flat_rows(self) -> list[list[int]]:
        """[second, calls, failures, value, count, value, count, ...] per second, values ascending
        and each once: the stream's file (readers/locust.py reads it back)."""
        return [[t, c, f, *(x for pair in h.to_pairs() for x in pair)] for t, c, f, h in self]

    def to_columns(self) -> dict | None:
        """The time line as a result file's `columns`, laid out as the support module's
        `columns()` lays out the Locust results (the same numbers, in array steps), each column
        packed by its `packed()`: `values` the distinct latencies ascending, `seconds`, `calls`,
        `failures` and `sizes` per second, `index` and `count` per entry. None when a number
        does not fit in 32 bits (the caller writes rows instead)."""
        at, values, ns = self._sorted()
        table, index = np.unique(values, return_inverse=True)
        key, where = np.unique(at * max(len(table), 1) + index, return_inverse=True)
        counts = _sum_by(where, ns, len(key))  # a latency once per second
        index, at = key % max(len(table), 1), key // max(len(table), 1)
        sizes = np.searchsorted(at, self.secs, "right") - np.searchsorted(at, self.secs, "left")
        parts = {
            "seconds": self.secs,
            "calls": self.calls,
            "failures": self.fails,
            "sizes": sizes,
            "index": index,
            "counts": counts,
        }
        out = {k: packed(v.tolist()) for k, v in parts.items()}
        if len(table) > 1 << 16 or any(v is None for v in out.values()):
            return None
        return {"values": table.tolist(), **out}

    @classmethod
    def from_columns(cls, columns: object, scale: int = 1) -> Timeline:
        """A result file's `columns` (to_columns; `scale` converts the file's unit of latency),
        checked: a ValueError names what is wrong."""
        if not isinstance(columns, dict):
            raise ValueError("`columns` is not an object")
        table = columns.get("values")
        if not isinstance(table, list) or not all(type(v) is int and 0 <= v * scale < 10**15 for v in table):
            raise ValueError("columns: `values` is not a list of whole latencies from 0 to 10^15")
        if any(b <= a for a, b in zip(table, table[1:], strict=False)):
            raise ValueError("columns: `values` is not in ascending order, each once")
        secs, calls, fails, sizes, index, counts = (
            _unb64(columns, k) for k in ("seconds", "calls", "failures", "sizes", "index", "counts")
        )
        if not len(secs) == len(calls) == len(fails) == len(sizes):
            raise ValueError("columns: `seconds`, `calls`, `failures` and `sizes` differ in length")
        if int(sizes.sum()) != len(index) or len(index) != len(counts):
            raise ValueError(
                f"columns: `sizes` add up to {int(sizes.sum())} entries; `index` holds {len(index)}, "
                f"`counts` {len(counts)}"
            )
        if len(index) and int(index.max()) >= len(table):
            raise ValueError(f"columns: an index {int(index.max())} past the {len(table)} `values`")
        values = np.asarray(table, np.int64)[index] * scale if len(index) else _EMPTY
        return cls.build(secs, calls, fails, np.repeat(secs, sizes), values, counts)

    # -- sums and parts -------------------------------------------------------------------------

    def totals(self) -> tuple[int, int]:
        """Calls and failures over every second."""
        return int(self.calls.sum()), int(self.fails.sum())

    def histogram(self) -> Histogram:
        """Every second's histogram added up."""
        if not len(self.values):
            return Histogram()
        keys, where = np.unique(self.values, return_inverse=True)
        sums = _sum_by(where, self.ns, len(keys))
        return Histogram(dict(zip(keys.tolist(), sums.tolist(), strict=True)))

    def slice(self, lo: float, hi: float) -> Timeline:
        """The seconds from `lo` (inclusive) to `hi` (exclusive)."""
        keep = (self.secs >= lo) & (self.secs < hi)
        entries = (self.at >= lo) & (self.at < hi)
        return Timeline(
            self.secs[keep], self.calls[keep], self.fails[keep],
            self.at[entries], self.values[entries], self.ns[entries],
        )  # fmt: skip

    # -- percentiles per second and per window --------------------------------------------------

    def quantiles(self, qs: Iterable[float], missing: int | None = None) -> list:
        """Per q, per second (as `secs`): the nearest-rank percentile of that second's histogram,
        None for a second without latencies; with `missing`, a column (numpy) with `missing` for
        such a second."""
        at, values, ns = self._sorted()
        if not len(values):
            if missing is not None:
                return [np.full(len(self.secs), missing, np.int64) for _q in qs]
            return [[None] * len(self.secs) for _q in qs]
        running = np.cumsum(ns)
        lo = np.searchsorted(at, self.secs, "left")
        hi = np.searchsorted(at, self.secs, "right")
        before = np.where(lo > 0, running[np.maximum(lo - 1, 0)], 0)
        total = np.where(hi > lo, running[np.maximum(hi - 1, 0)], before) - before
        out = []
        for q in qs:
            rank = np.maximum(1, np.ceil(q * total)).astype(np.int64)
            i = np.minimum(np.searchsorted(running, before + rank, "left"), np.maximum(hi - 1, 0))
            picked = values[np.minimum(i, len(values) - 1)]
            if missing is not None:
                out.append(np.where(total > 0, picked, missing))
            else:
                out.append([v if n else None for v, n in zip(picked.tolist(), total.tolist(), strict=True)])
        return out

    def windows(self, width: int, stat: str) -> tuple[list[int], list[float | None]]:
        """Every full window of `width` seconds from the first second to the last (a second
        without calls counts as empty): its start and the statistic over it, as measured.measure
        reads a series (seconds for latencies, per second for throughput, a ratio for rates;
        None where the window has no value)."""
        first, last = int(self.secs[0]), int(self.secs[-1])
        starts = list(range(first, last - width + 2))
        span = last - first + 1
        calls, fails = np.zeros(span + 1, np.int64), np.zeros(span + 1, np.int64)
        calls[self.secs - first + 1] = self.calls
        fails[self.secs - first + 1] = self.fails
        calls, fails = np.cumsum(calls), np.cumsum(fails)
        n = len(starts)
        c = (calls[width : width + n] - calls[:n]).tolist()
        f = (fails[width : width + n] - fails[:n]).tolist()
        if stat == "throughput":
            return starts, [x / width if x else None for x in c]
        if stat == "error_rate":
            return starts, [b / a if a else None for a, b in zip(c, f, strict=True)]
        if stat == "success_rate":
            return starts, [1 - b / a if a else None for a, b in zip(c, f, strict=True)]
        return starts, [None if v is None else v / 1e9 for v in self._window_latency(width, stat, first, n)]

    def _window_latency(self, width: int, stat: str, first: int, n: int) -> list[float | None]:
        """A latency statistic per window, from a dense (seconds x distinct values) count matrix
        made a block of windows at a time (a block holds at most about 4 million counts)."""
        from .verdict import QUANTILES

        at, values, ns = self._sorted()
        keys, where = np.unique(values, return_inverse=True)
        k = max(len(keys), 1)
        block = max(1, 4_000_000 // k - width)
        out: list[float | None] = []
        for a in range(0, n, block):
            b = min(n, a + block)
            rows = b - a + width - 1  # the seconds the block's windows cover
            lo_sec = first + a
            lo, hi = np.searchsorted(at, [lo_sec, lo_sec + rows])
            flat = (at[lo:hi] - lo_sec) * k + where[lo:hi]
            dense = np.bincount(flat, weights=ns[lo:hi], minlength=rows * k).reshape(rows, k)
            prefix = np.vstack([np.zeros((1, k)), np.cumsum(dense, axis=0)])
            w = prefix[width : width + (b - a)] - prefix[: b - a]  # counts per window and value
            total = w.sum(axis=1)
            has = total > 0
            if stat in QUANTILES:
                running = np.cumsum(w, axis=1)
                rank = np.maximum(1, np.ceil(QUANTILES[stat] * total))
                i = np.minimum((running < rank[:, None]).sum(axis=1), k - 1)
                picked = keys[i].astype(float)
            elif stat == "avg":
                picked = (w @ keys.astype(float)) / np.where(has, total, 1)
            elif stat == "min":
                picked = keys[np.argmax(w > 0, axis=1)].astype(float)
            elif stat == "max":
                picked = keys[k - 1 - np.argmax(w[:, ::-1] > 0, axis=1)].astype(float)
            else:
                raise ValueError(stat)
            out += [float(v) if h else None for v, h in zip(picked.tolist(), has.tolist(), strict=True)]
        return out


def file_form(timeline: Timeline) -> dict:
    """A series' time line as a result file holds it: `columns` (to_columns: a 30-minute file
    reads in a tenth of a second), else flat rows [t, count, failures, value, n, value, n, ...]
    (readers/locust.py timeline())."""
    columns = timeline.to_columns()
    return {"columns": columns} if columns is not None else {"timeline": timeline.flat_rows()}


def _unb64(columns: dict, key: str) -> np.ndarray:
    column = columns.get(key)
    bits = column.get("bits") if isinstance(column, dict) else None
    text = column.get("base64") if isinstance(column, dict) else None
    try:
        raw = base64.b64decode(text, validate=True) if isinstance(text, str) else None
    except binascii.Error:
        raw = None
    if bits not in (8, 16, 32) or raw is None or len(raw) % (bits // 8):
        raise ValueError(f'columns: `{key}` is not {{"bits": 8 | 16 | 32, "base64": ...}} of whole numbers')
    return np.frombuffer(raw, f"<u{bits // 8}").astype(np.int64)


def _sum_by(where: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """counts added up by group, exactly (float weights are exact below 2**53)."""
    if int(counts.sum()) < 2**53:
        return np.bincount(where, weights=counts, minlength=size).astype(np.int64)
    out = np.zeros(size, np.int64)
    np.add.at(out, where, counts)
    return out
