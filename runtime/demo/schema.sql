-- The demo target's tables: the same as specs/sql/temponest_schema.sql (a test keeps them equal).
CREATE TABLE IF NOT EXISTS users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS agents (
    id          bigserial PRIMARY KEY,
    tenant_id   integer NOT NULL,
    name        text NOT NULL,
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_agents_tenant ON agents (tenant_id);
CREATE INDEX IF NOT EXISTS idx_agents_created_at ON agents (created_at DESC);
CREATE TABLE IF NOT EXISTS schedules (
    id           bigserial PRIMARY KEY,
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    tenant_id    integer NOT NULL,
    cron         text NOT NULL,
    next_run_at  timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'scheduled',
    is_active    boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS idx_schedules_agent ON schedules (agent_id);
CREATE INDEX IF NOT EXISTS idx_schedules_ready_to_run ON schedules (next_run_at, status, is_active)
    WHERE is_active AND status = 'scheduled';
