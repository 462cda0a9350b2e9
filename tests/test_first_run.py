"""What a newcomer meets one step after the quickstart: an imported spec, its host's variable
unset, never runs on perfspec's own demo target (every call would answer 404)."""

from __future__ import annotations

from pathlib import Path

from perfspec.runtime.demo.app import serves

from .inprocess import perfspec

IMPORTED = """\
version: 1
name: pets
hosts:
  api: {url: "${PETS_URL}"}
http:
  defaults: {host: api}
  endpoints:
    list_pets: {get: /pets}
    get_pet: {get: "/pets/{seq}"}
profiles:
  smoke: {users: 1, for: 2s}
targets:
  - {select: {endpoint: list_pets}, p95: < 100ms}
"""


def test_the_demo_serves_what_its_routes_say() -> None:
    assert serves("GET", "/api/v1/agents/{agent_id}") and serves("POST", "/api/v1/agents/{id}/run")
    assert serves("WS", "/ws/echo?room={user.first}")  # a WebSocket is a GET; the query is not a path
    assert not serves("GET", "/pets") and not serves("PUT", "/api/v1/agents")


def test_a_spec_the_demo_does_not_serve_is_not_run_on_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pets.yaml").write_text(IMPORTED)
    monkeypatch.delenv("PETS_URL", raising=False)
    result = perfspec("run", "pets.yaml", "--out", "runs", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "suites locust, k6," not in result.stdout and "suites locust, k6" in result.stdout  # no sql
    assert (
        "host 'api' (pets.yaml:4) has no URL: PETS_URL is unset, and the embedded demo target does not "
        "serve list_pets (GET /pets), get_pet (GET /pets/{seq}): a run on it would answer 404. Set "
        "PETS_URL to the service's URL" in result.stderr
    )
    assert "pgserver" not in result.stderr  # the hint of a PostgreSQL that could not start is not this one
