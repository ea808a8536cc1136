-- Outgoing webhooks: the durable delivery queue and the per-attempt history.

-- One row per pending call. `due_at` is when the job may next be claimed: claiming moves it forward by the
-- lease, so a job whose worker died becomes due again by itself; success deletes the row, a retry moves
-- `due_at` to the next attempt. `attempts` counts claims (attempts started).
CREATE TABLE delivery_jobs (
    id TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (due_at);
CREATE INDEX delivery_jobs_integration ON delivery_jobs (integration_id);

-- One row per attempt (Rocket.Chat's rocketchat_integration_history), purged after the retention period.
CREATE TABLE outgoing_history (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL NOT NULL,
    integration_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX outgoing_history_integration ON outgoing_history (integration_id, updated_at);
CREATE INDEX outgoing_history_updated ON outgoing_history (updated_at);
