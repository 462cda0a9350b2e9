"""Per-second time lines held as columns (runtime/timeline.py) give the numbers the histograms give
one second at a time: merged, sliced, per second, per `for:` window; and the columns a k6 stream's
file holds read back exactly, or fail naming what is wrong."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from perfspec.runtime.histogram import Histogram, round3
from perfspec.runtime.measured import merge, windowed
from perfspec.runtime.readers import read_file
from perfspec.runtime.results import ResultError, Series
from perfspec.runtime.timeline import Timeline
from perfspec.runtime.verdict import QUANTILES

STATS = [*QUANTILES, "avg", "min", "max", "throughput", "error_rate", "success_rate"]


def random_slots(
    rng: random.Random, seconds: int, gaps: bool = True
) -> list[tuple[int, int, int, Histogram]]:
    """Seconds with random gaps; each a few hundred latencies over four decades, some failed."""
    out = []
    for t in range(seconds):
        if gaps and rng.random() < 0.15:
            continue
        h = Histogram()
        calls = rng.randrange(0, 300)
        for _ in range(calls):
            h.add(int(rng.lognormvariate(16, 1.2)))
        out.append((t, calls + rng.randrange(0, 3), rng.randrange(0, 5), h))
    return out


def reference_merge(parts: list[list[tuple[int, int, int, Histogram]]]) -> dict[int, list]:
    slots: dict[int, list] = {}
    for part in parts:
        for t, c, f, h in part:
            slot = slots.setdefault(t, [0, 0, Histogram()])
            slot[0] += c
            slot[1] += f
            slot[2].merge(h)
    return dict(sorted(slots.items()))


@pytest.mark.parametrize("seed", range(6))
def test_merged_columns_give_every_seconds_histogram_and_percentiles(seed: int) -> None:
    rng = random.Random(seed)
    parts = [random_slots(rng, 40) for _ in range(rng.randrange(1, 4))]
    merged = Timeline.merge([Timeline.from_slots(p) for p in parts])
    expected = reference_merge(parts)
    assert [(t, c, f, h.counts) for t, c, f, h in merged] == [
        (t, c, f, h.counts) for t, (c, f, h) in expected.items()
    ]
    qs = (0.5, 0.95, 0.999)
    got = merged.quantiles(qs)
    for i, q in enumerate(qs):
        assert got[i] == [h.quantile(q) for c, f, h in expected.values()]
    whole = Histogram()
    for _c, _f, h in expected.values():
        whole.merge(h)
    assert merged.histogram().counts == whole.counts
    assert merged.totals() == (
        sum(c for c, _f, _h in expected.values()),
        sum(f for _c, f, _h in expected.values()),
    )
    part = merged.slice(10, 25)
    assert [t for t, *_ in part] == [t for t in expected if 10 <= t < 25]


@pytest.mark.parametrize("seed", range(4))
def test_every_window_statistic_is_the_merged_seconds_statistic(seed: int) -> None:
    """What `for: 5s` judges: each window's statistic as the series of its seconds merged gives."""
    from perfspec.runtime.measured import measure

    rng = random.Random(100 + seed)
    slots = random_slots(rng, 60)
    tl = Timeline.from_slots(slots)
    by_second = {t: (c, f, h) for t, c, f, h in slots}
    width = rng.choice([1, 5, 7])
    first, last = slots[0][0], slots[-1][0]
    for stat in STATS:
        starts, values = tl.windows(width, stat)
        assert starts == list(range(first, last - width + 2))
        for start, value in zip(starts, values, strict=True):
            w = Series("k6", "http", "ep", "f", "s", elapsed=float(width))
            for sec in range(start, start + width):
                if sec in by_second:
                    c, f, h = by_second[sec]
                    w.count += c
                    w.failures += f
                    w.histogram.merge(h)
            want = measure(stat, w, "latency")[0]
            assert value == pytest.approx(want, rel=1e-12) if want is not None else value is None, (
                stat,
                start,
            )


def test_a_window_broken_in_the_middle_of_a_long_run_is_named_by_its_second() -> None:
    """A 30-minute line at 1 ms with 10 s of 80 ms at minute 20: `p95 < 50ms for 10s` fails at the
    first window whose 10 s hold one of them (10 % of its samples at 80 ms)."""
    from perfspec.runtime.contracts import StatBound, Target

    slots = [
        (t, 100, 0, Histogram({80_000_000 if 1200 <= t < 1210 else 1_000_000: 100})) for t in range(1800)
    ]
    s = Series("k6", "http", "ep", "f", "s", count=180_000, timeline=slots, elapsed=1800.0)
    bound = StatBound(op="<", value=0.05, text="< 50ms", stat="p95", severity="fail", line=3)
    target = Target(
        index=0, name="t", kind="measured", line=3, endpoints=("ep",), stats=(bound,), window=10.0
    )
    [(severity, why)] = windowed(target, s)
    assert severity == "fail"
    assert why == "p95 80.000ms breaks < 50ms in the 10s window starting at second 1191", why


def test_merge_of_one_series_shares_its_timeline_and_of_two_adds_them() -> None:
    rng = random.Random(7)
    a = Series("k6", "http", "ep", "a", "a", timeline=random_slots(rng, 20))
    b = Series("k6", "http", "ep", "b", "b", timeline=random_slots(rng, 20))
    assert merge([a]).timeline is a.timeline
    assert merge([a, b]).timeline == Timeline.merge([a.timeline, b.timeline])


