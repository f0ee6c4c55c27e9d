//! The schema on both backends: sqlx's migrations make it, a database made by the
//! migration runner that came before them (`schema_migrations`) is adopted, and servers
//! starting together on one database all start. PostgreSQL at 127.0.0.1:5432
//! (`SIGNET_TEST_POSTGRES_URL` overrides) must be reachable: these tests fail, never skip,
//! without it.

use std::path::{Path, PathBuf};

use signet_store::{Keyring, Store, StoreError};
use sqlx::{AnyConnection, Connection as _, Row as _};

/// The migration texts as the runner before sqlx knew them (its `migrations/` directory,
/// one text for both backends), kept as they were.
const OLD_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("fixtures/old_migrations/0001_init.sql")),
    (2, include_str!("fixtures/old_migrations/0002_security.sql")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn dir(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

fn postgres_url() -> String {
    std::env::var("SIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn random_hex() -> String {
    let mut b = [0u8; 6];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh database on the PostgreSQL server.
async fn postgres_database() -> String {
    let base = postgres_url();
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for these tests: {e}"));
    let name = format!("signet_test_{}", random_hex());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

fn sqlite_database(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join(name).display())
}

async fn database(backend: Backend, dir: &tempfile::TempDir, name: &str) -> String {
    match backend {
        Backend::Sqlite => sqlite_database(dir, name),
        Backend::Postgres => postgres_database().await,
    }
}

fn keyring() -> Keyring {
    Keyring::generate(&format!("k{}", random_hex())).unwrap()
}

async fn connect(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url).await.unwrap()
}

/// Makes a database as signet's migration runner did before sqlx ran the migrations
/// (db.rs until this change), applying the old texts up to `up_to`: one transaction, a
/// `schema_migrations` table of version numbers, comment lines dropped, `BLOB` read as
/// `BYTEA` on PostgreSQL, statements split on `;`.
async fn make_old_database(url: &str, backend: Backend, up_to: i64) {
    let mut conn = connect(url).await;
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .execute(&mut *tx)
        .await
        .unwrap();
    for (version, sql) in OLD_MIGRATIONS.iter().filter(|(v, _)| *v <= up_to) {
        let mut without_comments: String = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        if backend == Backend::Postgres {
            without_comments = without_comments.replace(" BLOB ", " BYTEA ");
        }
        for statement in without_comments
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sqlx::query(statement).execute(&mut *tx).await.unwrap();
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // A row the old code wrote, to be found after the new code opened the database.
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('org_old', 'Old', 1)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// The migration files of a backend, by version.
fn migration_files(backend: Backend) -> Vec<(i64, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend.dir());
    let mut files: Vec<(i64, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let version = name.split_once('_').unwrap().0.parse().unwrap();
            (version, path)
        })
        .collect();
    files.sort();
    files
}

/// What `_sqlx_migrations` records: version, success, checksum, execution time.
async fn recorded(url: &str) -> Vec<(i64, bool, Vec<u8>, i64)> {
    let mut conn = connect(url).await;
    let rows = sqlx::query(
        "SELECT version, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS success, checksum, \
         execution_time FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("version"),
                r.get::<i64, _>("success") == 1,
                r.get("checksum"),
                r.get("execution_time"),
            )
        })
        .collect()
}

/// The recorded migrations must be exactly the files, each with the SHA-384 of its text
/// (sqlx's checksum), computed here apart from sqlx.
fn assert_records_match_files(backend: Backend, records: &[(i64, bool, Vec<u8>, i64)]) {
    let files = migration_files(backend);
    assert_eq!(
        records.iter().map(|r| r.0).collect::<Vec<_>>(),
        files.iter().map(|f| f.0).collect::<Vec<_>>(),
        "{backend:?}: every migration recorded, none other"
    );
    for ((version, success, checksum, _), (_, path)) in records.iter().zip(&files) {
        assert!(
            success,
            "{backend:?}: migration {version} recorded as failed"
        );
        let text = std::fs::read(path).unwrap();
        let sha384 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, &text);
        assert_eq!(
            checksum.as_slice(),
            sha384.as_ref(),
            "{backend:?}: checksum of migration {version}"
        );
    }
}

