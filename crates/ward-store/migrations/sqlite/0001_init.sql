-- Ward state store, SQLite schema v1. Times are Unix microseconds (INTEGER), JSON is TEXT,
-- severities are ranks 0 (informational) .. 4 (critical). Every tenant-owned table keys on
-- (tenant, id) so no statement can reach a row without naming its tenant.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    tenant        TEXT NOT NULL,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, user_id) REFERENCES users (tenant, id) ON DELETE CASCADE
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    user_id      TEXT,
    role         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    name       TEXT NOT NULL,
    secret     BLOB NOT NULL,
    disabled   BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX devices_tenant ON devices (tenant);

CREATE TABLE alerts (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    rule_title TEXT NOT NULL,
    level      INTEGER NOT NULL,
    score      REAL NOT NULL,
    ts         INTEGER NOT NULL,
    event_ids  TEXT NOT NULL,
    tags       TEXT NOT NULL,
    techniques TEXT NOT NULL,
    entities   TEXT NOT NULL,
    source     TEXT NOT NULL,
    details    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX alerts_tenant_ts ON alerts (tenant, ts, id);
CREATE INDEX alerts_tenant_rule ON alerts (tenant, rule_id);

CREATE TABLE incidents (
    tenant              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    status              TEXT NOT NULL,
    severity            INTEGER NOT NULL,
    severity_locked     BOOLEAN NOT NULL DEFAULT 0,
    score               REAL NOT NULL,
    title               TEXT NOT NULL,
    group_key           TEXT NOT NULL,
    entities            TEXT NOT NULL,
    alert_count         INTEGER NOT NULL DEFAULT 0,
    verdict             TEXT,
    confidence          REAL,
    reasoning           TEXT NOT NULL,
    iocs                TEXT NOT NULL,
    recommended_actions TEXT NOT NULL,
    triager             TEXT,
    assignee            TEXT,
    duplicate_of        TEXT,
    first_seen          INTEGER NOT NULL,
    last_seen           INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX incidents_open_group ON incidents (tenant, group_key, last_seen);
CREATE INDEX incidents_created ON incidents (tenant, created_at, id);
CREATE INDEX incidents_updated ON incidents (tenant, updated_at, id);

CREATE TABLE incident_alerts (
    tenant      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    alert_id    TEXT NOT NULL,
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, alert_id),
    FOREIGN KEY (tenant, incident_id) REFERENCES incidents (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, alert_id) REFERENCES alerts (tenant, id) ON DELETE CASCADE
);
CREATE INDEX incident_alerts_incident ON incident_alerts (tenant, incident_id);

CREATE TABLE incident_comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    FOREIGN KEY (tenant, incident_id) REFERENCES incidents (tenant, id) ON DELETE CASCADE
);
CREATE INDEX incident_comments_incident ON incident_comments (tenant, incident_id, id);

CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    details     TEXT NOT NULL,
    FOREIGN KEY (tenant, incident_id) REFERENCES incidents (tenant, id) ON DELETE CASCADE
);
CREATE INDEX incident_timeline_incident ON incident_timeline (tenant, incident_id, id);

CREATE TABLE labels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    label       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    FOREIGN KEY (tenant, incident_id) REFERENCES incidents (tenant, id) ON DELETE CASCADE
);
CREATE INDEX labels_tenant ON labels (tenant, id);

CREATE TABLE actions (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    incident_id TEXT,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    params      TEXT NOT NULL,
    status      TEXT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    result      TEXT NOT NULL,
    error       TEXT,
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, decision_id, action)
);
CREATE INDEX actions_created ON actions (tenant, created_at, id);

CREATE TABLE approvals (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    reason       TEXT,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, action_id) REFERENCES actions (tenant, id) ON DELETE CASCADE
);

CREATE TABLE playbooks (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name)
);

CREATE TABLE playbook_runs (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    playbook_id TEXT NOT NULL,
    incident_id TEXT,
    status      TEXT NOT NULL,
    context     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, playbook_id) REFERENCES playbooks (tenant, id) ON DELETE CASCADE
);

CREATE TABLE playbook_run_steps (
    tenant      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    step        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    output      TEXT NOT NULL,
    error       TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    PRIMARY KEY (tenant, run_id, step),
    FOREIGN KEY (tenant, run_id) REFERENCES playbook_runs (tenant, id) ON DELETE CASCADE
);

CREATE TABLE policies (
    tenant     TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, name, version)
);

CREATE TABLE connectors (
    tenant     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE notifications (
    tenant     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE settings (
    tenant     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE assets (
    tenant      TEXT NOT NULL,
    name        TEXT NOT NULL,
    ip_or_cidr  TEXT,
    owner       TEXT,
    criticality TEXT NOT NULL,
    tags        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE deadletter (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant    TEXT NOT NULL,
    source    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    location  TEXT NOT NULL,
    payload   BLOB NOT NULL,
    truncated BOOLEAN NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX deadletter_tenant ON deadletter (tenant, id);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    tenant    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant, seq);

CREATE TABLE audit_checkpoints (
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT,
    at        INTEGER NOT NULL,
    PRIMARY KEY (kind, seq)
);
