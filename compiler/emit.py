"""Artifacts -> the output folder: atomic writes, a manifest of what perfspec generated, --check.

A file the manifest does not list is the user's: it is never overwritten or deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .backends import Artifact

MANIFEST = ".perfspec-manifest.json"
SHARED = "*"  # the manifest's spec of support modules: kept until removed by hand


@dataclass
class BuildResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # --check: differs or missing
    refused: list[str] = field(default_factory=list)  # user files in the way


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(out: Path) -> dict[str, dict[str, str]]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        assert isinstance(files, dict)
        return files
    except (ValueError, KeyError, AssertionError, OSError):
        return {}


def atomic_write(path: Path, text: str) -> None:
    """Temp file in the target's folder, fsync, rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(artifacts: dict[str, list[Artifact]], out: Path, *, check: bool) -> BuildResult:
    """Write (or with check=True compare) artifacts grouped by spec file."""
    result = BuildResult()
    manifest = read_manifest(out)
    wanted: dict[str, tuple[str, str]] = {}
    for spec_file, arts in sorted(artifacts.items()):
        for a in arts:
            # support modules are shared by every spec of the output folder
            wanted[a.path.as_posix()] = (SHARED if a.shared else spec_file, a.content)
    built_specs = set(artifacts)
    for rel in sorted(wanted):
        path = out / rel
        if path.exists() and rel not in manifest:
            result.refused.append(rel)
    if result.refused and not check:
        return result
    for rel, (_spec, content) in sorted(wanted.items()):
        path = out / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == content:
            result.unchanged.append(rel)
            continue
        if check:
            result.stale.append(rel)
            continue
        atomic_write(path, content)
        result.written.append(rel)
    # files perfspec generated earlier for these specs that no backend produces any more
    for rel, info in sorted(manifest.items()):
        if info.get("spec") in built_specs and rel not in wanted and (out / rel).exists():
            if check:
                result.stale.append(rel)
            else:
                (out / rel).unlink()
                result.removed.append(rel)
    if not check:
        new = {rel: info for rel, info in manifest.items()
               if info.get("spec") not in built_specs and (out / rel).exists()}
        for rel, (spec_file, content) in wanted.items():
            new[rel] = {"spec": spec_file, "sha256": _digest(content)}
        text = json.dumps({"files": dict(sorted(new.items()))}, indent=2, sort_keys=True) + "\n"
        if (out / MANIFEST).exists() and (out / MANIFEST).read_text(encoding="utf-8") == text:
            return result
        atomic_write(out / MANIFEST, text)
    return result
