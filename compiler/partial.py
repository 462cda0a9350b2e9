"""Semantic checks of a spec that failed its structural validation, so one pass shows every
error. In a copy of the document each broken value is left out where that leaves its entry (an
endpoint, a flow, a target, ...) whole: a bad unit, an unknown key, a wrong type inside an entry
fall back to their defaults, and the copy is validated again (a few rounds, as leaving one value
out can break its parent). When an entry or a whole section would have to go, the semantic
checks would only report what its absence causes, so only the structural errors are shown."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from .checked import CheckedSpec
from .errors import SpecError
from .load import Document

# mappings whose keys are names of entries (the unit left out when one of them is broken)
ENTRIES = {
    "hosts",
    "databases",
    "endpoints",
    "flows",
    "profiles",
    "queries",
    "data",
    "params",
    "mix",
    "steps",
    "explicit",
    "slo",
}
PLACEHOLDERS = {"version": 1, "name": "spec"}  # required top-level keys: a broken one is replaced
ROUNDS = 6


class _NoSource:
    file = ""


class _Source:
    """The document's source map, reached through the pruned copy's list indices."""

    def __init__(self, source: Any, kept: dict[tuple, list[int]]) -> None:
        self.source, self.kept, self.file = source, kept, source.file

    def original(self, path: tuple) -> tuple:
        out = list(path)
        for i, part in enumerate(out):
            kept = self.kept.get(tuple(out[:i]))
            if kept is not None and isinstance(part, int) and 0 <= part < len(kept):
                out[i] = kept[part]
        return tuple(out)

    def error(self, path: tuple, *args: Any, **kwargs: Any) -> SpecError:
        return self.source.error(self.original(tuple(path)), *args, **kwargs)

    def line(self, path: tuple) -> int:
        return self.source.line(self.original(tuple(path)))

    def exists(self, path: tuple) -> bool:
        return self.source.exists(self.original(tuple(path)))

    def position(self, path: tuple) -> tuple[int, int]:
        return self.source.position(self.original(tuple(path)))

    def key_position(self, path: tuple) -> tuple[int, int]:
        return self.source.key_position(self.original(tuple(path)))


def _node(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _cut(data: Any, path: tuple) -> tuple:
    """The entry holding the error at `path`: a named entry, a list item, or a top-level key."""
    for i in range(1, len(path)):
        container = _node(data, path[:i])
        if isinstance(container, list) or (isinstance(container, dict) and path[i - 1] in ENTRIES):
            return path[: i + 1]
    return path[:1]


def _exists(data: Any, path: tuple) -> bool:
    try:
        _node(data, path)
        return True
    except (KeyError, IndexError, TypeError):
        return False


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {str(k) for k in value} | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()


def _prune(
    data: dict, paths: set[tuple], kept: dict[tuple, list[int]], removed: set[str], entries: set[tuple]
) -> bool:
    """Leave out each broken value, or put the placeholder of a required top-level key; False
    when one cannot go without its whole entry or section."""
    for path in sorted(paths, key=lambda c: [str(p) for p in c], reverse=True):  # later list items first
        if len(path) == 1 and path[0] in PLACEHOLDERS:
            data[path[0]] = PLACEHOLDERS[path[0]]
            continue
        if not path or not _exists(data, path) or len(path) <= len(_cut(data, path)):
            return False
        entries.add(_Source(_NoSource(), kept).original(_cut(data, path)))  # in the document's indices
        parent, last = _node(data, path[:-1]), path[-1]
        removed.update(_strings(parent[last]))  # a misspelt key's value: `clas: health`
        if isinstance(parent, dict):
            del parent[last]
            removed.add(str(last))
        else:
            indices = kept.setdefault(tuple(path[:-1]), list(range(len(parent))))
            del parent[last]
            del indices[last]
    return True


def semantic_errors(doc: Document, exc: ValidationError, data_path, checks) -> list[SpecError]:
    """The semantic errors of what parsed; `data_path(data, loc)` maps a pydantic loc to a data
    path, `checks(checked)` runs the semantic checks."""
    from .spec import Spec

    if not isinstance(doc.data, dict):
        return []
    data = copy.deepcopy(doc.data)
    kept: dict[tuple, list[int]] = {}
    removed: set[str] = set()
    entries: set[tuple] = set()  # the entries a value was left out of
    error: ValidationError | None = exc
    for _ in range(ROUNDS):
        assert error is not None
        paths = {data_path(data, e["loc"])[0] for e in error.errors(include_url=False)}
        if not _prune(data, paths, kept, removed, entries):
            return []
        try:
            spec = Spec.model_validate(data)
            break
        except ValidationError as again:
            error = again
    else:
        return []
    pruned = Document(doc.file, data, _Source(doc.source, kept), doc.text)  # type: ignore[arg-type]
    found = [e for e in checks(CheckedSpec(spec=spec, doc=pruned)) if e.severity == "error"]
    # what leaving a value out causes is not reported: an error inside the entry it was left out
    # of ("this target judges no statistic"), or naming what went with it
    spans = [doc.source.span(path) for path in entries]
    names = [n for n in removed if n.isidentifier()]
    return [
        e
        for e in found
        if not any(f"'{n}'" in e.message or f" {n} " in e.message for n in names)
        and not any(first <= e.line <= last for first, last in spans)
    ]
