-- 10,000 agents over 50 tenants and 20,000 schedules; loaded once (idempotent).
INSERT INTO agents (tenant_id, name, config, created_at)
SELECT g % 50, 'agent-' || g, jsonb_build_object('model', 'm' || (g % 7), 'temperature', 0.2),
       now() - (g || ' minutes')::interval
FROM generate_series(1, 10000) AS g
WHERE NOT EXISTS (SELECT 1 FROM agents);
INSERT INTO schedules (agent_id, tenant_id, cron, next_run_at, status, is_active)
SELECT a.id, a.tenant_id, '*/5 * * * *', now() + ((a.id % 600) || ' seconds')::interval,
       CASE WHEN a.id % 10 = 0 THEN 'paused' ELSE 'scheduled' END, a.id % 10 <> 0
FROM agents a CROSS JOIN generate_series(1, 2) AS s
WHERE NOT EXISTS (SELECT 1 FROM schedules);
ANALYZE agents;
ANALYZE schedules;
