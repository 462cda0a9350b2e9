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
    hist = Histogram("http_request_duration_seconds", "HTTP request duration",
                     ["method", "endpoint"], registry=registry,
                     buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5))
    total = Counter("http_requests_total", "HTTP requests", ["method", "endpoint", "status"],
                    registry=registry)
    return registry, hist, total


def create_app(dsn: str, faults: Faults) -> web.Application:
    registry, hist, total = _metrics()
    limiter = RateLimiter(faults.login_rate)
    tokens: dict[str, int] = {}

    @web.middleware
    async def inject(request: web.Request, handler):
        started = time.perf_counter()
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
        status = 500
        try:
            if request.path not in ("/health", "/metrics"):
                if faults.latency > 0:
                    await asyncio.sleep(faults.latency)
                if faults.error_ratio > 0 and random.random() < faults.error_ratio:
                    raise web.HTTPInternalServerError(text="injected error")
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if request.path != "/metrics":
                hist.labels(request.method, route).observe(time.perf_counter() - started)
                total.labels(request.method, route, str(status)).inc()

    app = web.Application(middlewares=[inject])

    async def startup(app: web.Application) -> None:
        app["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=20)
        async with app["pool"].acquire() as conn:
            await conn.execute(SCHEMA)

    async def cleanup(app: web.Application) -> None:
        await app["pool"].close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)

    def pool(request: web.Request) -> asyncpg.Pool:
        return request.app["pool"]

    async def body(request: web.Request) -> dict:
        try:
            data = await request.json()
        except (ValueError, json.JSONDecodeError):
            raise web.HTTPUnprocessableEntity(text="body must be JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPUnprocessableEntity(text="body must be a JSON object")
        return data

    def caller(request: web.Request) -> int | None:
        auth = request.headers.get("Authorization", "")
        if not auth:
            return None
        if not auth.startswith("Bearer ") or auth[7:] not in tokens:
            raise web.HTTPUnauthorized(text="invalid token")
        return tokens[auth[7:]]

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        from prometheus_client import generate_latest

        return web.Response(body=generate_latest(registry), content_type="text/plain")

    async def register(request: web.Request) -> web.Response:
        data = await body(request)
        email, password = data.get("email"), data.get("password")
        if not isinstance(email, str) or "@" not in email or not isinstance(password, str):
            raise web.HTTPUnprocessableEntity(text="email and password required")
        row = await pool(request).fetchrow(
            "INSERT INTO users (email, password_hash) VALUES ($1, $2) "
            "ON CONFLICT (email) DO NOTHING RETURNING id", email, _hash(password))
        if row is None:
            raise web.HTTPConflict(text="user exists")
        return web.json_response({"id": row["id"], "email": email}, status=201)

    async def login(request: web.Request) -> web.Response:
        if not limiter.allow():
            raise web.HTTPTooManyRequests(text="rate limited")
        data = await body(request)
        row = await pool(request).fetchrow(
            "SELECT id, password_hash FROM users WHERE email = $1", data.get("email"))
        if row is None or row["password_hash"] != _hash(str(data.get("password"))):
            raise web.HTTPUnauthorized(text="bad credentials")
        token = secrets.token_urlsafe(24)
        tokens[token] = row["id"]
        return web.json_response({"access_token": token, "token_type": "bearer"})

    async def verify(request: web.Request) -> web.Response:
        user = caller(request)
        if user is None:
            raise web.HTTPUnauthorized(text="token required")
        return web.json_response({"user_id": user})

    async def list_agents(request: web.Request) -> web.Response:
        caller(request)
        rows = await pool(request).fetch(
            "SELECT id, tenant_id, name, config::text AS config FROM agents ORDER BY id DESC LIMIT 20")
        return web.json_response([{**dict(r), "config": json.loads(r["config"])} for r in rows])

    async def create_agent(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise web.HTTPUnprocessableEntity(text="name required")
        row = await pool(request).fetchrow(
            "INSERT INTO agents (tenant_id, name, config) VALUES ($1, $2, $3::jsonb) RETURNING id",
            int(data.get("tenant_id", 0)), name, json.dumps(data.get("config", {})))
        return web.json_response({"id": row["id"], "name": name}, status=201)

    def agent_id(request: web.Request) -> int:
        try:
            return int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound(text="no such agent") from None

    async def get_agent(request: web.Request) -> web.Response:
        caller(request)
        row = await pool(request).fetchrow(
            "SELECT id, tenant_id, name, config::text AS config FROM agents WHERE id = $1",
            agent_id(request))
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({**dict(row), "config": json.loads(row["config"])})

    async def patch_agent(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        row = await pool(request).fetchrow(
            "UPDATE agents SET config = config || $2::jsonb WHERE id = $1 RETURNING id",
            agent_id(request), json.dumps(data.get("config", {})))
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({"id": row["id"]})

    async def delete_agent(request: web.Request) -> web.Response:
        caller(request)
        await pool(request).execute("DELETE FROM agents WHERE id = $1", agent_id(request))
        return web.Response(status=204)

    async def list_schedules(request: web.Request) -> web.Response:
        caller(request)
        rows = await pool(request).fetch(
            "SELECT id, agent_id, cron, status FROM schedules ORDER BY id DESC LIMIT 20")
        return web.json_response([dict(r) for r in rows])

    async def create_schedule(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        try:
            agent = int(data.get("agent_id"))
        except (TypeError, ValueError):
            raise web.HTTPUnprocessableEntity(text="agent_id required") from None
        row = await pool(request).fetchrow(
            "INSERT INTO schedules (agent_id, tenant_id, cron) SELECT id, tenant_id, $2 "
            "FROM agents WHERE id = $1 RETURNING id", agent, str(data.get("cron", "* * * * *")))
        if row is None:
            raise web.HTTPUnprocessableEntity(text="no such agent")
        return web.json_response({"id": row["id"]}, status=201)

    async def get_schedule(request: web.Request) -> web.Response:
        caller(request)
        row = await pool(request).fetchrow(
            "SELECT id, agent_id, cron, status FROM schedules WHERE id = $1",
            int(request.match_info["id"]) if request.match_info["id"].isdigit() else -1)
        if row is None:
            raise web.HTTPNotFound(text="no such schedule")
        return web.json_response(dict(row))

    # --- the rest of the seeds' endpoints: tasks and goals (in memory), agent execution, RAG,
    # permissions, dashboard metrics; answers shaped like the seeds' services, no model behind them
    tasks: dict[int, dict] = {}

    async def create_task(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        task = {"id": len(tasks) + 1, "title": str(data.get("title", "")), "status": "open"}
        tasks[task["id"]] = task
        return web.json_response(task, status=201)

    async def get_task(request: web.Request) -> web.Response:
        caller(request)
        task_id = request.match_info["id"]
        task = tasks.get(int(task_id)) if task_id.isdigit() else None
        if task is None:
            raise web.HTTPNotFound(text="no such task")
        return web.json_response(task)

    async def list_goals(request: web.Request) -> web.Response:
        caller(request)
        return web.json_response([{"id": i, "title": f"goal {i}", "progress": i / 10} for i in range(1, 11)])

    async def run_agent(request: web.Request) -> web.Response:
        caller(request)
        await body(request)
        row = await pool(request).fetchrow("SELECT id FROM agents WHERE id = $1", agent_id(request))
        if row is None:
            raise web.HTTPNotFound(text="no such agent")
        return web.json_response({"agent_id": row["id"], "status": "completed", "output": "pong"})

    async def respond(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        return web.json_response({"agent_id": agent_id(request), "reply": f"echo: {data.get('message', '')}"})

    async def rag_query(request: web.Request) -> web.Response:
        caller(request)
        data = await body(request)
        rows = await pool(request).fetch("SELECT id, name FROM agents ORDER BY id DESC LIMIT 3")
        return web.json_response({"query": data.get("query"), "documents": [dict(r) for r in rows]})

    async def permissions(request: web.Request) -> web.Response:
        user = caller(request)
        if user is None:
            raise web.HTTPUnauthorized(text="token required")
        return web.json_response({"user_id": user, "permissions": ["agents:read", "agents:write"]})

    async def dashboard(request: web.Request) -> web.Response:
        caller(request)
        row = await pool(request).fetchrow("SELECT count(*) AS agents FROM agents")
        return web.json_response({"agents": row["agents"], "tasks": len(tasks)})

    async def stream(request: web.Request) -> web.StreamResponse:
        chunks = min(int(request.query.get("chunks", "10")), 1000)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for i in range(chunks):
            await response.write(f"chunk {i}\n".encode())
            await asyncio.sleep(0.002)
        await response.write_eof()
        return response

    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/auth/register", register)
    app.router.add_post("/auth/login", login)
    app.router.add_get("/auth/verify", verify)
    app.router.add_get("/api/v1/agents", list_agents)
    app.router.add_post("/api/v1/agents", create_agent)
    app.router.add_get("/api/v1/agents/{id}", get_agent)
    app.router.add_patch("/api/v1/agents/{id}", patch_agent)
    app.router.add_delete("/api/v1/agents/{id}", delete_agent)
    app.router.add_get("/api/v1/schedules", list_schedules)
    app.router.add_post("/api/v1/schedules", create_schedule)
    app.router.add_get("/api/v1/schedules/{id}", get_schedule)
    app.router.add_get("/api/v1/stream", stream)
    app.router.add_post("/api/v1/tasks", create_task)
    app.router.add_get("/api/v1/tasks/{id}", get_task)
    app.router.add_get("/api/v1/goals", list_goals)
    app.router.add_post("/api/v1/agents/{id}/run", run_agent)
    app.router.add_post("/api/v1/agents/{id}/respond", respond)
    app.router.add_post("/api/v1/rag/query", rag_query)
    app.router.add_get("/auth/permissions", permissions)
    app.router.add_get("/api/v1/metrics/dashboard", dashboard)
    app.router.add_get("/ws/echo", ws_echo)
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
