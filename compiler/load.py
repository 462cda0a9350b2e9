"""YAML text -> plain data plus a source map (path in the document -> file:line:col).

Parsing uses libyaml's composer (fast, positioned nodes); scalars are resolved by the YAML 1.2
core schema, so `on:`, `no` and `2025-11-12` stay strings. Traps are refused with a clear error:
duplicate keys, alias expansion past a bound, non-string keys, over-long or over-deep documents.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, SpecFailure

try:  # libyaml is the fast path; pure Python is the fallback
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 1_000_000
MAX_NUMBER = 10**15  # any number beyond is a typo or an attack (it overflows floats)
MAX_DEPTH = 64

Path_ = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_KNOWN_TAGS = {
    _TAG + t
    for t in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "map",
        "seq",
        "timestamp",
        "merge",
        "binary",
        "omap",
        "set",
        "value",
    )
}


@dataclass
class Document:
    """One loaded spec file: its data and where every node of it stands."""

    file: str
    data: Any
    source: SourceMap
    text: str = field(repr=False, default="")


class SourceMap:
    """Maps a path such as ('http', 'endpoints', 'login', 'post') to a 1-based line and column."""

    def __init__(self, file: str, root: yaml.Node | None) -> None:
        self.file = file
        self.root = root
        self._index: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}

    def _children(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        key = id(node)
        if key not in self._index:
            entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
            for k, v in _merged_pairs(node):
                if isinstance(k, yaml.ScalarNode):
                    entries.setdefault(k.value, (k, v))
            self._index[key] = entries
        return self._index[key]

    def _walk(self, path: Path_) -> tuple[yaml.Node | None, yaml.Node | None, bool]:
        """(key node of the last element found, deepest value node found, whether all was found)."""
        node, key = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = self._children(node).get(part)
                if found is None:
                    return key, node, False
                key, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return key, node, False
                key, node = None, node.value[part]
            else:
                return key, node, False
        return key, node, True

    def exists(self, path: Path_) -> bool:
        return self._walk(path)[2]

    def position(self, path: Path_) -> tuple[int, int]:
        """The value at `path`, or the deepest existing node on the way to it."""
        _, node, _ = self._walk(path)
        return _pos(node)

    def key_position(self, path: Path_) -> tuple[int, int]:
        """The key of the last element of `path` when it is a mapping key, else its value."""
        key, node, found = self._walk(path)
        return _pos(key if found and key is not None else node)

    def error(
        self, path: Path_, message: str, hint: str = "", *, at_key: bool = False, severity: str = "error"
    ) -> SpecError:
        line, col = self.key_position(path) if at_key else self.position(path)
        return SpecError(self.file, line, col, message, hint, severity)  # type: ignore[arg-type]

    def line(self, path: Path_) -> int:
        return self.key_position(path)[0]

    def span(self, path: Path_) -> tuple[int, int]:
        """The first and last line of the node at `path` (its key's line first)."""
        key, node, _ = self._walk(path)
        first = _pos(key if key is not None else node)[0]
        last = node.end_mark.line + 1 if node is not None else first
        if node is not None and node.end_mark.column == 0:
            last -= 1  # a block node ends at the start of the next line
        return first, max(first, last)


def _pos(node: yaml.Node | None) -> tuple[int, int]:
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def _merged_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """Pairs of a mapping with YAML merge keys (`<<: *base`) applied: explicit keys win, then the
    merged mappings in order (the first that has a key wins), so overlapping merges are no
    duplicates. Each mapping's result is computed once (cached on the node), so nested merges
    of merges cannot blow up ("billion laughs" through `<<`)."""
    cached = getattr(node, "_perfspec_merged", None)
    if cached is not None:
        return cached
    node._perfspec_merged = []  # type: ignore[attr-defined]  # in progress: a merge cycle ends here
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: list[tuple[yaml.Node, yaml.Node]] = []
    for k, v in node.value:
        if k.tag == _TAG + "merge":
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for src in sources:
                if isinstance(src, yaml.MappingNode) and src is not node:
                    merged.extend(_merged_pairs(src))
        else:
            own.append((k, v))
    out = own
    if merged:
        keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        out = list(own)
        for k, v in merged:
            if isinstance(k, yaml.ScalarNode):
                if k.value in keys:
                    continue
                keys.add(k.value)
            out.append((k, v))
    node._perfspec_merged = out  # type: ignore[attr-defined]
    return out


class _Converter:
    """Turns composed nodes into plain data, enforcing the document's bounds."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.nodes = 0
        self.errors: list[SpecError] = []
        self._implicit = yaml.resolver.Resolver()

    def fail(self, node: yaml.Node, message: str, hint: str) -> None:
        line, col = _pos(node)
        self.errors.append(SpecError(self.file, line, col, message, hint))

    def convert(self, node: yaml.Node, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            line, col = _pos(node)
            raise SpecFailure(
                [
                    SpecError(
                        self.file,
                        line,
                        col,
                        f"the document expands to more than {MAX_NODES:,} nodes (alias expansion?)",
                        "remove the nested aliases (&anchor / *alias) that multiply the document",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            line, col = _pos(node)
            raise SpecFailure(
                [
                    SpecError(
                        self.file,
                        line,
                        col,
                        f"the document nests deeper than {MAX_DEPTH} levels",
                        "flatten the structure; a recursive alias (&a [*a]) also causes this",
                    )
                ]
            )
        if node.tag not in _KNOWN_TAGS:
            self.fail(
                node, f"unsupported YAML tag {node.tag!r}", "remove the tag; specs hold plain data only"
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, depth + 1) for item in node.value]
        return self.scalar(node)

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        for k, v in _merged_pairs(node):
            if not isinstance(k, yaml.ScalarNode):
                self.fail(
                    k,
                    "a mapping key must be a plain string, not a list or mapping",
                    "write the key as text, e.g. `name:`",
                )
                continue
            key = k.value
            if not k.style and self.resolve(k) not in (str, bool):
                kind = {int: "number", float: "number"}.get(self.resolve(k), "null")
                self.fail(
                    k, f"key {key!r} is not a string (YAML reads it as a {kind})", f"quote it: '{key}':"
                )
                continue
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.fail(
                    k,
                    f"duplicate key {key!r} (first defined on line {first})",
                    "remove one of them or give it another name",
                )
                continue
            seen[key] = k
            out[key] = self.convert(v, depth + 1)
        return out

    def resolve(self, node: yaml.ScalarNode) -> type:
        value = node.value
        if _NULL.match(value):
            return type(None)
        if value in _BOOL:
            return bool
        if _INT.match(value) or _OCT.match(value) or _HEX.match(value):
            return int
        if _FLOAT.match(value) or _INF.match(value) or _NAN.match(value):
            return float
        return str

    def scalar(self, node: yaml.ScalarNode) -> Any:
        value = node.value
        if node.style:  # quoted or block scalar (plain is None or ''): always a string
            return value
        if node.tag == _TAG + "str":
            implicit = self._implicit.resolve(yaml.ScalarNode, value, (True, False))
            if implicit != _TAG + "str":  # explicitly tagged !!str
                return value
        kind = self.resolve(node)
        if kind is type(None):
            return None
        if kind is bool:
            return _BOOL[value]
        if kind is int:
            digits = value.lstrip("+-")
            number = (
                int(digits[2:], 8)
                if digits.startswith("0o")
                else int(digits[2:], 16)
                if digits.startswith("0x")
                else int(digits)
                if len(digits) <= 30
                else MAX_NUMBER + 1
            )
            number = -number if value.startswith("-") else number
            if abs(number) > MAX_NUMBER:
                self.fail(
                    node,
                    f"the number {value[:40]}{'...' if len(value) > 40 else ''} is too large",
                    "numbers in a spec stay below 10^15",
                )
                return None
            return number
        if kind is float:
            if _INF.match(value) or _NAN.match(value) or not math.isfinite(float(value)):
                self.fail(node, f"{value[:40]!r} is not a finite number", "write a finite number")
                return None
            if abs(float(value)) > MAX_NUMBER:
                self.fail(node, f"the number {value[:40]} is too large", "numbers in a spec stay below 10^15")
                return None
            return float(value)
        return value


def load_text(text: str, file: str) -> Document:
    """Parse one spec document; raises SpecFailure with positioned errors."""
    if len(text) > MAX_BYTES:
        raise SpecFailure(
            [
                SpecError(
                    file,
                    1,
                    1,
                    f"the file is larger than {MAX_BYTES // 2**20} MiB",
                    "split it into several spec files",
                )
            ]
        )
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        if exc.context and "single document" in exc.context:
            problem = "a spec file holds one YAML document, but this one holds several"
            return _fail(file, line, col, problem, "remove the '---' separator or split the file")
        hint = "check the indentation and quoting on this line and the one before"
        lines = text.splitlines()
        if 0 < line <= len(lines) and "\t" in lines[line - 1][: col + 1]:
            hint = "YAML does not allow tabs for indentation: use spaces"
        elif 0 < line <= len(lines) and (bare := _BARE_COMPARISON.search(lines[line - 1])):
            # `> 10/s` unquoted: YAML reads `>` as a folded block and `<` cannot start a token
            hint = (
                f'quote the comparison: {bare.group(1)}: "{bare.group(2).strip()}" '
                "(YAML reads a bare > or < as its own syntax)"
            )
        return _fail(file, line, col, f"invalid YAML: {problem}", hint)
    except yaml.YAMLError as exc:
        return _fail(file, 1, 1, f"invalid YAML: {exc}", "save the file as UTF-8 text")
    except (ValueError, UnicodeError, RecursionError) as exc:
        return _fail(
            file,
            1,
            1,
            f"cannot read the document: {exc.__class__.__name__}",
            "save the file as UTF-8 text without control characters or deep nesting",
        )
    if root is None:
        return _fail(file, 1, 1, "the spec is empty", "start with `version: 1` and `name: ...`")
    conv = _Converter(file)
    try:
        data = conv.convert(root)
    except RecursionError:
        return _fail(file, 1, 1, "the document nests too deeply", "flatten the structure")
    if conv.errors:
        raise SpecFailure(conv.errors)
    return Document(file=file, data=data, source=SourceMap(file, root), text=text)


def load_file(path: str | Path) -> Document:
    """Read and parse a spec file; unreadable files are spec errors too."""
    name = str(path)
    try:
        # only a regular file is read (a FIFO would hang, /dev/zero never ends), and only up to
        # the size bound

        mode = Path(path).stat().st_mode
        if not stat.S_ISREG(mode):
            return _fail(
                name, 1, 1, "not a regular file (a device, FIFO or folder)", "pass the spec's YAML file"
            )
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError as exc:
        no_specs = not Path("specs").is_dir()
        return _fail(
            name,
            1,
            1,
            f"no such file: {exc.filename or path}",
            "start a project here with `perfspec init` (it writes specs/NAME.yaml), or give a spec's path"
            if no_specs
            else "check the path; specs default to specs/*.yaml",
        )
    except OSError as exc:
        return _fail(
            name,
            1,
            1,
            f"cannot read the file: {exc.strerror or exc}",
            "check the path; specs default to specs/*.yaml",
        )
    if len(raw) > MAX_BYTES:
        return _fail(
            name,
            1,
            1,
            f"the file is larger than {MAX_BYTES // 2**20} MiB",
            "split it into several spec files",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return _fail(name, line, 1, "the file is not valid UTF-8", "save it as UTF-8")
    return load_text(text, name)


# `key: > 10/s` or `key: <= 150ms` with the comparison unquoted (block or flow style)
_BARE_COMPARISON = re.compile(r"([A-Za-z_][\w.]*):\s+([<>]=?\s*[^,}\s][^,}]*)")


def _fail(file: str, line: int, col: int, message: str, hint: str) -> Any:
    raise SpecFailure([SpecError(file, line, col, message, hint)])
