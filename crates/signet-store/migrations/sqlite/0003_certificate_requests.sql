-- Apple certificate requests made on the server (issue 11): the private key sealed like
-- every secret (the binding columns kind, version, metadata, expires_at and apple_team
-- as in credentials, so the master-key rewrap treats it alike), the CSR public.
CREATE TABLE certificate_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    apple_team TEXT,
    expires_at BIGINT,
    metadata TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    csr_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    completed_at BIGINT,
    completed_by TEXT,
    credential_id TEXT
);
CREATE INDEX certificate_requests_by_org ON certificate_requests (org_id, id);
CREATE INDEX certificate_requests_by_key ON certificate_requests (key_id);
