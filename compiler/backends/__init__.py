"""Backends: one per artifact, each a pure function from a plan to files (no I/O, no clock, no env).

The shared parts live in `base`; each backend imports them from there, and this module only
lists the backends."""

from __future__ import annotations

from .base import Artifact, Backend, YamlDumper, environment, header, js_literal, py_literal, yaml_escapes
from .github import GithubBackend
from .k6 import K6Backend
from .kubernetes import KubernetesBackend
from .locust import LocustBackend
from .prometheus import PrometheusBackend
from .sql import SqlBackend
from .targets import TargetsBackend

__all__ = [
    "Artifact",
    "Backend",
    "YamlDumper",
    "all_backends",
    "environment",
    "header",
    "js_literal",
    "py_literal",
    "yaml_escapes",
]


def all_backends() -> dict[str, Backend]:
    found: list[Backend] = [
        LocustBackend(),
        K6Backend(),
        SqlBackend(),
        PrometheusBackend(),
        TargetsBackend(),
        GithubBackend(),
        KubernetesBackend(),
    ]
    return {b.name: b for b in found}
