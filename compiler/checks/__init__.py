"""Semantic checks: rules that relate one part of a spec to another, each error at its place.

One module per spec section (http, sql, profiles, targets, alerts, ci), each a mixin of the
Checker below, which holds the shared error reporter."""

from __future__ import annotations

import re

from perfspec.runtime import files

from .. import templates
from ..checked import CheckedSpec
from ..errors import SpecError
from ..spec import Spec
from .alerts import AlertChecks
from .ci import CiChecks
from .common import literal_password
from .flows import FlowChecks
from .http import HttpChecks
from .profiles import ProfileChecks
from .sql import SqlChecks
from .targets import TargetChecks

__all__ = ["Checker", "literal_password", "semantic_checks"]


class Checker(HttpChecks, FlowChecks, SqlChecks, ProfileChecks, TargetChecks, AlertChecks, CiChecks):
    """Collects every semantic problem of one spec."""

    def __init__(self, checked: CheckedSpec) -> None:
        self.spec: Spec = checked.spec
        self.src = checked.source
        self.folder = checked.folder
        self.out: list[SpecError] = []

    def error(self, path: tuple, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.out.append(self.src.error(path, message, hint, at_key=at_key))

    def warn(self, path: tuple, message: str, hint: str = "") -> None:
        self.out.append(self.src.error(path, message, hint, severity="warning"))

    def run(self) -> list[SpecError]:
        self.hosts()
        self.databases()
        self.http()
        self.sql()
        self.profiles()
        self.targets()
        self.alerts()
        self.capacity()
        self.distributed()
        self.ci()
        return self.out

    # --- hosts and databases ----------------------------------------------------------------

    def template(self, path: tuple, text: str) -> list[templates.Part]:
        try:
            parts = templates.parse(text)
        except templates.TemplateError as exc:
            self.error(path, exc.message, exc.hint)
            return []
        for part in parts:
            if part[0] == "env" and templates.reserved_env(part[1]):
                self.error(
                    path,
                    f"${{{part[1]}}} is the machine's or the CI runner's own variable, not "
                    "one to carry a spec's value (the generated workflow would set it from a "
                    "secret of that name)",
                    "use a name of your own, e.g. ${API_URL}",
                )
        return parts

    def hosts(self) -> None:
        for name, host in sorted(self.spec.hosts.items()):
            parts = self.template(("hosts", name, "url"), host.url)
            if templates.is_plain(parts) and parts and not re.match(r"^https?://", parts[0][1]):
                self.error(
                    ("hosts", name, "url"),
                    f"host {name!r} URL {host.url!r} is not http(s)",
                    "write e.g. http://127.0.0.1:8000 or ${API_URL:-http://127.0.0.1:8000}",
                )
            if literal_password(host.url):
                self.error(
                    ("hosts", name, "url"),
                    f"host {name!r} URL holds a literal password",
                    "secrets come from the environment: write url: ${API_URL}",
                )
            if host.health is not None and not host.health.startswith("/"):
                self.error(
                    ("hosts", name, "health"),
                    f"health path {host.health!r} must start with /",
                    "write e.g. health: /health",
                )

    def databases(self) -> None:
        for name, db in sorted(self.spec.databases.items()):
            path = ("databases", name)
            self.template((*path, "dsn"), db.dsn)
            if literal_password(db.dsn):
                self.error(
                    (*path, "dsn"),
                    f"database {name!r} DSN holds a literal password",
                    "secrets come from the environment: write dsn: ${PERFSPEC_DSN}",
                )
            if db.pool.min_size > db.pool.max_size:
                self.error(
                    (*path, "pool", "min_size"),
                    f"pool min_size {db.pool.min_size} exceeds max_size {db.pool.max_size}",
                    "make min_size <= max_size",
                )
            for key in ("setup", "teardown"):
                for i, file in enumerate(getattr(db, key)):
                    why = files.problem(self.folder, file)
                    if why is not None:
                        self.error(
                            (*path, key, i),
                            f"SQL file {file!r}: {why}",
                            "paths are relative to the spec file's folder, inside the project",
                        )


def semantic_checks(checked: CheckedSpec) -> list[SpecError]:
    return Checker(checked).run()
