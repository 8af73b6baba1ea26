-- The controller's schema, portable between SQLite and PostgreSQL.
-- Ids are TEXT, times BIGINT microseconds since the Unix epoch, counters BIGINT,
-- binary values BYTEA (SQLite stores blobs as given under any declared type),
-- ordered string lists JSON arrays in TEXT columns.

CREATE TABLE scopes (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES scopes (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    primary_auth_method_id TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX scopes_parent ON scopes (parent_id);

CREATE TABLE auth_methods (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL REFERENCES scopes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    min_login_name_length BIGINT NOT NULL,
    min_password_length BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX auth_methods_scope ON auth_methods (scope_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL REFERENCES scopes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX users_scope ON users (scope_id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    auth_method_id TEXT NOT NULL REFERENCES auth_methods (id),
    scope_id TEXT NOT NULL,
    login_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_login_name ON accounts (auth_method_id, lower(login_name));
CREATE INDEX accounts_user ON accounts (user_id);

CREATE TABLE auth_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    auth_method_id TEXT NOT NULL REFERENCES auth_methods (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    approximate_last_used BIGINT NOT NULL,
    expiration BIGINT NOT NULL
);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL REFERENCES scopes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    grant_scope_ids TEXT NOT NULL,
    grant_strings TEXT NOT NULL,
    principal_ids TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE targets (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL REFERENCES scopes (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT NOT NULL,
    default_port BIGINT,
    default_client_port BIGINT,
    session_max_seconds BIGINT NOT NULL,
    session_connection_limit BIGINT NOT NULL,
    worker_filter TEXT NOT NULL,
    credential_source_ids TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX targets_scope_name ON targets (scope_id, name) WHERE name <> '';

-- The alias change counter: one row, bumped inside every transaction that writes an
-- alias or a tombstone. Its row lock serialises those writers, so a reader that sees
-- value n (in one snapshot) sees every change numbered <= n.
CREATE TABLE alias_change_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO alias_change_counter (id, last_seq) VALUES (1, 0);

CREATE TABLE aliases (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL,
    value TEXT NOT NULL,
    destination_id TEXT REFERENCES targets (id),
    host_id TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL,
    change_seq BIGINT NOT NULL
);
CREATE UNIQUE INDEX aliases_value ON aliases (lower(value));
CREATE INDEX aliases_destination ON aliases (destination_id);
CREATE INDEX aliases_change_seq ON aliases (change_seq);

CREATE TABLE alias_tombstones (
    id TEXT PRIMARY KEY,
    change_seq BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
CREATE INDEX alias_tombstones_change_seq ON alias_tombstones (change_seq);

CREATE TABLE credential_stores (
    id TEXT PRIMARY KEY,
    scope_id TEXT NOT NULL REFERENCES scopes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL REFERENCES credential_stores (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    username TEXT NOT NULL,
    encrypted_secret BYTEA NOT NULL,
    secret_hmac TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX credentials_store ON credentials (store_id);

-- Sessions keep the ids of their target, user and token as history: no foreign keys, so
-- deleting a target or a token leaves its sessions readable.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    target_id TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    auth_token_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    host_set_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    certificate BYTEA NOT NULL,
    encrypted_private_key BYTEA NOT NULL,
    tofu_hash TEXT,
    connection_limit BIGINT NOT NULL,
    connections_used BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    status TEXT NOT NULL,
    termination_reason TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX sessions_scope ON sessions (scope_id);
CREATE INDEX sessions_status ON sessions (status);

-- Each status occurs at most once in a session's life.
CREATE TABLE session_states (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    status TEXT NOT NULL,
    start_time BIGINT NOT NULL,
    end_time BIGINT,
    PRIMARY KEY (session_id, status)
);

CREATE TABLE session_connections (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    worker_id TEXT NOT NULL,
    client_tcp_address TEXT NOT NULL,
    client_tcp_port BIGINT NOT NULL,
    endpoint_tcp_address TEXT NOT NULL,
    endpoint_tcp_port BIGINT NOT NULL,
    bytes_up BIGINT NOT NULL,
    bytes_down BIGINT NOT NULL,
    status TEXT NOT NULL,
    closed_reason TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX session_connections_session ON session_connections (session_id);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    description TEXT NOT NULL,
    last_heartbeat BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX workers_name ON workers (name);
