"""Preflight: before any load, every host the run will use answers, or the run stops in seconds.

Each host's URL (as the tools will see it) gets a DNS lookup, a TCP connect, a TLS handshake for
https, and the spec's optional health request. A problem is one line naming the host's spec line,
the URL (password masked), the cause and what to do.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 3.0


@dataclass(frozen=True)
class HostCheck:
    name: str
    url: str
    where: str  # spec file:line
    health: str | None = None


def probe(url: str, health: str | None = None, timeout: float = TIMEOUT) -> str | None:
    """None when the host answers; else the cause in words."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return f"not an http(s) URL: {url!r}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve {host!r} ({exc.strerror})"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return f"connection refused at {host}:{port}"
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g}s (timeout)"
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"
    try:
        if parts.scheme == "https":
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            except ssl.SSLError as exc:
                return f"TLS error with {host}:{port}: {exc.reason or exc}"
            except OSError as exc:
                return f"TLS handshake with {host}:{port} failed: {exc}"
    finally:
        sock.close()
    if health:
        return _health(parts.scheme, host, port, parts.path.rstrip("/") + health, timeout)
    return None


def _health(scheme: str, host: str, port: int, path: str, timeout: float) -> str | None:
    conn_type = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = conn_type(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return f"health request GET {path} failed: {exc}"
    finally:
        conn.close()
    return None if 200 <= status < 400 else f"HTTP {status} from the health request GET {path}"


def check_hosts(hosts: list[HostCheck], mask) -> list[str]:
    """One line per host that does not answer (file:line: error: ... plus a hint)."""
    lines = []
    for h in hosts:
        cause = probe(h.url, h.health)
        if cause is not None:
            lines.append(f"{h.where}: error: host {h.name!r} ({mask(h.url)}): {cause}")
    if lines:
        lines.append(
            "  hint: start the service, set the host's environment variable to where it runs, "
            "or run on the embedded demo target with --demo (--no-preflight skips this check)"
        )
    return lines


def check_database(dsn: str, where: str, mask, timeout: float = TIMEOUT) -> list[str]:
    """The SQL suite's database accepts a connection; else one line naming its spec line."""
    import asyncio

    try:
        import asyncpg
    except ImportError:
        return [f"{where}: error: the SQL suite needs asyncpg: pip install 'perfspec[run]'"]

    async def connect() -> None:
        conn = await asyncpg.connect(dsn, timeout=timeout)
        await conn.close()

    try:
        asyncio.run(connect())
    except Exception as exc:  # noqa: BLE001 - any refusal is reported, with its kind
        if isinstance(exc, OSError) and exc.errno:
            cause = os.strerror(exc.errno).lower()  # "connection refused", as for the hosts
        else:
            cause = str(exc) or type(exc).__name__
        return [
            f"{where}: error: database ({mask(dsn)}): {mask(cause)}",
            "  hint: start the database, set its DSN variable, or run on a throwaway PostgreSQL "
            "with --demo (--no-preflight skips this check)",
        ]
    return []