/// The schema's tables, columns, indexes and constraints in comparable text, without the
/// migration bookkeeping.
async fn schema(url: &str, backend: Backend) -> Vec<String> {
    let mut conn = connect(url).await;
    let queries: &[&str] = match backend {
        Backend::Sqlite => &[
            "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS d \
             FROM sqlite_master \
             WHERE name NOT IN ('schema_migrations', '_sqlx_migrations') \
             AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name",
        ],
        Backend::Postgres => &[
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || COALESCE(column_default, '-') || ' #' || ordinal_position AS d \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT IN ('schema_migrations', '_sqlx_migrations') \
             ORDER BY table_name, ordinal_position",
            "SELECT indexname || ': ' || indexdef AS d FROM pg_indexes \
             WHERE schemaname = current_schema() \
             AND tablename NOT IN ('schema_migrations', '_sqlx_migrations') ORDER BY indexname",
            "SELECT conrelid::regclass::text || ' ' || conname || ': ' \
             || pg_get_constraintdef(oid) AS d FROM pg_constraint \
             WHERE connamespace = current_schema()::regnamespace \
             AND conrelid::regclass::text NOT IN ('schema_migrations', '_sqlx_migrations') \
             ORDER BY 1",
        ],
    };
    let mut out = Vec::new();
    for q in queries {
        for row in sqlx::query(q).fetch_all(&mut conn).await.unwrap() {
            out.push(row.get::<String, _>("d"));
        }
    }
    out
}

async fn has_table(url: &str, backend: Backend, name: &str) -> bool {
    let mut conn = connect(url).await;
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = $1",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let n: i64 = sqlx::query(sql)
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
    n > 0
}

async fn open(url: &str) -> Store {
    Store::open(url, keyring())
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"))
}

/// A new database: sqlx applies every migration, and nothing of the old runner appears.
async fn new_database(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = database(backend, &dir, "new.db").await;
    open(&url).await.close().await;
    let records = recorded(&url).await;
    assert_records_match_files(backend, &records);
    assert!(
        records.iter().all(|r| r.3 >= 0),
        "{backend:?}: every migration was run by sqlx (a measured time)"
    );
    assert!(!has_table(&url, backend, "schema_migrations").await);
    // Opening again finds the recorded checksums equal to the embedded texts.
    open(&url).await.close().await;
    assert_eq!(recorded(&url).await, records);
}

