"""The demo target: a real asyncio HTTP service on PostgreSQL (asyncpg pool), with the endpoints
the seeds test, a streaming endpoint, a WebSocket echo and Prometheus metrics. Latency, error
ratio and a login rate limit can be injected so tests can make targets fail on purpose."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiohttp import WSMsgType, web

SCHEMA = (Path(__file__).parent / "schema.sql").read_text()


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every request (but /health and /metrics)
    error_ratio: float = 0.0  # share of requests answered 500
    login_rate: float = 0.0  # logins per second allowed; 0 = unlimited; excess answers 429


class RateLimiter:
    """A token bucket: `rate` per second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.stamp = rate, max(rate, 1.0), time.monotonic()

    def allow(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _metrics():
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    hist = Histogram(
        "http_request_duration_seconds",
        "HTTP request duration",
        ["method", "endpoint"],
        registry=registry,
        buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
    )
    total = Counter(
        "http_requests_total", "HTTP requests", ["method", "endpoint", "status"], registry=registry
    )
    return registry, hist, total


ROUTES = (  # (method, path, handler method): what the demo target serves
    ("get", "/health", "health"),
    ("get", "/metrics", "metrics"),
    ("post", "/auth/register", "register"),
    ("post", "/auth/login", "login"),
    ("get", "/auth/verify", "verify"),
    ("get", "/api/v1/agents", "list_agents"),
    ("post", "/api/v1/agents", "create_agent"),
    ("get", "/api/v1/agents/{id}", "get_agent"),
    ("patch", "/api/v1/agents/{id}", "patch_agent"),
    ("delete", "/api/v1/agents/{id}", "delete_agent"),
    ("get", "/api/v1/schedules", "list_schedules"),
    ("post", "/api/v1/schedules", "create_schedule"),
    ("get", "/api/v1/schedules/{id}", "get_schedule"),
    ("get", "/api/v1/stream", "stream"),
    ("post", "/api/v1/tasks", "create_task"),
    ("get", "/api/v1/tasks/{id}", "get_task"),
    ("get", "/api/v1/goals", "list_goals"),
    ("post", "/api/v1/agents/{id}/run", "run_agent"),
    ("post", "/api/v1/agents/{id}/respond", "respond"),
    ("post", "/api/v1/rag/query", "rag_query"),
    ("get", "/auth/permissions", "permissions"),
    ("get", "/api/v1/metrics/dashboard", "dashboard"),
    ("get", "/ws/echo", "ws_echo"),
)


class DemoService:
    """The demo target's state (metrics, the login rate limiter, issued tokens) and its handlers."""

    def __init__(self, dsn: str, faults: Faults) -> None:
        self.dsn, self.faults = dsn, faults
        self.registry, self.hist, self.total = _metrics()
        self.limiter = RateLimiter(faults.login_rate)
        self.tokens: dict[str, int] = {}
        self.tasks: dict[int, dict] = {}  # tasks live in memory

    def routes(self) -> list[tuple[str, str, object]]:
        return [(method, path, getattr(self, handler)) for method, path, handler in ROUTES]

    @web.middleware
    async def inject(self, request: web.Request, handler):
        """Injected latency and errors (not on /health and /metrics); every request measured."""
        started = time.perf_counter()
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
        status = 500
        try:
            if request.path not in ("/health", "/metrics"):
                if self.faults.latency > 0:
                    await asyncio.sleep(self.faults.latency)
                if self.faults.error_ratio > 0 and random.random() < self.faults.error_ratio:
                    raise web.HTTPInternalServerError(text="injected error")
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if request.path != "/metrics":
                self.hist.labels(request.method, route).observe(time.perf_counter() - started)
                self.total.labels(request.method, route, str(status)).inc()

    async def startup(self, app: web.Application) -> None:
        app["pool"] = await asyncpg.create_pool(self.dsn, min_size=2, max_size=20)
        async with app["pool"].acquire() as conn:
            await conn.execute(SCHEMA)

    async def cleanup(self, app: web.Application) -> None:
        await app["pool"].close()

    def pool(self, request: web.Request) -> asyncpg.Pool:
        return request.app["pool"]

    async def body(self, request: web.Request) -> dict:
        try:
            data = await request.json()
        except (ValueError, json.JSONDecodeError):
            raise web.HTTPUnprocessableEntity(text="body must be JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPUnprocessableEntity(text="body must be a JSON object")
        return data

    def caller(self, request: web.Request) -> int | None:
        auth = request.headers.get("Authorization", "")
        if not auth:
            return None
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise web.HTTPUnauthorized(text="invalid token")
        return self.tokens[auth[7:]]

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(self, request: web.Request) -> web.Response:
        from prometheus_client import generate_latest

        return web.Response(body=generate_latest(self.registry), content_type="text/plain")

    async def register(self, request: web.Request) -> web.Response:
        data = await self.body(request)
        email, password = data.get("email"), data.get("password")
        if not isinstance(email, str) or "@" not in email or not isinstance(password, str):
            raise web.HTTPUnprocessableEntity(text="email and password required")
        row = await self.pool(request).fetchrow(
            "INSERT INTO users (email, password_hash) VALUES ($1, $2) "
            "ON CONFLICT (email) DO NOTHING RETURNING id",
            email,
            _hash(password),
        )
        if row is None:
            raise web.HTTPConflict(text="user exists")
        return web.json_response({"id": row["id"], "email": email}, status=201)

    async def login(self, request: web.Request) -> web.Response:
        if not self.limiter.allow():
            raise web.HTTPTooManyRequests(text="rate limited")
        data = await self.body(request)
        row = await self.pool(request).fetchrow(
            "SELECT id, password_hash FROM users WHERE email = $1", data.get("email")
        )
        if row is None or row["password_hash"] != _hash(str(data.get("password"))):
            raise web.HTTPUnauthorized(text="bad credentials")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = row["id"]
        return web.json_response({"access_token": token, "token_type": "bearer"})

    async def verify(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        if user is None:
            raise web.HTTPUnauthorized(text="token required")
        return web.json_response({"user_id": user})

    async def list_agents(self, request: web.Request) -> web.Response:
        self.caller(request)
        rows = await self.pool(request).fetch(
            "SELECT id, tenant_id, name, config::text AS config FROM agents ORDER BY id DESC LIMIT 20"
        )
        return web.json_response([{**dict(r), "config": json.loads(r["config"])} for r in rows])

    async def create_agent(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise web.HTTPUnprocessableEntity(text="name required")
        row = await self.pool(request).fetchrow(
            "INSERT INTO agents (tenant_id, name, config) VALUES ($1, $2, $3::jsonb) RETURNING id",
            int(data.get("tenant_id", 0)),
            name,
            json.dumps(data.get("config", {})),
        )
        return web.json_response({"id": row["id"], "name": name}, status=201)

    def agent_id(self, request: web.Request) -> int:
        try:
            return int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound(text="no such agent") from None

    async def get_agent(self, request: web.Request) -> web.Response:
        self.caller(request)
        row = await self.pool(request).fetchrow(
            "SELECT id, tenant_id, name, config::text AS config FROM agents WHERE id = $1",
            self.agent_id(request),
        )
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({**dict(row), "config": json.loads(row["config"])})

    async def patch_agent(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        row = await self.pool(request).fetchrow(
            "UPDATE agents SET config = config || $2::jsonb WHERE id = $1 RETURNING id",
            self.agent_id(request),
            json.dumps(data.get("config", {})),
        )
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({"id": row["id"]})

    async def delete_agent(self, request: web.Request) -> web.Response:
        self.caller(request)
        await self.pool(request).execute("DELETE FROM agents WHERE id = $1", self.agent_id(request))
        return web.Response(status=204)

    async def list_schedules(self, request: web.Request) -> web.Response:
        self.caller(request)
        rows = await self.pool(request).fetch(
            "SELECT id, agent_id, cron, status FROM schedules ORDER BY id DESC LIMIT 20"
        )
        return web.json_response([dict(r) for r in rows])

    async def create_schedule(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        try:
            agent = int(data.get("agent_id"))
        except (TypeError, ValueError):
            raise web.HTTPUnprocessableEntity(text="agent_id required") from None
        row = await self.pool(request).fetchrow(
            "INSERT INTO schedules (agent_id, tenant_id, cron) SELECT id, tenant_id, $2 "
            "FROM agents WHERE id = $1 RETURNING id",
            agent,
            str(data.get("cron", "* * * * *")),
        )
        if row is None:
            raise web.HTTPUnprocessableEntity(text="no such agent")
        return web.json_response({"id": row["id"]}, status=201)

    async def get_schedule(self, request: web.Request) -> web.Response:
        self.caller(request)
        row = await self.pool(request).fetchrow(
            "SELECT id, agent_id, cron, status FROM schedules WHERE id = $1",
            int(request.match_info["id"]) if request.match_info["id"].isdigit() else -1,
        )
        if row is None:
            raise web.HTTPNotFound(text="no such schedule")
        return web.json_response(dict(row))

    # --- the rest of the seeds' endpoints: tasks and goals (in memory), agent execution, RAG,
    # permissions, dashboard metrics; answers shaped like the seeds' services, no model behind them
    async def create_task(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        task = {"id": len(self.tasks) + 1, "title": str(data.get("title", "")), "status": "open"}
        self.tasks[task["id"]] = task
        return web.json_response(task, status=201)

    async def get_task(self, request: web.Request) -> web.Response:
        self.caller(request)
        task_id = request.match_info["id"]
        task = self.tasks.get(int(task_id)) if task_id.isdigit() else None
        if task is None:
            raise web.HTTPNotFound(text="no such task")
        return web.json_response(task)

    async def list_goals(self, request: web.Request) -> web.Response:
        self.caller(request)
        return web.json_response([{"id": i, "title": f"goal {i}", "progress": i / 10} for i in range(1, 11)])

    async def run_agent(self, request: web.Request) -> web.Response:
        self.caller(request)
        await self.body(request)
        row = await self.pool(request).fetchrow("SELECT id FROM agents WHERE id = $1", self.agent_id(request))
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({"agent_id": row["id"], "status": "completed", "output": "pong"})

    async def respond(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        reply = f"echo: {data.get('message', '')}"
        return web.json_response({"agent_id": self.agent_id(request), "reply": reply})

    async def rag_query(self, request: web.Request) -> web.Response:
        self.caller(request)
        data = await self.body(request)
        rows = await self.pool(request).fetch("SELECT id, name FROM agents ORDER BY id DESC LIMIT 3")
        return web.json_response({"query": data.get("query"), "documents": [dict(r) for r in rows]})

    async def permissions(self, request: web.Request) -> web.Response:
        user = self.caller(request)
        if user is None:
            raise web.HTTPUnauthorized(text="token required")
        return web.json_response({"user_id": user, "permissions": ["agents:read", "agents:write"]})

    async def dashboard(self, request: web.Request) -> web.Response:
        self.caller(request)
        row = await self.pool(request).fetchrow("SELECT count(*) AS agents FROM agents")
        return web.json_response({"agents": row["agents"], "tasks": len(self.tasks)})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        chunks = min(int(request.query.get("chunks", "10")), 1000)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for i in range(chunks):
            await response.write(f"chunk {i}\n".encode())
            await asyncio.sleep(0.002)
        await response.write_eof()
        return response

    async def ws_echo(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws


def create_app(dsn: str, faults: Faults) -> web.Application:
    service = DemoService(dsn, faults)
    app = web.Application(middlewares=[service.inject])
    app.on_startup.append(service.startup)
    app.on_cleanup.append(service.cleanup)
    for method, path, handler in service.routes():
        app.router.add_route(method.upper(), path, handler)
    return app


async def serve(dsn: str, host: str, port: int, faults: Faults, ready=None) -> None:
    """Run until cancelled; prints (or passes to `ready`) the URL it listens on."""
    app = create_app(dsn, faults)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://{host}:{bound}"
    if ready is not None:
        ready(url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def serves(method: str, path: str) -> bool:
    """Whether the demo target has a route for this call (`{}` stands for any path segment text;
    a WebSocket is a GET)."""
    import re

    wanted = "get" if method.upper() == "WS" else method.lower()
    for route_method, route, _ in ROUTES:
        pattern = "^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(route)) + "$"
        probe = re.sub(r"\{[^}]*\}", "x", path.split("?")[0]) or "/"
        if route_method == wanted and re.match(pattern, probe):
            return True
    return False
