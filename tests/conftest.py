"""Shared test options: `pytest --update-golden` rewrites expected outputs from the real code."""

from __future__ import annotations

import os
import shutil
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
