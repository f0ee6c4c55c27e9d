//! The store on both backends: SQLite in a temporary file, and PostgreSQL at
//! 127.0.0.1:5432 (`SIGNET_TEST_POSTGRES_URL` overrides). PostgreSQL must be reachable:
//! these tests fail, never skip, without it (`scripts/test` starts the local cluster).

use signet_store::{Keyring, Store, StoreError};

fn postgres_url() -> String {
    std::env::var("SIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn sqlite(dir: &tempfile::TempDir, keyring: Keyring) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("signet.db").display()
    );
    Store::open(&url, keyring).await.expect("open SQLite")
}

/// A fresh database on the PostgreSQL server, so runs never see each other's rows.
async fn postgres_database() -> String {
    use sqlx::Connection as _;
    let base = postgres_url();
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for these tests: {e}"));
    let mut b = [0u8; 6];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    let name: String = format!(
        "signet_test_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

async fn postgres(url: &str, keyring: Keyring) -> Store {
    Store::open(url, keyring)
        .await
        .unwrap_or_else(|e| panic!("open PostgreSQL {url}: {e}"))
}

async fn round_trip_and_isolation(store: &Store) {
    let org = store.create_org("Acme").await.unwrap();
    let other = store.create_org("Other").await.unwrap();
    let id = store
        .create_secret(
            &org,
            "android-keystore",
            b"keystore bytes",
            r#"{"alias":"upload"}"#,
        )
        .await
        .unwrap();
    let s = store.get_secret(&org, &id).await.unwrap();
    assert_eq!(&*s.plaintext, b"keystore bytes");
    assert_eq!(s.version, 1);
    assert_eq!(s.metadata, r#"{"alias":"upload"}"#);
    // Another organization's id is not found, not forbidden.
    assert!(matches!(
        store.get_secret(&other, &id).await,
        Err(StoreError::NotFound)
    ));
    assert!(!format!("{s:?}").contains("keystore bytes"));
}

async fn stale_writes_conflict(store: &Store) {
    let org = store.create_org("Acme").await.unwrap();
    let id = store
        .create_secret(&org, "apple-p12", b"v1", "{}")
        .await
        .unwrap();
    assert_eq!(
        store
            .update_secret(&org, &id, 1, b"v2", "{}")
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        store.update_secret(&org, &id, 1, b"lost", "{}").await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        &*store.get_secret(&org, &id).await.unwrap().plaintext,
        b"v2"
    );

    // 50 concurrent updates from version 2: exactly one wins.
    let results = futures_join(store, &org, &id).await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(3) | Err(StoreError::Conflict)))
    );
    let s = store.get_secret(&org, &id).await.unwrap();
    assert_eq!(s.version, 3);
    assert!(s.plaintext.starts_with(b"writer "));
}

async fn futures_join(store: &Store, org: &str, id: &str) -> Vec<Result<i64, StoreError>> {
    let futures = (0..50).map(|i| async move {
        let body = format!("writer {i}");
        store.update_secret(org, id, 2, body.as_bytes(), "{}").await
    });
    let mut out = Vec::new();
    // Drive them concurrently on the pool.
    let handles: Vec<_> = futures.collect();
    for r in join_all(handles).await {
        out.push(r);
    }
    out
}

async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

async fn rotate_and_rewrap(mut store: Store) {
    let org = store.create_org("Acme").await.unwrap();
    let old_key = store.keyring_mut().current().to_owned();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            store
                .create_secret(&org, "fcm-key", format!("secret {i}").as_bytes(), "{}")
                .await
                .unwrap(),
        );
    }
    let new_key = format!("{old_key}r");
    store.keyring_mut().rotate(&new_key).unwrap();
    assert!(store.rewrap_all().await.unwrap() >= 5);
    assert_eq!(store.count_under_key(&old_key).await.unwrap(), 0);
    store.keyring_mut().remove(&old_key).unwrap();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            &*store.get_secret(&org, id).await.unwrap().plaintext,
            format!("secret {i}").as_bytes()
        );
    }
}

fn keyring() -> Keyring {
    let mut b = [0u8; 6];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Keyring::generate(&format!("k{id}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_round_trip_isolation_conflicts_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, keyring()).await;
    round_trip_and_isolation(&store).await;
    stale_writes_conflict(&store).await;
    drop(store);
    // Records sealed under a key that is not loaded are reported, never skipped.
    let stranger = sqlite(&dir, keyring()).await;
    assert!(matches!(
        stranger.rewrap_all().await,
        Err(StoreError::MissingKey(_))
    ));
    let fresh = tempfile::tempdir().unwrap();
    rotate_and_rewrap(sqlite(&fresh, keyring()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_round_trip_isolation_conflicts_and_rotation() {
    let url = postgres_database().await;
    let store = postgres(&url, keyring()).await;
    round_trip_and_isolation(&store).await;
    stale_writes_conflict(&store).await;
    drop(store);
    let url2 = postgres_database().await;
    rotate_and_rewrap(postgres(&url2, keyring()).await).await;
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    let err = Store::open("mysql://localhost/x", keyring())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("use sqlite://PATH"), "{err}");
}
