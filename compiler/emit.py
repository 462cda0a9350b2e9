"""Artifacts -> the output folder: atomic writes, a manifest of what perfspec generated, --check.

A file the manifest does not list is the user's: it is never overwritten or deleted. The manifest
is committed, so it is not trusted: an entry is honoured only when its path is relative,
normalised and inside the output folder (no symlink out of it), and a file is deleted only when
its content is still exactly what perfspec wrote (the manifest's SHA-256). The manifest is written
before the files (write-ahead), so an interrupted build is finished by the next one; a file whose
content already is what the build would write is taken over as generated.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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
    ignored: list[str] = field(default_factory=list)  # manifest entries not honoured, with why
    outside: list[str] = field(default_factory=list)  # paths that would be written outside `out`


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(out: Path, ignored: list[str] | None = None) -> dict[str, dict[str, str]]:
    """The manifest's entries whose paths are safe (see the module's text); the others are listed
    in `ignored` with the reason."""
    path = out / MANIFEST
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        with path.open("rb") as f:
            data = json.loads(f.read(MANIFEST_MAX + 1).decode("utf-8"))
        files = data["files"]
        assert isinstance(files, dict)
    except (ValueError, KeyError, AssertionError, OSError, UnicodeDecodeError):
        return {}
    good = {}
    for rel, info in files.items():
        why = unsafe(out, rel)
        if why is None and not (isinstance(info, dict) and isinstance(info.get("sha256"), str)):
            why = "no sha256"
        if why is None:
            good[rel] = info
        elif ignored is not None:
            ignored.append(f"{rel!r}: {why}")
    return good


MANIFEST_MAX = 8 * 1024 * 1024


def unsafe(out: Path, rel: str) -> str | None:
    """Why `rel` may not be written or deleted under `out` (None: it may)."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return "not a plain relative path"
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in rel.split("/")):
        return "not a normalised relative path inside the output folder"
    if rel == MANIFEST:
        return "the manifest itself"
    root = out.resolve()
    if (out / pure).resolve() != root / pure:  # resolves every symlink of the existing prefix
        return "it leads outside the output folder through a symlink"
    return None


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
    manifest = read_manifest(out, result.ignored)
    wanted: dict[str, tuple[str, str]] = {}
    for spec_file, arts in sorted(artifacts.items()):
        for a in arts:
            # support modules are shared by every spec of the output folder
            wanted[a.path.as_posix()] = (SHARED if a.shared else spec_file, a.content)
    built_specs = set(artifacts)
    for rel, (_spec, content) in sorted(wanted.items()):
        path = out / rel
        if unsafe(out, rel) is not None:
            result.outside.append(rel)
        elif path.is_symlink() or (path.exists() and not path.is_file()):
            result.refused.append(rel)
        elif path.exists() and rel not in manifest and _read(path) != content:
            result.refused.append(rel)  # the user's file (one with the very content is taken over)
    if (result.refused or result.outside) and not check:
        return result
    if not check:  # write-ahead: a build interrupted from here on is the next build's to finish
        _write_manifest(
            out, {**manifest, **{rel: {"spec": sp, "sha256": _digest(c)} for rel, (sp, c) in wanted.items()}}
        )
    for rel, (_spec, content) in sorted(wanted.items()):
        path = out / rel
        current = _read(path) if path.is_file() else None
        if current == content:
            result.unchanged.append(rel)
            continue
        if check:
            result.stale.append(rel)
            continue
        atomic_write(path, content)
        result.written.append(rel)
    # files perfspec generated earlier for these specs that no backend produces any more; one
    # whose content is no longer what perfspec wrote is left alone (and stays listed)
    kept = {}
    for rel, info in sorted(manifest.items()):
        if info.get("spec") not in built_specs or rel in wanted or not (out / rel).is_file():
            continue
        if (out / rel).is_symlink() or _digest(_read(out / rel) or "") != info.get("sha256"):
            result.ignored.append(f"{rel!r}: changed since perfspec wrote it; not removed")
            kept[rel] = info
        elif check:
            result.stale.append(rel)
        else:
            (out / rel).unlink()
            result.removed.append(rel)
    if not check:
        new = {
            rel: info
            for rel, info in manifest.items()
            if info.get("spec") not in built_specs and (out / rel).exists()
        }
        new.update(kept)
        for rel, (spec_file, content) in wanted.items():
            new[rel] = {"spec": spec_file, "sha256": _digest(content)}
        _write_manifest(out, new)
    return result


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_manifest(out: Path, files: dict[str, dict[str, str]]) -> None:
    text = json.dumps({"files": dict(sorted(files.items()))}, indent=2, sort_keys=True) + "\n"
    if (out / MANIFEST).is_file() and _read(out / MANIFEST) == text:
        return
    atomic_write(out / MANIFEST, text)
