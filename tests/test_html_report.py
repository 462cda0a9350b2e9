"""The HTML report rendered by a real browser (headless Chromium): the plots must draw."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from perfspec.runtime import reports
from perfspec.runtime.checker import judge, read_results

from .conftest import require_tool
from .test_check import locust_file, stat, targets

pytestmark = pytest.mark.tools

BLUE, PURPLE = (0x1F, 0x77, 0xB4), (0x7B, 0x3F, 0xA0)  # the report's p50/histogram and p95 colours

PROBE = """<script>
document.querySelectorAll('details').forEach(d => { d.open = true; });  // the endpoints' charts, collapsed
document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' + JSON.stringify(
  [...document.querySelectorAll('svg.plot')].map(svg => ({
    box: [svg.getBoundingClientRect().width, svg.getBoundingClientRect().height],
    lines: [...svg.querySelectorAll('polyline')].map(p => [p.getBBox().width, p.points.numberOfItems]),
    bars: [...svg.querySelectorAll('rect')].filter(r => r.getBBox().height > 0).length,
  }))) + '</pre>');
</script></body>"""


def chromium(*args: str) -> str:
    exe = require_tool("chromium")
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Rows of RGB pixels of an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            step = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * step, [], bytearray(width * step)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = prev[i], prev[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if step == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


def count_near(rows: list[bytes], colour: tuple[int, int, int], tolerance: int = 40) -> int:
    n = 0
    for row in rows:
        for i in range(0, len(row), 3):
            if all(abs(row[i + k] - colour[k]) <= tolerance for k in range(3)):
                n += 1
    return n


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    samples = [10_000 + 2_000 * (i % 7) + (400_000 if 20 <= i < 25 else 0) for i in range(60)]
    locust_file(folder, "h-1", samples)
    series, _ = read_results([folder])
    verdicts = judge(targets(stat("p95", "<", 0.2), stat("p50", "<", 0.05, "warn")), series)
    empty = targets(stat("p99", "<", 0.1))
    empty["targets"][0].update(name="nothing", endpoints=["missing"])  # no samples: a failing row
    verdicts += judge(empty, series)
    written = reports.write_all(verdicts, folder / "out", "perfspec: <report> & test", series=series)
    return written["html"]


def test_every_plot_draws_in_chromium(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = chromium("--dump-dom", probe.as_uri())
    found = re.findall(r'<pre id="probe">(\[.*?)</pre>', dom, re.S)  # the result, not the script
    assert found, "the report did not load in Chromium"
    plots = json.loads(html.unescape(found[-1]))
    # the one target with samples, then its endpoint: latency over time, requests per second and
    # the histogram each
    assert len(plots) == 6
    assert all(w > 500 and h > 150 for w, h in (p["box"] for p in plots))
    for latency, rps, histogram in (plots[:3], plots[3:]):
        assert [n for _w, n in latency["lines"]] == [60, 60]  # p50 and p95, one point per second
        assert all(w > 400 for w, _n in latency["lines"] + rps["lines"])  # spans the chart's width
        assert histogram["bars"] >= 3  # the latency spread over several log bins


def test_screenshot_shows_plots_and_the_verdict_table(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    chromium("--window-size=1280,1400", f"--screenshot={shot}", report.as_uri())
    if os.environ.get("PERFSPEC_ARTIFACTS"):  # kept for people to look at (.ci/test sets it)
        keep = Path(os.environ["PERFSPEC_ARTIFACTS"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, keep / "report-first-screen.png")
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 1400)
    assert count_near(rows, BLUE, 30) > 2000  # histogram bars and the p50 line
    assert count_near(rows, PURPLE, 40) > 100  # the p95 line (never a bound's red)
    assert count_near(rows, (0xF8, 0xD7, 0xDA), 4) > 200  # the failing target's red verdict cell


def console_messages(page: Path) -> list[str]:
    """What the page wrote to the browser's console (errors, uncaught exceptions, warnings)."""
    exe = require_tool("chromium")
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--dump-dom"]
        + [page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def test_the_report_renders_with_no_console_message(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"  # the control: what this test would catch
    broken.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")
    assert any("boom" in m for m in console_messages(broken))
    assert console_messages(report) == []
