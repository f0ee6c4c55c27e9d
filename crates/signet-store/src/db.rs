//! The store's core: the pool, the schema, transactions, sealing with a keyring that
//! follows its key file, the audit log and pagination. One set of hand-written queries
//! (`$1` placeholders, in order) runs on SQLite (embedded, the default) or PostgreSQL (to
//! scale out) through sqlx's `Any` driver.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::{Duration, SystemTime},
};

use sqlx::{
    AnyConnection, AnyPool, Row, Transaction,
    any::AnyPoolOptions,
    migrate::{Migrate as _, MigrateError, Migrator},
};
use zeroize::Zeroizing;

use crate::{Actor, Binding, Keyring, OrgId, Sealed, StoreError, secrets::random_hex};

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

/// Limits the store enforces (SPEC §1), configurable per server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Distribution certificates per Apple team (Expo's seed table: 1).
    pub distribution_certificates: usize,
    /// APNs keys per Apple team (Apple: 2).
    pub push_keys: usize,
    /// How long a deleted credential can be restored.
    pub restore_window: Duration,
}

impl Limits {
    /// The restore window in milliseconds, as times are stored.
    pub fn restore_window_ms(&self) -> i64 {
        i64::try_from(self.restore_window.as_millis()).unwrap_or(i64::MAX)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            distribution_certificates: 1,
            push_keys: 2,
            restore_window: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

struct KeySource {
    ring: RwLock<Arc<Keyring>>,
    file: Option<PathBuf>,
    /// The key file as last looked at.
    seen: Mutex<Seen>,
}

/// The key file as last looked at: its stamp, and whether it could be loaded then.
struct Seen {
    stamp: Option<Stamp>,
    usable: bool,
}

/// What a `stat` of the key file says, enough to see that it changed (rewritten,
/// renamed over, removed, its mode changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
    mode: u32,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let (inode, mode) = {
        use std::os::unix::fs::MetadataExt as _;
        (m.ino(), m.mode())
    };
    #[cfg(not(unix))]
    let (inode, mode) = (0, 0);
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        inode,
        mode,
    })
}

/// SQLite makes its database file with mode 0644 (less the umask), and its `-wal` and
/// `-shm` files with the database file's mode: secrets are sealed, but users, token
/// hashes and the audit log are not. A database file about to be created is created
/// 0600 first (SQLite uses an empty file as a new database), and any of the four files
/// that others may read is made private, with a log line.
fn private_sqlite_files(url: &str) -> Result<(), StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let params: Vec<&str> = params.split('&').collect();
    if database.is_empty() || database == ":memory:" || params.contains(&"mode=memory") {
        return Ok(());
    }
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
    let path = options.get_filename().to_owned();
    private_files(&path, params.contains(&"mode=rwc"))
}

#[cfg(unix)]
fn private_files(path: &Path, create: bool) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let at = |file: &Path, e: std::io::Error| {
        StoreError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", file.display()),
        ))
    };
    if create {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            // Made now, or there already; a missing directory is SQLite's to report.
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
                ) => {}
            Err(e) => return Err(at(path, e)),
        }
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let mode = match std::fs::metadata(&file) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(at(&file, e)),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                .map_err(|e| at(&file, e))?;
            tracing::warn!(
                file = %file.display(),
                was = %format!("{mode:o}"),
                now = %format!("{:o}", mode & 0o700),
                "the database file was readable by others; made it private"
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_files(_path: &Path, _create: bool) -> Result<(), StoreError> {
    Ok(())
}

/// The store: a pool, the keyring and the limits.
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    keys: KeySource,
    pub(crate) limits: Limits,
    audit_writer: crate::audit_log::AuditWriter,
    pub(crate) hasher: crate::hashing::Hasher,
}

/// The schema of each backend: numbered migrations in `migrations/sqlite` and
/// `migrations/postgres` (the same tables; the texts differ where the backends do, as in
/// `BLOB` and `BYTEA`), embedded at compile time by sqlx, which records them with their
/// checksums in `_sqlx_migrations`. A migration once released is never edited: sqlx
/// refuses a database whose recorded checksum differs.
fn migrator(backend: Backend) -> Migrator {
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    // `migrate` runs it inside a transaction that holds its own lock; sqlx's session-level
    // lock on PostgreSQL would stay held on a pooled connection after a failed migration.
    migrator.set_locking(false);
    migrator
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An audit record's id: nanoseconds since the epoch (strictly increasing within this
/// process, so records sort in the order they were made) and random bytes (apart across
/// replicas). Sorting by id sorts by time.
pub(crate) fn audit_id() -> Result<String, StoreError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut prev = LAST.load(Ordering::Relaxed);
    let t = loop {
        let next = nanos.max(prev + 1);
        match LAST.compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(actual) => prev = actual,
        }
    };
    Ok(format!("{t:016x}{}", random_hex(4)?))
}

