-- Keys made on the server (issue 11): a credential whose key was generated here (a build
-- set's keystore, a certificate request's key) is held: the build-credentials fetch does
-- not hand it out below the admin role; it signs on the server instead. A replace with an
-- uploaded file clears it.
ALTER TABLE credentials ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
