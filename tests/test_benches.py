"""The benches' own honesty: their target answers 200 and a run with failed requests stops them.

(An earlier bench target answered every request 403, and its figures measured the failure path.)
"""

from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import IN_CI, ROOT

sys.path.insert(0, str(ROOT))
from bench import load_efficiency  # noqa: E402


@pytest.mark.tools
def test_the_bench_target_answers_200_from_a_private_temp_folder(tmp_path: Path) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        if IN_CI:
            pytest.fail("nginx is not installed (.ci/setup.sh installs nginx-light)")
        pytest.skip("nginx is not installed")
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    proc, url = load_efficiency.start_nginx(folder / "nginx")
    try:
        with urllib.request.urlopen(url + "/data.json", timeout=5) as resp:
            assert resp.status == 200 and b'"status": "ok"' in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_run_with_failed_requests_stops_the_bench() -> None:
    load_efficiency.no_failures("k6", 0, 1000)  # none failed: the figures stand
    with pytest.raises(SystemExit, match="3 of 1,000 requests failed"):
        load_efficiency.no_failures("k6", 3, 1000)
