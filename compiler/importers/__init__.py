"""`perfspec import`: a starter spec from what exists (an OpenAPI 3 document, a HAR recording),
laid out and commented with ruamel.yaml, validated before it is written."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from .common import Draft, scrub_draft
from .har import HarError, from_har
from .openapi import OpenApiError, from_openapi
from .swagger import is_swagger2, to_openapi3

__all__ = ["IMPORT_ERRORS", "draft_of", "render"]

IMPORT_ERRORS = (OpenApiError, HarError)
MODELINE = "yaml-language-server: $schema={}"  # only toward a schema file that exists


def draft_of(path: Path) -> tuple[Draft, str]:
    """The draft of a file and what it is ("OpenAPI" or "HAR"); raises ValueError subclasses."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = YAML(typ="safe", pure=True).load(text)
        except YAMLError as exc:
            raise ValueError(f"not JSON or YAML: {exc}") from None
    if isinstance(doc, dict) and "log" in doc and "openapi" not in doc:
        return scrub_draft(from_har(doc)), "HAR"
    if is_swagger2(doc):
        return scrub_draft(from_openapi(to_openapi3(doc))), "Swagger 2.0"
    return scrub_draft(from_openapi(doc)), "OpenAPI"


def _comment(text: str) -> str:
    """Any text as one comment line: no line break can end the comment."""
    return re.sub(r"\s+", " ", "".join(c if c.isprintable() else " " for c in text)).strip()[:200]


def _key(text: str) -> object:
    """A mapping key: quoted when it has a space too (a long flow line may wrap inside a plain
    key, and a key must stay on one line)."""
    if not text.isprintable():
        return DoubleQuotedScalarString(text)
    return SingleQuotedScalarString(text) if " " in text else _scalar(text)


def _scalar(text: str) -> object:
    """A string as a YAML scalar that reads back as the same text inside a flow mapping: quoted
    when it starts with an indicator (`: `, `? `, `- `, `#`, ...) or holds `,[]{}#:`."""
    plain = (
        text
        and text == text.strip()
        and text[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and not any(c in text for c in ",[]{}")
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
    )
    if plain:
        return text  # the writer still quotes what YAML would read as a number, bool or null
    if text.isprintable():
        return SingleQuotedScalarString(text)
    return DoubleQuotedScalarString(text)


def _flow(value: object) -> object:
    """Mappings and lists in flow style (one line per endpoint, as a person writes them)."""
    if isinstance(value, str):
        return _scalar(value)
    if isinstance(value, dict):
        m = CommentedMap((_key(k) if isinstance(k, str) else k, _flow(v)) for k, v in value.items())
        m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_flow(v) for v in value)
        s.fa.set_flow_style()
        return s
    return value


def _line(value: dict) -> CommentedMap:
    """One line when it fits, else one key per line (values in flow style)."""
    m = _flow(value)
    assert isinstance(m, CommentedMap)
    if len(json.dumps(value)) > 84:
        m.fa.set_block_style()
    return m


def _targets(draft: Draft) -> CommentedSeq:
    ran = [n for n in draft.endpoints if n in draft.tasks or n in draft.on_start or n in draft.on_stop]
    groups: dict[str, list[str]] = {}
    for n in ran:
        groups.setdefault(draft.endpoints[n].get("class", "api"), []).append(n)
    out = CommentedSeq()
    for group, names in groups.items():
        target = {"name": group, "select": {"endpoint": names}, "p95": "< 500ms", "error_rate": "< 1%"}
        out.append(_line(target))
    return out


def render(draft: Draft, source: str, schema: str | None = None) -> str:
    """The draft as spec text; `schema`: the path of the JSON Schema from the spec's folder, for
    the editor's modeline (None: no modeline)."""
    root = CommentedMap()
    root["version"] = 1
    root["name"] = draft.name
    if draft.description:
        root["description"] = _comment(draft.description)
    root["hosts"] = CommentedMap((k, _flow(v)) for k, v in draft.hosts.items())
    endpoints = CommentedMap()
    for name, endpoint in draft.endpoints.items():
        endpoints[name] = _line(endpoint)
        if name in draft.comments:
            endpoints.yaml_set_comment_before_after_key(name, before=_comment(draft.comments[name]), indent=4)
    flow = CommentedMap()
    if draft.user:
        flow["user"] = _flow(draft.user)
    if draft.auth:
        flow["auth"] = _flow(draft.auth)
    if draft.headers:
        flow["headers"] = _flow(draft.headers)
    if draft.on_start:
        flow["on_start"] = _flow(draft.on_start)
    flow["tasks"] = _flow(draft.tasks)
    if draft.on_stop:
        flow["on_stop"] = _flow(draft.on_stop)
    http = [("endpoints", endpoints), ("flows", CommentedMap([("user", flow)]))]
    if len(draft.hosts) > 1:  # one host per origin: the first is every endpoint's unless it names its own
        http.insert(0, ("defaults", _flow({"host": next(iter(draft.hosts))})))
    root["http"] = CommentedMap(http)
    root["profiles"] = CommentedMap([("smoke", _flow({"users": 2, "spawn_rate": "2/s", "for": "30s"}))])
    root["targets"] = _targets(draft)
    root.yaml_set_comment_before_after_key(
        "profiles", before="a first, gentle run; add the profiles you need"
    )
    root.yaml_set_comment_before_after_key(
        "targets", before="placeholder targets, one per class: write the real ones (docs/spec.md, targets)"
    )
    header = [
        *([MODELINE.format(schema)] if schema else []),
        f"A starter spec imported by `perfspec import` from {_comment(source)}.",
        "Review every endpoint and the flow's tasks before a real run. What to set (secrets come",
        "from the environment at run time, never from this file):",
        *(f"  {_comment(n)}" for n in draft.notes),
    ]
    root.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(root, buf)
    text = buf.getvalue()
    try:
        same = YAML(typ="safe", pure=True).load(text)["http"]["endpoints"] == draft.endpoints
    except YAMLError:
        same = False
    if not same:
        raise ValueError("the spec text would not read back as imported (a YAML quoting defect)")
    return text