#[tokio::test]
async fn new_sqlite_database_is_made_by_sqlx_migrations() {
    new_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn new_postgres_database_is_made_by_sqlx_migrations() {
    new_database(Backend::Postgres).await;
}

/// A database the old runner made to its last migration: adopted (each of its migrations
/// recorded as applied, none run again; those added since run), its rows kept, its schema the same as a new
/// database's, and `schema_migrations` left alone.
async fn old_database_is_adopted(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let old = database(backend, &dir, "old.db").await;
    make_old_database(&old, backend, 2).await;
    assert!(!has_table(&old, backend, "_sqlx_migrations").await);

    let store = open(&old).await;
    let org: String = sqlx::query("SELECT name FROM organizations WHERE id = 'org_old'")
        .fetch_one(&mut connect(&old).await)
        .await
        .unwrap()
        .get("name");
    assert_eq!(org, "Old");
    store.close().await;

    let records = recorded(&old).await;
    assert_records_match_files(backend, &records);
    let old_last = OLD_MIGRATIONS.last().map_or(0, |m| m.0);
    assert!(
        records.iter().all(|r| (r.0 <= old_last) == (r.3 == -1)),
        "{backend:?}: adopted migrations are recorded, not run; later ones run: {records:?}"
    );
    assert!(has_table(&old, backend, "schema_migrations").await);

    let new = database(backend, &dir, "new.db").await;
    open(&new).await.close().await;
    let (old_schema, new_schema) = (schema(&old, backend).await, schema(&new, backend).await);
    assert!(old_schema.len() > 20, "{old_schema:?}");
    assert_eq!(
        old_schema, new_schema,
        "{backend:?}: adopted and new schemas"
    );

    // Opened again: sqlx checks the adopted checksums and finds nothing to do.
    open(&old).await.close().await;
    assert_eq!(recorded(&old).await, records);
}

#[tokio::test]
async fn old_sqlite_database_is_adopted() {
    old_database_is_adopted(Backend::Sqlite).await;
}

#[tokio::test]
async fn old_postgres_database_is_adopted() {
    old_database_is_adopted(Backend::Postgres).await;
}

/// A database the old runner left at migration 1: 1 is adopted, 2 and later are run by
/// sqlx.
async fn old_database_gets_later_migrations(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let old = database(backend, &dir, "old.db").await;
    make_old_database(&old, backend, 1).await;
    assert!(!has_table(&old, backend, "credential_versions").await);

    open(&old).await.close().await;
    let records = recorded(&old).await;
    assert_records_match_files(backend, &records);
    let times: Vec<(i64, bool)> = records.iter().map(|r| (r.0, r.3 >= 0)).collect();
    let expected: Vec<(i64, bool)> = records.iter().map(|r| (r.0, r.0 != 1)).collect();
    assert_eq!(times, expected, "1 adopted, the rest run");
    assert!(times.len() >= 2, "{times:?}");
    assert!(has_table(&old, backend, "credential_versions").await);

    let new = database(backend, &dir, "new.db").await;
    open(&new).await.close().await;
    assert_eq!(schema(&old, backend).await, schema(&new, backend).await);
}

#[tokio::test]
async fn old_sqlite_database_at_migration_1_gets_migration_2() {
    old_database_gets_later_migrations(Backend::Sqlite).await;
}

#[tokio::test]
async fn old_postgres_database_at_migration_1_gets_migration_2() {
    old_database_gets_later_migrations(Backend::Postgres).await;
}

/// Servers starting together on one database, new or made by the old runner: every one
/// starts, and each migration is recorded once.
async fn concurrent_opens(backend: Backend, old: bool) {
    let dir = tempfile::tempdir().unwrap();
    let url = database(backend, &dir, "shared.db").await;
    if old {
        make_old_database(&url, backend, 1).await;
    }
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::open(&url, keyring()).await })
        })
        .collect();
    for open in opens {
        let store = open
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{backend:?}: a concurrent open failed: {e}"));
        store.close().await;
    }
    assert_records_match_files(backend, &recorded(&url).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_new_postgres_database_all_start() {
    concurrent_opens(Backend::Postgres, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_an_old_postgres_database_all_start() {
    concurrent_opens(Backend::Postgres, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_new_sqlite_database_all_start() {
    concurrent_opens(Backend::Sqlite, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_an_old_sqlite_database_all_start() {
    concurrent_opens(Backend::Sqlite, true).await;
}

/// A recorded migration whose text changed since (its checksum differs) stops the open:
/// the adopted checksums are the ones sqlx checks.
async fn changed_migration_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = database(backend, &dir, "changed.db").await;
    make_old_database(&url, backend, 2).await;
    open(&url).await.close().await;
    let mut conn = connect(&url).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 2")
        .bind(vec![0u8; 48])
        .execute(&mut conn)
        .await
        .unwrap();
    let err = Store::open(&url, keyring()).await.err().expect("refused");
    assert!(
        matches!(
            &err,
            StoreError::Database(sqlx::Error::Migrate(m))
                if matches!(**m, sqlx::migrate::MigrateError::VersionMismatch(2))
        ),
        "{backend:?}: {err:?}"
    );
}

#[tokio::test]
async fn changed_sqlite_migration_is_refused() {
    changed_migration_is_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn changed_postgres_migration_is_refused() {
    changed_migration_is_refused(Backend::Postgres).await;
}
