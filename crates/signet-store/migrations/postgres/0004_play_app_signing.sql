-- Play App Signing opt-ins (issue 11): the keystore Google now holds as the app-signing
-- key (kept, never purged while marked) and the upload keystore generated at the opt-in.
CREATE TABLE play_app_signing (
    app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    application_id TEXT NOT NULL,
    app_signing_keystore_id TEXT NOT NULL REFERENCES credentials(id),
    upload_keystore_id TEXT NOT NULL REFERENCES credentials(id),
    opted_in_at BIGINT NOT NULL,
    opted_in_by TEXT NOT NULL,
    PRIMARY KEY (app_id, application_id)
);
CREATE INDEX play_app_signing_by_keystore ON play_app_signing (app_signing_keystore_id);
