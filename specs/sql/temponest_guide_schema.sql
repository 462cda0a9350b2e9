-- Seed 003 "Database Optimization": the tables, indexes and views behind its query classes.
-- Idempotent: safe to run before every suite. Fixtures are loaded only into empty tables.
CREATE TABLE IF NOT EXISTS scheduled_tasks (
    id          bigserial PRIMARY KEY,
    tenant_id   integer NOT NULL,
    next_run_at timestamptz NOT NULL,
    status      text NOT NULL,
    is_active   boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_scheduled_tasks_ready_to_run
    ON scheduled_tasks (next_run_at, status, is_active)
    WHERE is_active = true AND status = 'scheduled';
CREATE TABLE IF NOT EXISTS runs (
    id          bigserial PRIMARY KEY,
    project_id  integer NOT NULL,
    status      text NOT NULL,
    duration_ms integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX IF NOT EXISTS idx_runs_project_status_created ON runs (project_id, status, created_at DESC);
CREATE TABLE IF NOT EXISTS cost_tracking (
    id             bigserial PRIMARY KEY,
    tenant_id      integer NOT NULL,
    agent_name     text NOT NULL,
    model_name     text NOT NULL,
    total_cost_usd numeric(12, 6) NOT NULL,
    total_tokens   integer NOT NULL,
    duration_ms    integer NOT NULL,
    status         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE INDEX IF NOT EXISTS idx_cost_tracking_tenant_date_agent
    ON cost_tracking (tenant_id, created_at DESC, agent_name) WHERE deleted_at IS NULL;
CREATE OR REPLACE VIEW v_run_metrics_summary AS
SELECT
    COUNT(*) FILTER (WHERE created_at >= NOW() - INTERVAL '24 hours') AS runs_24h,
    COUNT(*) FILTER (WHERE status = 'pending') AS pending_count,
    COUNT(*) FILTER (WHERE status = 'completed') AS completed_count,
    COUNT(*) FILTER (WHERE status = 'failed') AS failed_count,
    AVG(duration_ms) FILTER (WHERE status = 'completed') AS avg_duration_ms
FROM runs
WHERE deleted_at IS NULL;
CREATE OR REPLACE VIEW v_agent_performance_metrics AS
SELECT agent_name, COUNT(*) AS execution_count, AVG(duration_ms) AS avg_duration_ms,
       PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_duration_ms
FROM cost_tracking
WHERE created_at >= NOW() - INTERVAL '24 hours'
GROUP BY agent_name;
INSERT INTO scheduled_tasks (tenant_id, next_run_at, status, is_active)
SELECT g % 40, now() + ((g % 3600) || ' seconds')::interval,
       CASE WHEN g % 5 = 0 THEN 'paused' ELSE 'scheduled' END, g % 5 <> 0
FROM generate_series(1, 20000) AS g WHERE NOT EXISTS (SELECT 1 FROM scheduled_tasks);
INSERT INTO runs (project_id, status, duration_ms, created_at)
SELECT g % 200, (ARRAY['pending', 'completed', 'failed'])[1 + g % 3], g % 5000,
       now() - ((g % 172800) || ' seconds')::interval
FROM generate_series(1, 20000) AS g WHERE NOT EXISTS (SELECT 1 FROM runs);
INSERT INTO cost_tracking (tenant_id, agent_name, model_name, total_cost_usd, total_tokens,
                           duration_ms, status, created_at)
SELECT g % 40, 'agent-' || (g % 7), 'model-' || (g % 3), (g % 100) / 1000.0, g % 4000, g % 3000,
       CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'completed' END,
       now() - ((g % 86400) || ' seconds')::interval
FROM generate_series(1, 20000) AS g WHERE NOT EXISTS (SELECT 1 FROM cost_tracking);
ANALYZE scheduled_tasks;
ANALYZE runs;
ANALYZE cost_tracking;
