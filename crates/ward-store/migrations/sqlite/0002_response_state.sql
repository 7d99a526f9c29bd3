-- Response state moves into the store: actions, approvals, playbook runs and their step journal
-- take the shape of the response engine's records (deterministic ids, executor state, risk,
-- TTL, verification time), and a global settings table holds the kill switch. The first
-- version's tables of the same names were never written by any release, so they are replaced.
DROP TABLE IF EXISTS approvals;
DROP TABLE IF EXISTS playbook_run_steps;
DROP TABLE IF EXISTS playbook_runs;
DROP TABLE IF EXISTS actions;

CREATE TABLE actions (
    tenant         TEXT NOT NULL,
    id             TEXT NOT NULL,
    decision_id    TEXT NOT NULL,
    incident_id    TEXT,
    kind           TEXT NOT NULL,
    target         TEXT NOT NULL,
    mode           TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    risk           TEXT NOT NULL,
    ttl_secs       INTEGER,
    expires_at     INTEGER,
    attempts       INTEGER NOT NULL,
    state          TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    verified_at    INTEGER,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, decision_id, kind)
);
CREATE INDEX actions_created ON actions (tenant, created_at, id);
CREATE INDEX actions_status ON actions (status, tenant);
CREATE INDEX actions_incident ON actions (tenant, incident_id);
CREATE INDEX actions_target ON actions (tenant, kind, target);

CREATE TABLE approvals (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    decided_by   TEXT,
    reason       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, action_id) REFERENCES actions (tenant, id) ON DELETE CASCADE
);
CREATE INDEX approvals_status ON approvals (status, tenant);

CREATE TABLE playbook_runs (
    tenant        TEXT NOT NULL,
    id            TEXT NOT NULL,
    playbook      TEXT NOT NULL,
    playbook_hash TEXT NOT NULL,
    incident_id   TEXT NOT NULL,
    context       TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX playbook_runs_status ON playbook_runs (status, tenant);

-- Append-only: one row per step transition, in order; never updated or deleted.
CREATE TABLE playbook_journal (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant  TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    step    TEXT NOT NULL,
    state   TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    output  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX playbook_journal_run ON playbook_journal (tenant, run_id, seq);
CREATE TRIGGER playbook_journal_no_update BEFORE UPDATE ON playbook_journal
BEGIN SELECT RAISE(ABORT, 'playbook_journal is append-only'); END;
CREATE TRIGGER playbook_journal_no_delete BEFORE DELETE ON playbook_journal
BEGIN SELECT RAISE(ABORT, 'playbook_journal is append-only'); END;

-- Installation-wide settings (the response kill switch); per-tenant ones live in `settings`.
CREATE TABLE global_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
