"""What two commands keep between runs, in the user's cache folder ($XDG_CACHE_HOME or
~/.cache/perfspec, never the project), each keyed by every input it depends on and by perfspec's
own code (an edited backend is a new key, whatever the version). Anything else, a missing or
unreadable entry, does the whole work.

- `perfspec build --check` with nothing to do, answered without building: when the specs, the
  backends asked for, the output folder and perfspec's code are what an earlier check found
  fresh, and every generated file (and the manifest) still has the content that check saw, the
  answer is the same. A check answered from the cache does not validate the specs again
  (`perfspec validate` does).
- `perfspec check` of a spec it judged before reads the spec's targets (its targets.json) and its
  warnings from here instead of loading the spec's model again, which is half of what a check
  of a long run takes (#33): the same spec file's bytes, given by the same path from the same
  folder, with the same perfspec, compile to the same targets. The project's other specs are
  read again (a name they took since refuses the spec: the whole check then says so).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

SOURCES = ("*.py", "*.j2", "*.js", "*.sql", "*.yaml", "*.json")
MANIFEST = ".perfspec-manifest.json"  # emit.MANIFEST (emit imports every backend: too slow here)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code() -> str:
    """perfspec's own code and templates (an edited backend is a new key, whatever the version)."""
    import perfspec.compiler
    import perfspec.runtime

    h = hashlib.sha256()
    for package in (perfspec.compiler, perfspec.runtime):
        root = Path(package.__file__).parent
        for pattern in SOURCES:
            for f in sorted(root.rglob(pattern)):
                if "__pycache__" not in f.parts:
                    h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    try:
        h.update(version("perfspec").encode())
    except PackageNotFoundError:
        pass
    return h.hexdigest()


def _file(key: str, kind: str = "build-check") -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "perfspec" / kind / f"{key}.json"


KEEP = 256  # entries per kind: the newest stay, older ones go (each is a few KB)


def _write(path: Path, entry: dict) -> None:
    """Atomically; best effort (a read-only home is no error). The folder keeps its KEEP newest
    entries: a cache that only grows would fill a long-used machine's home."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(f.name, path)
        entries = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def key(specs: list[Path], backends: list[str], out: Path) -> str | None:
    """The inputs of a check; None when a spec cannot be read (the whole check says why)."""
    try:
        inputs = [(str(p), _sha(p.read_bytes())) for p in specs]
    except OSError:
        return None
    return _sha(json.dumps([_code(), sorted(backends), str(out.resolve()), inputs]).encode())


def _outputs(out: Path) -> dict[str, str] | None:
    try:
        manifest = (out / MANIFEST).read_bytes()
        files = json.loads(manifest)["files"]
        found = {rel: _sha((out / rel).read_bytes()) for rel in files}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {MANIFEST: _sha(manifest), **found}


def fresh(check_key: str | None, out: Path) -> int | None:
    """The number of up-to-date files an earlier check found, if it still holds; else None."""
    if check_key is None:
        return None
    try:
        cached = json.loads(_file(check_key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return cached.get("unchanged") if cached.get("outputs") == _outputs(out) else None


def remember(check_key: str | None, out: Path, unchanged: int) -> None:
    """After a check found everything fresh; best effort (a read-only home is no error)."""
    outputs = _outputs(out)
    if check_key is None or outputs is None:
        return
    _write(_file(check_key), {"unchanged": unchanged, "outputs": outputs})


# -- perfspec check: a spec's targets as judging reads them ------------------------------------


def spec_key(spec: Path) -> str | None:
    """A spec as given: its path (as typed, and the folder it was typed in: its messages name it
    relative to there), its bytes, perfspec's code; None when it cannot be read (loading it
    says why)."""
    try:
        data = spec.read_bytes()
    except OSError:
        return None
    return _sha(json.dumps([_code(), str(spec), os.getcwd(), _sha(data)]).encode())


def judged(key: str | None) -> dict | None:
    """What an earlier check compiled of the spec: {"file", "name", "targets" (targets.json's
    text), "warnings" (its lines as printed)}; None without one."""
    if key is None:
        return None
    try:
        entry = json.loads(_file(key, "check").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fields = {"file": str, "name": str, "targets": str, "warnings": list}
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), t) for k, t in fields.items()):
        return None
    return entry if all(isinstance(w, str) for w in entry["warnings"]) else None


def remember_judged(key: str | None, file: str, name: str, targets: str, warnings: list[str]) -> None:
    if key is not None:
        _write(_file(key, "check"), {"file": file, "name": name, "targets": targets, "warnings": warnings})
