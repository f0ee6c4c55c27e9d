-- Login throttling that every replica sees, previous secrets kept when a credential is
-- replaced, and who created a credential (an app-scoped robot may use what it made).
CREATE TABLE login_attempts (
    bucket TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    window_ms BIGINT NOT NULL
);
CREATE INDEX login_attempts_by_window ON login_attempts (window_start);
CREATE TABLE credential_versions (
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    apple_team TEXT,
    expires_at BIGINT,
    key_id TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    metadata TEXT NOT NULL,
    replaced_at BIGINT NOT NULL,
    replaced_by TEXT NOT NULL,
    PRIMARY KEY (credential_id, version)
);
CREATE INDEX credential_versions_by_key ON credential_versions (key_id);
CREATE INDEX credential_versions_by_time ON credential_versions (replaced_at);
ALTER TABLE credentials ADD COLUMN created_by TEXT
