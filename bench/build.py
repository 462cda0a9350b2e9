"""Build of 1,000 endpoints + 200 queries, and a no-op `build --check`. Goals: <= 1 s, <= 0.5 s;
the whole CLI process of a `build --check` with nothing changed since the last check (answered
from it, compiler/cli/check_cache.py): <= 0.4 s, beside a bare `python -c 'import json'`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from validate import big_spec  # noqa: E402


def timed(args: list[str], cwd: Path, env: dict | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return elapsed


def in_process(spec: Path, out: Path, check: bool) -> float:
    from perfspec.compiler.backends import all_backends
    from perfspec.compiler.emit import emit
    from perfspec.compiler.plan import build_plan
    from perfspec.compiler.validate import check_file

    t0 = time.perf_counter()
    plan = build_plan(check_file(spec))
    arts = {plan.file: [a for b in all_backends().values() for a in b.emit(plan)]}
    result = emit(arts, out, check=check)
    assert not result.stale and not result.refused
    return time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = folder / "bench.yaml"
        spec.write_text(big_spec())
        out = folder / "generated"
        build = min(in_process(spec, out / f"b{i}", check=False) for i in range(3))
        in_process(spec, out, check=False)
        check = min(in_process(spec, out, check=True) for i in range(5))
        env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
        command = [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "build",
            str(spec),
            "--out",
            str(out),
            "--check",
        ]
        cli = timed(command, Path.cwd(), env)
        again = sorted(timed(command, Path.cwd(), env) for i in range(5))[2]
        floor = sorted(timed([sys.executable, "-c", "import json"], Path.cwd()) for i in range(5))[2]
    print("spec: 1000 endpoints, 200 queries, 50 targets")
    print(f"build (load, validate, plan, every backend, write): {build:.3f} s  (goal <= 1 s)")
    print(f"no-op build --check, in process:                    {check:.3f} s  (goal <= 0.5 s)")
    print(f"no-op build --check, whole CLI process, first:      {cli:.3f} s")
    print(f"  again, nothing changed (median of 5):             {again:.3f} s  (goal <= 0.4 s)")
    print(f"  python -c 'import json' (median of 5):            {floor:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
