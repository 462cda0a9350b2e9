"""Shared test options: `pytest --update-golden` rewrites expected outputs from the real code.

The tiers: every test is `unit` unless marked `tools` (it starts a process or a server: Locust, k6,
Prometheus, PostgreSQL, a browser, the CLI as a subprocess, a local HTTP server) or `slow` (a
tool test of 20 s or more). A unit test that starts a process or opens a socket fails, naming
the mark it needs: `pytest -m unit` stays the fast inner loop because it cannot grow a server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )
    parser.addoption(
        "--hostile-full",
        action="store_true",
        help="tests/test_hostile.py: every corpus string in every field (slow)",
    )


TIERS = ("unit", "tools", "slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shared = []
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("tools"):
            item.add_marker(pytest.mark.tools)
        if not item.get_closest_marker("tools"):
            item.add_marker(pytest.mark.unit)
            shared += [f"{item.nodeid} uses {name}" for name in shared_fixtures(item)]
    if shared:
        raise pytest.UsageError(
            "a unit test may not use a module- or session-wide fixture of the tests (they start runs "
            "and servers before the test's own guard): mark it @pytest.mark.tools\n" + "\n".join(shared)
        )


def shared_fixtures(item: pytest.Item) -> list[str]:
    """The test's fixtures defined under tests/ with a scope wider than the test."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return sorted(
        name
        for name, defs in info.name2fixturedefs.items()
        if defs and defs[-1].scope != "function" and defs[-1].baseid.startswith("tests")
    )


class NotAUnitTest(AssertionError):
    """A test of the unit tier started a process or opened a socket."""


@pytest.fixture(autouse=True)
def unit_tier_is_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuses processes and sockets to a test of the unit tier (mark it `tools`)."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return

    def refuse(what: str):
        def refused(*args, **kwargs):
            raise NotAUnitTest(
                f"{request.node.nodeid} {what}: mark it @pytest.mark.tools (tests/conftest.py)"
            )

        return refused

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("starts a process"))
    monkeypatch.setattr(socket.socket, "connect", refuse("opens a connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("opens a connection"))
    monkeypatch.setattr(socket.socket, "bind", refuse("binds a port"))
    yield


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own user cache folder (compiler/cli/check_cache.py): what one test's
    `perfspec check` or `build --check` kept never answers another's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def require_tool(name: str) -> str:
    """The path of a real tool; in CI a missing tool fails the run, elsewhere it skips."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (the README's test command installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An admin DSN: $PERFSPEC_TEST_DSN, else a throwaway PostgreSQL for the whole session."""
    from perfspec.runtime.postgres import PostgresUnavailable, throwaway

    if os.environ.get("PERFSPEC_TEST_DSN"):
        yield os.environ["PERFSPEC_TEST_DSN"]
        return
    try:
        with throwaway() as dsn:
            yield dsn
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"no PostgreSQL: {exc}")
        pytest.skip(f"no PostgreSQL: {exc}")


@pytest.fixture
def fresh_db(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the test server for one test; dropped afterwards."""
    import asyncio
    import uuid

    import asyncpg

    name = f"perfspec_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(postgres_server, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def with_database(dsn: str, name: str) -> str:
    """The same server, another database (URL DSNs, TCP or Unix socket)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))
