"""How fast the command line answers: `perfspec --version`, `-h`, and `validate` of the
quickstart, each as a whole process, against a bare `python -c 'import json'` in the same run
(the floor of any Python CLI). Rounds alternate; medians. Goal: --version <= 6x the floor.

    python bench/startup.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c 'import json'": [sys.executable, "-c", "import json"],
    "perfspec --version": [sys.executable, "-m", "perfspec.compiler.cli", "--version"],
    "perfspec -h": [sys.executable, "-m", "perfspec.compiler.cli", "-h"],
    "perfspec validate specs/quickstart.yaml": [
        sys.executable,
        "-m",
        "perfspec.compiler.cli",
        "validate",
        "specs/quickstart.yaml",
    ],
}


def main(rounds: int = 7) -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
            times[name].append(time.perf_counter() - started)
    floor = statistics.median(times["python -c 'import json'"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:42} {median * 1000:7.1f} ms  {median / floor:5.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