/// A page request: at most `limit` items after `cursor`.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page (1 to 500; 50 when absent).
    pub limit: Option<u32>,
}

impl PageRequest {
    pub(crate) fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(50).clamp(1, 500))
    }
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, keyring: Keyring) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // A broken connection fails its query and is replaced; pinging before every
            // checkout cost a round trip per statement (bench/server: +39% fetches/s on
            // PostgreSQL without it).
            .test_before_acquire(false);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        if backend == Backend::Sqlite {
            private_sqlite_files(url)?;
        }
        let pool = options.connect(url).await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let store = Store {
            audit_writer: crate::audit_log::AuditWriter::start(pool.clone()),
            pool,
            backend,
            keys: KeySource {
                ring: RwLock::new(Arc::new(keyring)),
                file: None,
                seen: Mutex::new(Seen {
                    stamp: None,
                    usable: true,
                }),
            },
            limits: Limits::default(),
            hasher: crate::hashing::Hasher::for_this_machine(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database with the master keys of the key file at `path`, and follows
    /// the file: the keyring is reloaded when the file changes (a `stat` before each use,
    /// and the file read again at once when a record names a key that is not loaded), so
    /// `signet admin rotate-key` takes effect at the next write of every server and
    /// `rewrap` works while servers run.
    ///
    /// A key file is created ([`Keyring::create`]) only when it is missing and the
    /// database holds no sealed secret (in any table). When it is missing and the
    /// database holds some, nothing is created and the store is not opened:
    /// [`StoreError::KeyFileNeeded`] names the key ids the data needs. If the file
    /// disappears (or cannot be read) later, the store keeps opening secrets with the keys
    /// it has and refuses to seal new ones ([`StoreError::KeyFileMissing`]) until the file
    /// is back; it logs an error once.
    pub async fn open_with_key_file(url: &str, path: PathBuf) -> Result<Store, StoreError> {
        // Stamped before it is read: a change after this is seen at the first use.
        let before = stamp(&path);
        let found = match Keyring::load(&path) {
            Ok(ring) => Some(ring),
            Err(StoreError::KeyFileMissing(_)) => None,
            Err(e) => return Err(e),
        };
        let missing = found.is_none();
        let mut store = Store::open(url, found.unwrap_or_else(Keyring::empty)).await?;
        if missing {
            if let Err(e) = store.make_first_key(&path).await {
                store.close().await;
                return Err(e);
            }
        }
        store.keys.file = Some(path);
        store.keys.seen = Mutex::new(Seen {
            stamp: before,
            usable: true,
        });
        Ok(store)
    }

    /// Creates the key file of a database that holds no sealed secret, or refuses.
    async fn make_first_key(&self, path: &Path) -> Result<(), StoreError> {
        let sealed = self.key_usage().await?;
        if !sealed.is_empty() {
            return Err(StoreError::KeyFileNeeded {
                path: path.to_owned(),
                sealed,
            });
        }
        let ring = match Keyring::create(path) {
            Ok(ring) => ring,
            // Another process starting on this data dir made it meanwhile: use theirs.
            Err(StoreError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Keyring::load(path)?
            }
            Err(e) => return Err(e),
        };
        tracing::info!(
            file = %path.display(),
            key_id = ring.current(),
            "created the master key file (the database holds no sealed secret); back it up: \
             it decrypts everything"
        );
        self.set_keyring(ring);
        Ok(())
    }

    /// Sets the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Store {
        self.limits = limits;
        self
    }

    /// Brings the schema up to date in one transaction: on PostgreSQL under an advisory
    /// lock, on SQLite under the write lock (`BEGIN IMMEDIATE`), so that servers starting
    /// together take turns and the later ones find nothing to do. sqlx's own transaction
    /// per migration becomes a savepoint inside it.
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrator(self.backend);
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Replicas starting together take turns; "already exists, skipping" notices
            // are not worth a log line at every start.
            sqlx::query("SET LOCAL client_min_messages = warning")
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT pg_advisory_xact_lock(73696765)")
                .execute(&mut *tx)
                .await?;
        }
        self.adopt_schema_migrations(&mut tx, &migrator).await?;
        migrator
            .run_direct(&mut *tx)
            .await
            .map_err(sqlx::Error::from)?;
        tx.commit().await?;
        Ok(())
    }

    /// A database made before sqlx ran the migrations records them, by number, in
    /// `schema_migrations` (whose texts were the SQLite ones, with `BLOB` read as `BYTEA`
    /// on PostgreSQL: the same schema `migrations/` makes). Such a database without
    /// sqlx's table gets one that records those migrations as applied, with the checksums
    /// of the embedded texts, so that sqlx applies only the later ones. `schema_migrations`
    /// is left as it was.
    async fn adopt_schema_migrations(
        &self,
        conn: &mut AnyConnection,
        migrator: &Migrator,
    ) -> Result<(), StoreError> {
        if !self.has_table(conn, "schema_migrations").await?
            || self.has_table(conn, "_sqlx_migrations").await?
        {
            return Ok(());
        }
        let applied: Vec<i64> =
            sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| row.try_get("version"))
                .collect::<Result<_, _>>()?;
        conn.ensure_migrations_table()
            .await
            .map_err(sqlx::Error::from)?;
        for version in &applied {
            let migration = migrator
                .iter()
                .find(|m| m.version == *version && !m.migration_type.is_down_migration())
                .ok_or_else(|| sqlx::Error::from(MigrateError::VersionMissing(*version)))?;
            // -1: not run here (sqlx's value for a time it did not measure).
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES ($1, $2, TRUE, $3, -1)",
            )
            .bind(migration.version)
            .bind(migration.description.as_ref())
            .bind(migration.checksum.as_ref())
            .execute(&mut *conn)
            .await?;
        }
        tracing::info!(
            versions = ?applied,
            "recorded the migrations of schema_migrations in _sqlx_migrations"
        );
        Ok(())
    }

    async fn has_table(&self, conn: &mut AnyConnection, name: &str) -> Result<bool, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        let row = sqlx::query(sql).bind(name).fetch_one(&mut *conn).await?;
        let n: i64 = row.try_get("n")?;
        Ok(n > 0)
    }

    /// How many passwords this store has hashed or checked (Argon2id runs), for tests
    /// and metrics.
    pub fn password_hashes(&self) -> u64 {
        self.hasher.runs()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// SQLite: copies the write-ahead log into the database and truncates it (readers
    /// that never pause keep automatic checkpoints from resetting it, so it grows on a
    /// busy server). Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The keyring in use (the keys last loaded, also while the key file is missing).
    pub fn keyring(&self) -> Arc<Keyring> {
        // A missing key file does not stop opening secrets: only sealing checks.
        let _ = self.maybe_reload();
        self.current_ring()
    }

    /// The keyring to seal with: [`StoreError::KeyFileMissing`] while the key file this
    /// store follows is missing or unreadable, so nothing is sealed under a key that may
    /// not survive (or that the file no longer holds).
    pub(crate) fn sealing_keyring(&self) -> Result<Arc<Keyring>, StoreError> {
        self.maybe_reload()?;
        Ok(self.current_ring())
    }

    fn current_ring(&self) -> Arc<Keyring> {
        self.keys
            .ring
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |r| Arc::clone(&r))
    }

    /// Replaces the keyring (tests, and servers configured by environment).
    pub fn set_keyring(&self, keyring: Keyring) {
        if let Ok(mut ring) = self.keys.ring.write() {
            *ring = Arc::new(keyring);
        }
    }

    /// Loads the key file again if it changed since it was last looked at; `Err` while
    /// it is missing or unreadable.
    fn maybe_reload(&self) -> Result<(), StoreError> {
        let Some(path) = &self.keys.file else {
            return Ok(());
        };
        let now = stamp(path);
        let mut seen = self
            .keys
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now != seen.stamp {
            seen.stamp = now;
            self.load_key_file(path, &mut seen);
        }
        if seen.usable {
            Ok(())
        } else {
            Err(StoreError::KeyFileMissing(path.clone()))
        }
    }

    /// Reads the key file: its keys replace the loaded ones. When it cannot be read, the
    /// loaded keys stay (for opening) and sealing is refused; never is a key made here.
    /// Logs once when the file goes, and once when it is back.
    fn load_key_file(&self, path: &Path, seen: &mut Seen) {
        match Keyring::load(path) {
            Ok(ring) => {
                self.set_keyring(ring);
                if !seen.usable {
                    tracing::info!(
                        file = %path.display(),
                        "the master key file can be read again; new secrets are sealed again"
                    );
                }
                seen.usable = true;
            }
            Err(e) => {
                if seen.usable {
                    tracing::error!(
                        file = %path.display(),
                        error = %e,
                        "the master key file is missing or unreadable: stored secrets are \
                         still opened with the keys loaded, but new secrets are refused \
                         (503) until the file is restored; no new key is made"
                    );
                }
                seen.usable = false;
            }
        }
    }

    /// Reads the key file now; `Ok(false)` when the store follows none,
    /// [`StoreError::KeyFileMissing`] when it is missing or unreadable.
    pub fn reload_keys(&self) -> Result<bool, StoreError> {
        let Some(path) = &self.keys.file else {
            return Ok(false);
        };
        let mut seen = self
            .keys
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        seen.stamp = stamp(path);
        self.load_key_file(path, &mut seen);
        if seen.usable {
            Ok(true)
        } else {
            Err(StoreError::KeyFileMissing(path.clone()))
        }
    }

    pub(crate) fn seal(
        &self,
        plaintext: &[u8],
        binding: &Binding<'_>,
    ) -> Result<Sealed, StoreError> {
        self.sealing_keyring()?.seal(plaintext, binding)
    }

    pub(crate) fn open_sealed(
        &self,
        sealed: &Sealed,
        binding: &Binding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        match self.keyring().open(sealed, binding) {
            Err(StoreError::MissingKey(id)) => {
                if self.reload_keys()? {
                    self.keyring().open(sealed, binding)
                } else {
                    Err(StoreError::MissingKey(id))
                }
            }
            other => other,
        }
    }

    /// Starts a write transaction (see [`begin`]).
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, sqlx::Any>, StoreError> {
        begin(&self.pool, self.backend).await
    }

    /// Writes the audit record of a read, with group commit.
    pub(crate) async fn audit_read(
        &self,
        entry: crate::audit_log::Entry,
    ) -> Result<(), StoreError> {
        self.audit_writer.write(entry).await
    }

    /// `FOR UPDATE` where the backend has it (SQLite's transactions are already serial).
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// Starts a write transaction. SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so
/// a transaction that reads before it writes cannot deadlock.
pub(crate) async fn begin(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, sqlx::Any>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Writes one audit record inside the caller's transaction: if it cannot be written, the
/// change it describes is not made either.
pub(crate) async fn audit(
    conn: &mut AnyConnection,
    org: Option<&OrgId>,
    actor: &Actor,
    action: &str,
    target: impl AsRef<str>,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    insert_audit(
        conn,
        &[AuditRow {
            org,
            actor,
            action,
            target: target.as_ref(),
            detail,
        }],
    )
    .await
}

/// One audit record to write.
pub(crate) struct AuditRow<'a> {
    pub org: Option<&'a OrgId>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a serde_json::Value,
}

/// Writes audit records in one INSERT (atomic: all or none), on a connection inside a
/// transaction or on the pool.
pub(crate) async fn insert_audit<'e, E>(exec: E, rows: &[AuditRow<'_>]) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut sql = String::from(
        "INSERT INTO audit (id, org_id, at, actor, action, target, ip, request_id, detail) VALUES ",
    );
    for i in 0..rows.len() {
        let p = i * 9;
        if i > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (p + 1..=p + 9).map(|n| format!("${n}")).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(audit_id()?)
            .bind(row.org.cloned())
            .bind(now())
            .bind(row.actor.who.clone())
            .bind(row.action.to_owned())
            .bind(row.target.to_owned())
            .bind(row.actor.ip.clone())
            .bind(row.actor.request_id.clone())
            .bind(row.detail.to_string());
    }
    query.execute(exec).await?;
    Ok(())
}

/// Maps a unique-constraint violation to `Exists(what)`.
pub(crate) fn unique_violation(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Exists(what());
    }
    StoreError::Database(e)
}