def results_file(folder: Path, series: dict) -> Path:
    path = folder / "k6-histograms.json"
    doc = {"format": "perfspec-results/1", "tool": "k6", "unit": "ns", "profile": "p", "started": 0.0,
           "ended": 60.0, "series": series}  # fmt: skip
    path.write_text(json.dumps(doc))
    return path


def test_columns_read_back_as_the_rows_they_replace(tmp_path: Path) -> None:
    rng = random.Random(3)
    slots = random_slots(rng, 60)
    tl = Timeline.from_slots(slots)
    columns = tl.to_columns()
    assert columns is not None
    for key, column in columns.items():  # each in the fewest bits that hold it
        if key != "values":
            top = max(int.from_bytes(b, "little") for b in _chunks(column))
            assert column["bits"] == next(bits for bits in (8, 16, 32) if top < 1 << bits), key
    assert columns["index"]["bits"] == 16 and columns["failures"]["bits"] == 8
    whole = tl.histogram()
    common = {"count": sum(c for _t, c, _f, _h in slots), "failures": sum(f for _t, _c, f, _h in slots),
              "histogram": whole.to_pairs()}  # fmt: skip
    folder_a, folder_b = tmp_path / "a", tmp_path / "b"
    folder_a.mkdir(), folder_b.mkdir()
    [by_columns] = read_file(results_file(folder_a, {"ep": {**common, "columns": columns}}))
    [by_rows] = read_file(results_file(folder_b, {"ep": {**common, "timeline": tl.flat_rows()}}))
    assert by_columns.timeline == by_rows.timeline == tl
    assert len(json.dumps(columns)) < 0.6 * len(json.dumps(tl.flat_rows()))


def _chunks(column: dict) -> list[bytes]:
    raw, size = base64.b64decode(column["base64"]), column["bits"] // 8
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def test_a_series_with_both_forms_of_its_seconds_is_refused(tmp_path: Path) -> None:
    tl = Timeline.from_slots([(0, 1, 0, {1000: 1})])
    both = {"count": 1, "failures": 0, "histogram": [[1000, 1]], "columns": tl.to_columns(), "timeline": []}
    with pytest.raises(ResultError, match="holds both `columns` and `timeline`: one only"):
        read_file(results_file(tmp_path, {"ep": both}))


def test_the_locust_support_module_packs_its_seconds_as_the_timeline_does() -> None:
    """One layout, two writers: the support module (pure Python, beside the locustfiles) and
    Timeline (numpy, the k6 stream)."""
    from perfspec.runtime.support.perfspec_histogram import columns

    slots = random_slots(random.Random(11), 50)
    rows = [(t, c, f, h.counts) for t, c, f, h in slots]
    assert columns(rows) == Timeline.from_slots(slots).to_columns()
    assert columns([(0, 1, 0, {5: 2**32})]) is None


def test_a_count_past_32_bits_is_written_as_rows() -> None:
    tl = Timeline.from_slots([(0, 2**32, 0, Histogram({round3(5_000_000): 2**32}))])
    assert tl.to_columns() is None


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda c: c.update(index={"bits": 16, "base64": "not base64!"}), "`index` is not"),
        (lambda c: c.update(counts={"bits": 12, "base64": ""}), "`counts` is not"),
        (lambda c: c.update(values=list(reversed(c["values"]))), "not in ascending order"),
        (lambda c: c.update(values=c["values"][:1]), "an index 2 past the 1 `values`"),
        (lambda c: c.update(values=[-5, *c["values"][1:]]), "whole latencies from 0"),
        (
            lambda c: c.update(sizes={"bits": 8, "base64": base64.b64encode(bytes([1, 1])).decode()}),
            "add up to",
        ),
        (lambda c: c.pop("calls"), "`calls` is not"),
    ],
)
def test_spoiled_columns_are_refused_naming_the_column(tmp_path: Path, spoil, message: str) -> None:
    columns = Timeline.from_slots([(0, 3, 0, {1000: 1, 2000: 2}), (1, 1, 1, {3000: 1})]).to_columns()
    spoil(columns)
    path = results_file(tmp_path, {"ep": {"count": 4, "failures": 1, "histogram": [], "columns": columns}})
    with pytest.raises(ResultError, match="series 'ep'") as caught:
        read_file(path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ([0, 1, 0, [[10**13, 1]]], "not a whole number from 0 to 10\\^15 ns"),  # 10^13 us is 10^16 ns
        ([0, 1, 0, [[5, -1]]], "count -1 is not a whole number"),
        ([0, True, 0, [[5, 1]]], "count True is not a whole number"),
        ([0, 1, 0, [[5.5, 1]]], None),  # a fraction of a microsecond: converted, not refused
    ],
)
def test_listed_seconds_out_of_range_are_refused_as_before(tmp_path: Path, second: list, message) -> None:
    """The seconds a Locust file lists (microseconds): read in whole columns when every number is
    whole and in range, else second by second, which converts or names what is wrong."""
    doc = {"format": "perfspec-results/1", "tool": "locust", "unit": "us", "started": 0, "ended": 1,
           "series": {"ep": {"count": 1, "failures": 0, "histogram": [], "timeline": [second]}}}  # fmt: skip
    path = tmp_path / "locust-h-1.json"
    path.write_text(json.dumps(doc))
    if message is None:
        [s] = read_file(path)
        assert s.timeline.histogram().counts == {5500: 1}
        return
    with pytest.raises(ResultError, match=message):
        read_file(path)
