-- signet's schema on SQLite; ../postgres holds the same for PostgreSQL, BYTEA where this
-- says BLOB. Times are milliseconds since the Unix epoch; flags are 0/1 integers, so that
-- one set of queries runs on both.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    org_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    role TEXT,
    app_ids TEXT,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_by_org ON tokens (org_id);
CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    apple_team TEXT,
    expires_at BIGINT,
    version BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX credentials_by_org ON credentials (org_id, id);
CREATE INDEX credentials_by_expiry ON credentials (org_id, expires_at, id);
CREATE INDEX credentials_by_team ON credentials (org_id, apple_team, kind);
CREATE INDEX credentials_by_key ON credentials (key_id);
CREATE UNIQUE INDEX one_record_per_apple_team ON credentials (org_id, apple_team) WHERE kind = 'apple-team';
CREATE TABLE android_build_sets (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    application_id TEXT NOT NULL,
    name TEXT NOT NULL,
    keystore_id TEXT NOT NULL REFERENCES credentials(id),
    is_default BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app_id, application_id, name)
);
CREATE UNIQUE INDEX one_default_build_set ON android_build_sets (app_id, application_id) WHERE is_default = 1;
CREATE INDEX build_sets_by_keystore ON android_build_sets (keystore_id);
CREATE TABLE ios_build_pairs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    bundle_id TEXT NOT NULL,
    distribution TEXT NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES credentials(id),
    profile_id TEXT NOT NULL REFERENCES credentials(id),
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app_id, bundle_id, distribution)
);
CREATE INDEX pairs_by_certificate ON ios_build_pairs (certificate_id);
CREATE INDEX pairs_by_profile ON ios_build_pairs (profile_id);
CREATE TABLE app_links (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    identifier TEXT NOT NULL,
    slot TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, platform, identifier, slot)
);
CREATE INDEX links_by_credential ON app_links (credential_id);
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    org_id TEXT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    ip TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_org ON audit (org_id, id);
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
