-- The records store (data/records.py): one text for SQLite and PostgreSQL. {id} is the database's
-- own id generator (AUTOINCREMENT / identity), so ids are never computed as max + 1 by a writer.
-- Statements are separated by lines holding only "-- ;" (trigger bodies contain semicolons).

-- Evaluators' decisions on a score: append-only.
CREATE TABLE IF NOT EXISTS evaluator_decisions (
    decision_id     {id},
    application_id  BIGINT NOT NULL,
    model           TEXT NOT NULL CHECK (model IN ('ktop', 'kvalue')),
    model_version   TEXT NOT NULL,
    decided_by      TEXT NOT NULL,
    decided_at      TIMESTAMP NOT NULL,
    agrees          BOOLEAN NOT NULL,
    reason          TEXT,              -- required when agrees = false
    CHECK (agrees OR length(trim(coalesce(reason, ''))) > 0)
)
-- ;
-- Identifiers and public template plans that must not link applicants (auditor-editable, so the
-- one records table that may be updated and deleted; every change is in access_log).
CREATE TABLE IF NOT EXISTS broker_suppressions (
    kind            TEXT NOT NULL,     -- a fingerprint kind, or 'plan' for a public template's text
    value           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    added_by        TEXT NOT NULL,
    added_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, value)
)
-- ;
CREATE TABLE IF NOT EXISTS cases (
    case_id         {id},
    run_id          TEXT,
    cluster_id      INTEGER,
    title           TEXT NOT NULL,
    opened_by       TEXT NOT NULL,
    opened_at       TIMESTAMP NOT NULL
)
-- ;
-- Append-only: the current state of a case is its latest events; rows are never updated or deleted.
CREATE TABLE IF NOT EXISTS case_events (
    event_id        {id},
    case_id         BIGINT NOT NULL REFERENCES cases (case_id),
    at_time         TIMESTAMP NOT NULL,
    by_user         TEXT NOT NULL,
    status          TEXT CHECK (status IN ('open', 'investigating', 'referred', 'cleared')),
    assignee        TEXT,
    note            TEXT
)
-- ;
CREATE INDEX IF NOT EXISTS case_events_case ON case_events (case_id, event_id)
-- ;
-- Every view of unmasked personal data and every change of a record.
CREATE TABLE IF NOT EXISTS access_log (
    log_id          {id},
    at_time         TIMESTAMP NOT NULL,
    user_name       TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('policy', 'evaluator', 'auditor', 'admin')),
    action          TEXT NOT NULL,     -- view_personal, export, case_event, decision, import, ...
    object          TEXT               -- what was seen or changed (ids, page)
)
-- ;
-- Who may sign in: salted bcrypt hashes only (data/users.py). Editable by administrators; every
-- change is in access_log. Roles as in data/access.py.
CREATE TABLE IF NOT EXISTS users (
    name            TEXT PRIMARY KEY CHECK (length(trim(name)) > 0),
    hash            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('policy', 'evaluator', 'auditor', 'admin')),
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL
)
