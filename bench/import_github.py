"""`perfspec import` of GitHub's official REST description (npm @octokit/openapi, 1,223
operations, 13 MB), as .ci/setup.sh installs it: prints the time of each round, the median,
and its ratio to a bare `json.load` of the same file (the floor any importer pays). Goal: <= 10 s,
every operation an endpoint.

    python bench/import_github.py [ROUNDS]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / ".ci/npm/node_modules/@octokit/openapi/generated/api.github.com.json"


def main(rounds: int = 3) -> None:
    if not DOCUMENT.is_file():
        sys.exit(f"{DOCUMENT} is missing: bash .ci/setup.sh installs it")
    operations = sum(
        1
        for item in json.loads(DOCUMENT.read_text()).get("paths", {}).values()
        for method in ("get", "post", "put", "patch", "delete", "head", "options")
        if method in item
    )
    times, floors = [], []
    for i in range(rounds):
        started = time.perf_counter()
        json.loads(DOCUMENT.read_text())
        floors.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "pyproject.toml").write_text("")
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "perfspec.compiler.cli", "import", str(DOCUMENT), "--out", "s.yaml"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=600,
            )
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                sys.exit(proc.stderr)
            print(
                f"round {i + 1}: {times[-1]:.2f} s  ({proc.stdout.split(':')[1].split(' from')[0].strip()})"
            )
    median = statistics.median(times)
    floor = statistics.median(floors)
    print(f"{operations} operations; import median {median:.2f} s over {rounds} rounds (goal <= 10 s)")
    print(f"json.load of the same file: {floor:.2f} s ({median / floor:.1f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
