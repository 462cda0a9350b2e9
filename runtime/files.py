"""Files a spec names (setup SQL, CSV params, JSON sources): inside the project, regular, bounded.

A spec comes from a pull request, so the files it names are checked before anything reads them:
the resolved path (symlinks followed) must lie inside the project folder (the nearest folder
above the spec holding `.git` or `pyproject.toml`, else the spec's own folder) or a folder named
in $PERFSPEC_ALLOW_PATHS (`:`-separated); it must be a regular file (not a device, FIFO or
folder) of at most MAX_BYTES.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 256 * 1024 * 1024


def project_root(folder: Path) -> Path:
    start = folder.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    return start


def allowed_roots(folder: Path) -> list[Path]:
    extra = [Path(p).resolve() for p in os.environ.get("PERFSPEC_ALLOW_PATHS", "").split(":") if p]
    return [project_root(folder), *extra]


def problem(folder: Path, name: str, must_exist: bool = True) -> str | None:
    """Why the spec-relative file `name` may not be read (None: it may)."""
    if "\x00" in name:
        return "the path holds a NUL character"
    try:
        path = (folder / name).resolve()
    except OSError as exc:  # a name over the system's limits, a symlink loop
        return f"cannot be read: {exc.strerror}"
    roots = allowed_roots(folder)
    if not any(path == r or r in path.parents for r in roots):
        return (
            f"{path} is outside the project folder {roots[0]} "
            "(set PERFSPEC_ALLOW_PATHS to allow another folder)"
        )
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"not found (looked in {folder / name})" if must_exist else None
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"

    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if st.st_size > MAX_BYTES:
        return f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB"
    return None


def read_text(folder: Path, name: str) -> str:
    """The file's text after `problem` found none; raises OSError naming the problem."""
    why = problem(folder, name)
    if why is not None:
        raise OSError(why)
    with (folder / name).open("rb") as f:
        return f.read(MAX_BYTES + 1)[:MAX_BYTES].decode("utf-8", errors="replace")
