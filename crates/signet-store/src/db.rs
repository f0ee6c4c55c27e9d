//! Persistence: one set of hand-written queries (`$1` placeholders, in order) run on
//! SQLite (embedded, the default) or PostgreSQL (to scale out), through sqlx's `Any`
//! driver. Secrets are stored sealed ([`Keyring::seal`]); rows carry a version, and an
//! update names the version it read (If-Match): a stale update is
//! [`StoreError::Conflict`], never a silent overwrite.

use sqlx::{AnyPool, Row, any::AnyPoolOptions};
use zeroize::Zeroizing;

use crate::{Binding, Keyring, Sealed, StoreError};

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, in a file of the data dir.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// Picks the backend from a URL, refusing anything else with a hint.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::BadDatabaseUrl(
                "use sqlite://PATH (the default, in the data dir) or postgres://USER@HOST/DB"
                    .into(),
            ))
        }
    }
}

/// A stored secret, decrypted.
pub struct Secret {
    /// Its id.
    pub id: String,
    /// Its type.
    pub kind: String,
    /// Its version; name it when updating.
    pub version: i64,
    /// The derived metadata (JSON), stored in clear.
    pub metadata: String,
    /// The secret bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The store: a pool and the keyring.
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    keyring: Keyring,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn new_id(prefix: &str) -> Result<String, StoreError> {
    let mut b = [0u8; 12];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| StoreError::Crypto("random number generator"))?;
    let hex = b.iter().fold(String::with_capacity(24), |mut s, x| {
        use std::fmt::Write as _;
        let _ = write!(s, "{x:02x}");
        s
    });
    Ok(format!("{prefix}_{hex}"))
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, keyring: Keyring) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await?;
        let schema = match backend {
            Backend::Sqlite => include_str!("../migrations/sqlite/0001_secrets.sql"),
            Backend::Postgres => include_str!("../migrations/postgres/0001_secrets.sql"),
        };
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await?;
        }
        for statement in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&pool).await?;
        }
        Ok(Store {
            pool,
            backend,
            keyring,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The keyring, to rotate keys.
    pub fn keyring_mut(&mut self) -> &mut Keyring {
        &mut self.keyring
    }

    /// Creates an organization, returning its id.
    pub async fn create_org(&self, name: &str) -> Result<String, StoreError> {
        let id = new_id("org")?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Stores a new secret of `kind` for `org`, sealed; returns its id (version 1).
    pub async fn create_secret(
        &self,
        org: &str,
        kind: &str,
        plaintext: &[u8],
        metadata: &str,
    ) -> Result<String, StoreError> {
        let id = new_id("sec")?;
        let sealed = self.keyring.seal(
            plaintext,
            &Binding {
                org,
                record: &id,
                kind,
                version: 1,
            },
        )?;
        sqlx::query(
            "INSERT INTO secrets (id, org_id, kind, version, key_id, sealed, metadata, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(org)
        .bind(kind)
        .bind(1_i64)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(metadata)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Reads and opens a secret of `org`; another organization's id is `NotFound`.
    pub async fn get_secret(&self, org: &str, id: &str) -> Result<Secret, StoreError> {
        let row = sqlx::query(
            "SELECT kind, version, sealed, metadata FROM secrets WHERE id = $1 AND org_id = $2",
        )
        .bind(id)
        .bind(org)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let kind: String = row.try_get("kind")?;
        let version: i64 = row.try_get("version")?;
        let sealed = Sealed::from_bytes(row.try_get("sealed")?);
        let metadata: String = row.try_get("metadata")?;
        let version_u =
            u64::try_from(version).map_err(|_| StoreError::Malformed("negative version"))?;
        let plaintext = self.keyring.open(
            &sealed,
            &Binding {
                org,
                record: id,
                kind: &kind,
                version: version_u,
            },
        )?;
        Ok(Secret {
            id: id.to_owned(),
            kind,
            version,
            metadata,
            plaintext,
        })
    }

    /// Replaces a secret if it is still at `expected_version`; returns the new version.
    /// A concurrent writer that got there first makes this [`StoreError::Conflict`].
    pub async fn update_secret(
        &self,
        org: &str,
        id: &str,
        expected_version: i64,
        plaintext: &[u8],
        metadata: &str,
    ) -> Result<i64, StoreError> {
        let kind: String = sqlx::query("SELECT kind FROM secrets WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("kind")?;
        let next = expected_version + 1;
        let next_u = u64::try_from(next).map_err(|_| StoreError::Malformed("negative version"))?;
        let sealed = self.keyring.seal(
            plaintext,
            &Binding {
                org,
                record: id,
                kind: &kind,
                version: next_u,
            },
        )?;
        let done = sqlx::query(
            "UPDATE secrets SET version = $1, key_id = $2, sealed = $3, metadata = $4, updated_at = $5 \
             WHERE id = $6 AND org_id = $7 AND version = $8",
        )
        .bind(next)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(metadata)
        .bind(now())
        .bind(id)
        .bind(org)
        .bind(expected_version)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            Ok(next)
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// Re-wraps every secret not under the current master key; returns how many. Safe
    /// while requests run: each row is rewritten only if its version did not move.
    pub async fn rewrap_all(&self) -> Result<u64, StoreError> {
        let current = self.keyring.current().to_owned();
        let rows =
            sqlx::query("SELECT id, org_id, kind, version, sealed FROM secrets WHERE key_id <> $1")
                .bind(&current)
                .fetch_all(&self.pool)
                .await?;
        let mut n = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            let org: String = row.try_get("org_id")?;
            let kind: String = row.try_get("kind")?;
            let version: i64 = row.try_get("version")?;
            let sealed = Sealed::from_bytes(row.try_get("sealed")?);
            let version_u =
                u64::try_from(version).map_err(|_| StoreError::Malformed("negative version"))?;
            let binding = Binding {
                org: &org,
                record: &id,
                kind: &kind,
                version: version_u,
            };
            let rewrapped = self.keyring.rewrap(&sealed, &binding)?;
            let done = sqlx::query(
                "UPDATE secrets SET key_id = $1, sealed = $2 WHERE id = $3 AND version = $4",
            )
            .bind(&current)
            .bind(rewrapped.as_bytes().to_vec())
            .bind(&id)
            .bind(version)
            .execute(&self.pool)
            .await?;
            // A concurrent update already sealed it under the current key.
            n += done.rows_affected();
        }
        Ok(n)
    }

    /// How many secrets are still sealed under `key_id` (0 before removing that key).
    pub async fn count_under_key(&self, key_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM secrets WHERE key_id = $1")
            .bind(key_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
