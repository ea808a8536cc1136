-- Core chat schema: users and their login tokens, roles and permissions, rooms, memberships, messages.
-- Documents are JSON text; the columns beside them are what queries filter, sort and count on.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username_lower TEXT NOT NULL UNIQUE,
    email_lower TEXT UNIQUE,
    password_hash TEXT,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE login_tokens (
    hashed TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_part TEXT,
    bypass_2fa BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_tokens_user ON login_tokens (user_id);
CREATE UNIQUE INDEX login_tokens_pat_name ON login_tokens (user_id, name) WHERE kind = 'pat';

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE permissions (
    id TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    t TEXT NOT NULL,
    name_lower TEXT UNIQUE,
    ts BIGINT NOT NULL,
    msgs BIGINT NOT NULL DEFAULT 0,
    users_count BIGINT NOT NULL DEFAULT 0,
    lm BIGINT,
    last_message TEXT,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX rooms_t_name ON rooms (t, name_lower);

CREATE TABLE room_tombstones (
    id TEXT PRIMARY KEY,
    t TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    rid TEXT NOT NULL,
    uid TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (rid, uid)
);
CREATE INDEX subscriptions_uid ON subscriptions (uid, updated_at);

CREATE TABLE subscription_tombstones (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
);
CREATE INDEX subscription_tombstones_uid ON subscription_tombstones (uid, deleted_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL NOT NULL,
    rid TEXT NOT NULL,
    ts BIGINT NOT NULL,
    tmid TEXT,
    t TEXT,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX messages_rid_ts ON messages (rid, ts);
