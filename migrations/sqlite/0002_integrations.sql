-- Integrations (incoming and outgoing webhooks) and the recorded requests of incoming hooks.

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX integrations_kind ON integrations (kind, created_at);

CREATE TABLE hook_requests (
    id TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX hook_requests_integration ON hook_requests (integration_id, created_at);
