//! The store on both backends: SQLite in a temporary file, and PostgreSQL at
//! 127.0.0.1:5432 (`SIGNET_TEST_POSTGRES_URL` overrides). PostgreSQL must be reachable:
//! these tests fail, never skip, without it (`scripts/test` starts the local cluster).

use base64::Engine as _;
use signet_formats::{DistinguishedName, KeyAlgorithm, KeystoreType, Password, WriteOptions};
use signet_store::{
    Actor, CredentialId, Keyring, Kind, Metadata, Named, OrgId, PageRequest, Store, StoreError,
    metadata::KeystoreFormat,
    validate::{FcmKeyUpload, KeystoreUpload, PushKeyUpload, SecretString, Upload, validate},
};

fn postgres_url() -> String {
    std::env::var("SIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn random_hex() -> String {
    let mut b = [0u8; 6];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
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
    let name = format!("signet_test_{}", random_hex());
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

fn keyring() -> Keyring {
    Keyring::generate(&format!("k{}", random_hex())).unwrap()
}

fn actor() -> Actor {
    Actor::system("test")
}

async fn org(store: &Store) -> OrgId {
    let email = format!("{}@example.com", random_hex());
    let (_, org) = store
        .create_user(&actor(), &email, "a long password", Some("Acme"))
        .await
        .unwrap();
    org.unwrap().id
}

fn fcm(key: &str) -> Upload {
    Upload::FcmLegacyKey(FcmKeyUpload {
        name: None,
        server_key: SecretString::new(key),
    })
}

fn keystore_upload(store_pass: &str) -> Upload {
    let entry = signet_formats::generate::key_entry(
        "upload",
        KeyAlgorithm::EcP256,
        &DistinguishedName::parse("CN=Acme").unwrap(),
        365,
    )
    .unwrap();
    let bytes = signet_formats::write(
        &[entry],
        &[],
        &WriteOptions {
            kind: KeystoreType::Pkcs12,
            store_password: Password::new(store_pass),
            key_password: None,
            pkcs12_encryption: signet_formats::Pkcs12Encryption::Modern,
        },
    )
    .unwrap();
    Upload::AndroidKeystore(KeystoreUpload {
        name: None,
        keystore: SecretString::new(base64::engine::general_purpose::STANDARD.encode(bytes)),
        store_password: SecretString::new(store_pass),
        key_alias: None,
        key_password: None,
    })
}

fn push_key_upload(key_id: &str, team: &str) -> Upload {
    let key = signet_formats::PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    Upload::ApplePushKey(PushKeyUpload {
        name: None,
        p8: SecretString::new(signet_formats::pem::encode("PRIVATE KEY", key.pkcs8_der())),
        key_id: key_id.into(),
        team_id: team.into(),
    })
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

async fn round_trip_and_isolation(store: &Store) {
    let org = org(store).await;
    let other = self::org(store).await;
    let c = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAbbbbccccddddeeeeZZZZ"), now()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(c.kind, Kind::FcmLegacyKey);
    assert_eq!(c.version, 1);
    let Metadata::FcmLegacyKey(fcm_meta) = &c.metadata else {
        panic!("{:?}", c.metadata)
    };
    assert_eq!(
        (fcm_meta.first4.as_str(), fcm_meta.last4.as_str()),
        ("AAAA", "ZZZZ")
    );
    // The record never holds the secret.
    assert!(!serde_json::to_string(&c).unwrap().contains("bbbbcccc"));
    let (_, secret) = store
        .read_secret(
            &actor(),
            &org,
            &c.id,
            "credential.export",
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert!(
        std::str::from_utf8(&secret)
            .unwrap()
            .contains("AAAAbbbbccccddddeeeeZZZZ")
    );
    // Another organization's id is not found, not forbidden.
    assert!(matches!(
        store.credential(&other, &c.id, false).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .read_secret(&actor(), &other, &c.id, "x", &serde_json::json!({}))
            .await,
        Err(StoreError::NotFound)
    ));
    // Both reads of the secret were audited; the failed one was not.
    let log = store
        .audit_log(&org, &PageRequest::default())
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions[..2], ["credential.export", "credential.create"]);

    // A keystore's metadata is derived from the file.
    let ks = store
        .create_credential(
            &actor(),
            &org,
            validate(&keystore_upload("storepass1"), now()).unwrap(),
        )
        .await
        .unwrap();
    let Metadata::AndroidKeystore(ks_meta) = &ks.metadata else {
        panic!("{:?}", ks.metadata)
    };
    assert_eq!(ks_meta.alias, "upload");
    assert_eq!(ks_meta.keystore_type, KeystoreFormat::Pkcs12);
    assert_eq!(ks_meta.certificate.subject, "CN=Acme");
    assert!(ks.expires_at.is_some());
    let page = store
        .credentials(
            &org,
            Some(Kind::AndroidKeystore),
            false,
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, ks.id);
}

async fn stale_writes_conflict(store: &Store) {
    let org = org(store).await;
    let c = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAbbbbccccddddeeeeZZZZ"), now()).unwrap(),
        )
        .await
        .unwrap();
    let renamed = store
        .rename_credential(&actor(), &org, &c.id, 1, "prod")
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    assert!(matches!(
        store
            .rename_credential(&actor(), &org, &c.id, 1, "lost")
            .await,
        Err(StoreError::Conflict)
    ));

    // 50 concurrent updates from version 2: exactly one wins, and its write is the one
    // that is read back.
    let futures: Vec<_> = (0..50)
        .map(|i| {
            let org = org.clone();
            let id = c.id.clone();
            async move {
                store
                    .rename_credential(&actor(), &org, &id, 2, &format!("writer {i}"))
                    .await
            }
        })
        .collect();
    let results = join_all(futures).await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict))),
        "{results:?}"
    );
    let now = store.credential(&org, &c.id, false).await.unwrap();
    assert_eq!(now.version, 3);
    assert_eq!(now.name, winners[0].name);
    // The secret survived every reseal.
    let (_, secret) = store
        .read_secret(&actor(), &org, &c.id, "x", &serde_json::json!({}))
        .await
        .unwrap();
    assert!(std::str::from_utf8(&secret).unwrap().contains("AAAAbbbb"));
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

async fn limits_and_soft_delete(store: &Store) {
    let org = org(store).await;
    let team = "A1B2C3D4E5";
    let k1 = store
        .create_credential(
            &actor(),
            &org,
            validate(&push_key_upload("KEY0000001", team), now()).unwrap(),
        )
        .await
        .unwrap();
    store
        .create_credential(
            &actor(),
            &org,
            validate(&push_key_upload("KEY0000002", team), now()).unwrap(),
        )
        .await
        .unwrap();
    // A third push key for the team is refused, naming what holds the limit.
    let err = store
        .create_credential(
            &actor(),
            &org,
            validate(&push_key_upload("KEY0000003", team), now()).unwrap(),
        )
        .await
        .unwrap_err();
    match &err {
        StoreError::Limit {
            max,
            occupied_by,
            limit,
        } => {
            assert_eq!(*max, 2);
            assert!(limit.contains("push keys per Apple team"), "{limit}");
            assert_eq!(occupied_by.len(), 2);
            assert!(occupied_by.iter().any(|o| o.starts_with(k1.id.as_str())));
        }
        other => panic!("{other:?}"),
    }
    let keys = store
        .credentials(
            &org,
            Some(Kind::ApplePushKey),
            false,
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(keys.items.len(), 2, "the refused upload stored nothing");
    // The team was created implicitly, once.
    let teams = store
        .credentials(&org, Some(Kind::AppleTeam), false, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(teams.items.len(), 1);
    assert_eq!(teams.items[0].apple_team.as_deref(), Some(team));

    // Deleting frees the slot; restoring into a full team is refused.
    let impact = store
        .delete_credential(&actor(), &org, &k1.id, Some(1))
        .await
        .unwrap();
    assert!(impact.summary.contains("loses push"), "{}", impact.summary);
    assert!(matches!(
        store.credential(&org, &k1.id, false).await,
        Err(StoreError::NotFound)
    ));
    store
        .create_credential(
            &actor(),
            &org,
            validate(&push_key_upload("KEY0000003", team), now()).unwrap(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.restore_credential(&actor(), &org, &k1.id).await,
        Err(StoreError::Limit { .. })
    ));
    let deleted = store
        .credentials(&org, None, true, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(deleted.items.len(), 1);
    assert_eq!(deleted.items[0].id, k1.id);
}

/// With a zero restore window: a deleted credential can still be exported until the purge
/// destroys it; one a build set points at is kept.
async fn export_before_destroy(store: Store) {
    let store = store.with_limits(signet_store::Limits {
        restore_window: std::time::Duration::ZERO,
        ..signet_store::Limits::default()
    });
    let org = org(&store).await;
    let gone = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAaaaaaaaaaaaaaaaaAAAA"), now()).unwrap(),
        )
        .await
        .unwrap();
    let ks = store
        .create_credential(
            &actor(),
            &org,
            validate(&keystore_upload("storepass1"), now()).unwrap(),
        )
        .await
        .unwrap();
    let app = store.create_app(&actor(), &org, "app").await.unwrap();
    store
        .put_build_set(
            &actor(),
            &org,
            &app,
            "com.acme.app",
            "release",
            &Named::from(ks.id.clone()),
            false,
            None,
            &signet_store::Scope::Org,
        )
        .await
        .unwrap();
    store
        .delete_credential(&actor(), &org, &gone.id, None)
        .await
        .unwrap();
    store
        .delete_credential(&actor(), &org, &ks.id, None)
        .await
        .unwrap();
    let (_, secret) = store.export_secret(&actor(), &org, &gone.id).await.unwrap();
    assert!(std::str::from_utf8(&secret).unwrap().contains("AAAAaaaa"));
    // A build fetch never hands out a deleted keystore.
    assert!(matches!(
        store
            .android_build_credentials(
                &actor(),
                &org,
                app.id.as_str(),
                &signet_store::Scope::Org,
                "com.acme.app",
                None,
                true,
            )
            .await,
        Err(StoreError::Rule(signet_store::Rule::DeletedKeystore { .. }))
    ));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let purged = store.purge_deleted(&actor()).await.unwrap();
    assert!(purged.contains(&gone.id), "{purged:?}");
    assert!(
        !purged.contains(&ks.id),
        "a keystore a build set uses is kept"
    );
    assert!(matches!(
        store.export_secret(&actor(), &org, &gone.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.export_secret(&actor(), &org, &ks.id).await.is_ok());
    let log = store
        .audit_log(&org, &PageRequest::default())
        .await
        .unwrap();
    assert!(
        log.items
            .iter()
            .any(|a| a.action == "credential.destroy" && a.target == gone.id.as_str())
    );
}

/// Without an audit log, nothing happens: a read returns no secret and a write stores
/// nothing (SPEC §3: the request fails if the audit record cannot be written).
async fn no_audit_no_action(store: &Store, url: &str) {
    use sqlx::Connection as _;
    let org = org(store).await;
    let c = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAaaaaaaaaaaaaaaaaAAAA"), now()).unwrap(),
        )
        .await
        .unwrap();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("ALTER TABLE audit RENAME TO audit_away")
        .execute(&mut conn)
        .await
        .unwrap();
    let read = store
        .read_secret(
            &actor(),
            &org,
            &c.id,
            "credential.export",
            &serde_json::json!({}),
        )
        .await;
    assert!(matches!(read, Err(StoreError::AuditFailed(_))), "{read:?}");
    let write = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("BBBBbbbbbbbbbbbbbbbbBBBB"), now()).unwrap(),
        )
        .await;
    assert!(write.is_err());
    sqlx::query("ALTER TABLE audit_away RENAME TO audit")
        .execute(&mut conn)
        .await
        .unwrap();
    let all = store
        .credentials(
            &org,
            Some(Kind::FcmLegacyKey),
            false,
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        all.items.len(),
        1,
        "the write without an audit record stored nothing"
    );
}

async fn moved_or_flipped_ciphertexts_fail(store: &Store, url: &str) {
    use sqlx::Connection as _;
    let org = org(store).await;
    let a = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAaaaaaaaaaaaaaaaaAAAA"), now()).unwrap(),
        )
        .await
        .unwrap();
    let b = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("BBBBbbbbbbbbbbbbbbbbBBBB"), now()).unwrap(),
        )
        .await
        .unwrap();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    // Move a's ciphertext into b's row.
    sqlx::query("UPDATE credentials SET sealed = (SELECT sealed FROM credentials WHERE id = $1) WHERE id = $2")
        .bind(&a.id)
        .bind(&b.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        store
            .read_secret(&actor(), &org, &b.id, "x", &serde_json::json!({}))
            .await,
        Err(StoreError::Tampered)
    ));
    // Flip one byte of a's ciphertext.
    let row: (Vec<u8>,) = sqlx::query_as("SELECT sealed FROM credentials WHERE id = $1")
        .bind(&a.id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let mut sealed = row.0;
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    sqlx::query("UPDATE credentials SET sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(&a.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        store
            .read_secret(&actor(), &org, &a.id, "x", &serde_json::json!({}))
            .await,
        Err(StoreError::Tampered)
    ));
}

async fn rotate_and_rewrap(store: &Store) {
    let org = org(store).await;
    let old_key = store.keyring().current().to_owned();
    let mut ids = Vec::new();
    for i in 0..5 {
        let key = format!("AAAA{i:016}ZZZZ");
        ids.push(
            store
                .create_credential(&actor(), &org, validate(&fcm(&key), now()).unwrap())
                .await
                .unwrap()
                .id,
        );
    }
    let mut ring = (*store.keyring()).clone();
    let new_key = format!("{old_key}r");
    ring.rotate(&new_key).unwrap();
    store.set_keyring(ring);
    assert!(store.rewrap_all().await.unwrap() >= 5);
    let usage = store.key_usage().await.unwrap();
    assert!(usage.iter().all(|(k, _)| *k == new_key), "{usage:?}");
    let mut ring = (*store.keyring()).clone();
    ring.remove(&old_key).unwrap();
    store.set_keyring(ring);
    for (i, id) in ids.iter().enumerate() {
        let (_, s) = store
            .read_secret(&actor(), &org, id, "x", &serde_json::json!({}))
            .await
            .unwrap();
        assert!(
            std::str::from_utf8(&s)
                .unwrap()
                .contains(&format!("AAAA{i:016}ZZZZ"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, keyring()).await;
    round_trip_and_isolation(&store).await;
    stale_writes_conflict(&store).await;
    limits_and_soft_delete(&store).await;
    rotate_and_rewrap(&store).await;
    let url = format!("sqlite://{}", dir.path().join("signet.db").display());
    moved_or_flipped_ciphertexts_fail(&store, &url).await;
    no_audit_no_action(&store, &url).await;
    drop(store);
    // Records sealed under a key that is not loaded are reported, never skipped.
    let stranger = sqlite(&dir, keyring()).await;
    assert!(matches!(
        stranger.rewrap_all().await,
        Err(StoreError::MissingKey(_))
    ));
    let other = tempfile::tempdir().unwrap();
    let store = sqlite(&other, keyring()).await;
    // A checkpoint empties the write-ahead log and loses nothing.
    let wal = other.path().join("signet.db-wal");
    let org = org(&store).await;
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    store.checkpoint().await.unwrap();
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    assert_eq!(store.org(&org).await.unwrap().name, "Acme");
    export_before_destroy(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store() {
    let url = postgres_database().await;
    let store = postgres(&url, keyring()).await;
    round_trip_and_isolation(&store).await;
    stale_writes_conflict(&store).await;
    limits_and_soft_delete(&store).await;
    rotate_and_rewrap(&store).await;
    moved_or_flipped_ciphertexts_fail(&store, &url).await;
    no_audit_no_action(&store, &url).await;
    let url = postgres_database().await;
    export_before_destroy(postgres(&url, keyring()).await).await;
}

/// The key file rules on one backend (`url`, a database of its own): a key file is made
/// only for a database without sealed secrets (counted in `credentials` and
/// `credential_versions`); a key file that goes away while the store runs stops sealing,
/// not opening, and never comes back as a new key.
async fn key_file_rules(url: &str) {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");

    // A fresh database: the key file is made, with a new-style id.
    let store = Store::open_with_key_file(url, path.clone()).await.unwrap();
    let key_id = store.keyring().current().to_owned();
    assert!(key_id.starts_with("k-") && key_id.len() == 14, "{key_id}");
    assert_eq!(Keyring::load(&path).unwrap().current(), key_id);
    assert_eq!(store.key_usage().await.unwrap(), vec![]);
    let org = org(&store).await;
    let first = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAfirst1234567890ZZZZ"), now()).unwrap(),
        )
        .await
        .unwrap();

    // The file goes while the store runs: sealing is refused, opening goes on.
    let away = dir.path().join("master.key.away");
    std::fs::rename(&path, &away).unwrap();
    let err = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAsecond123456789ZZZZ"), now()).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::KeyFileMissing(p) if *p == path),
        "{err:?}"
    );
    assert!(!path.exists(), "no key file is made while the store runs");
    let (_, secret) = store
        .read_secret(&actor(), &org, &first.id, "x", &serde_json::json!({}))
        .await
        .unwrap();
    assert!(
        std::str::from_utf8(&secret)
            .unwrap()
            .contains("AAAAfirst1234567890ZZZZ")
    );
    assert_eq!(
        store.key_usage().await.unwrap(),
        vec![(key_id.clone(), 1)],
        "nothing was written"
    );
    // Back: sealing works again, under the same key.
    std::fs::rename(&away, &path).unwrap();
    let second = store
        .create_credential(
            &actor(),
            &org,
            validate(&fcm("AAAAsecond123456789ZZZZ"), now()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(store.key_usage().await.unwrap(), vec![(key_id.clone(), 2)]);

    // A kept previous version under another key id counts too.
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query(
        "INSERT INTO credential_versions (credential_id, org_id, version, kind, name, key_id, \
         sealed, metadata, replaced_at, replaced_by) \
         SELECT id, org_id, 0, kind, name, 'k0ld', sealed, metadata, 0, 'test' FROM credentials \
         WHERE id = $1",
    )
    .bind(&second.id)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let usage = vec![(key_id.clone(), 2), ("k0ld".to_owned(), 1)];
    assert_eq!(store.key_usage().await.unwrap(), usage);
    store.close().await;
    drop(store);

    // Missing at the next open: refused, naming every key id the data needs; no file made.
    std::fs::rename(&path, &away).unwrap();
    let err = Store::open_with_key_file(url, path.clone())
        .await
        .err()
        .expect("open without the key file must fail");
    assert!(
        matches!(&err, StoreError::KeyFileNeeded { path: p, sealed } if *p == path && *sealed == usage),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the master key file {} is missing, and the database holds secrets sealed under \
             key ids {key_id} (2 secrets), k0ld (1 secret); restore the file (or set \
             SIGNET_MASTER_KEY), do not start without it",
            path.display()
        )
    );
    assert!(
        !path.exists(),
        "no key file is made for a database with sealed secrets"
    );
    // Restored: it opens and reads.
    std::fs::rename(&away, &path).unwrap();
    let store = Store::open_with_key_file(url, path.clone()).await.unwrap();
    assert_eq!(store.keyring().current(), key_id);
    let (_, secret) = store
        .read_secret(&actor(), &org, &second.id, "x", &serde_json::json!({}))
        .await
        .unwrap();
    assert!(
        std::str::from_utf8(&secret)
            .unwrap()
            .contains("AAAAsecond123456789ZZZZ")
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_file_rules_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("signet.db").display()
    );
    key_file_rules(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_file_rules_on_postgres() {
    key_file_rules(&postgres_database().await).await;
}

/// The SQLite database and its `-wal` and `-shm` files are 0600: made so when new, and
/// made so at open when an older version left them readable by others.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let files = ["signet.db", "signet.db-wal", "signet.db-shm"].map(|f| dir.path().join(f));
    let modes = || {
        files
            .iter()
            .map(|f| std::fs::metadata(f).unwrap().permissions().mode() & 0o777)
            .collect::<Vec<_>>()
    };
    let store = sqlite(&dir, keyring()).await;
    org(&store).await;
    assert_eq!(modes(), vec![0o600; 3]);
    store.close().await;
    drop(store);
    for f in &files {
        if !f.exists() {
            std::fs::write(f, b"").unwrap();
        }
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let store = sqlite(&dir, keyring()).await;
    org(&store).await;
    assert_eq!(modes(), vec![0o600; 3]);
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

/// The metadata signet shows about a secret (fingerprints, expiry, team) is bound to it:
/// changed in the database by someone without the master key, the secret no longer
/// opens, for the live row and for a kept previous version.
async fn changed_metadata_fails_to_open(store: &Store, url: &str) {
    use sqlx::Connection as _;
    let org = org(store).await;
    let ks = store
        .create_credential(
            &actor(),
            &org,
            validate(&keystore_upload("store-pass-1"), now()).unwrap(),
        )
        .await
        .unwrap();
    let shown = serde_json::to_value(&ks.metadata).unwrap();
    let fingerprint = shown["sha256"].as_str().expect("a SHA-256 fingerprint");
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let read = |id: CredentialId| {
        let org = org.clone();
        async move {
            store
                .read_secret(&actor(), &org, &id, "x", &serde_json::json!({}))
                .await
        }
    };
    assert!(read(ks.id.clone()).await.is_ok(), "opens as written");
    // Another certificate's fingerprint, as if pinning a different upload key.
    let mut forged = shown.clone();
    forged["sha256"] = serde_json::json!(fingerprint.replace(|c: char| c.is_ascii_hexdigit(), "0"));
    sqlx::query("UPDATE credentials SET metadata = $1 WHERE id = $2")
        .bind(forged.to_string())
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        read(ks.id.clone()).await,
        Err(StoreError::Tampered)
    ));
    sqlx::query("UPDATE credentials SET metadata = $1 WHERE id = $2")
        .bind(shown.to_string())
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(read(ks.id.clone()).await.is_ok(), "restored metadata opens");
    // The expiry is bound too.
    sqlx::query("UPDATE credentials SET expires_at = expires_at + 86400000 WHERE id = $1")
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        read(ks.id.clone()).await,
        Err(StoreError::Tampered)
    ));
    sqlx::query("UPDATE credentials SET expires_at = expires_at - 86400000 WHERE id = $1")
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
    // A kept previous version: the same.
    let replaced = store
        .replace_credential(
            &actor(),
            &org,
            &ks.id,
            ks.version,
            validate(&keystore_upload("store-pass-2"), now()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(replaced.version, ks.version + 1);
    assert!(
        store
            .export_version(&actor(), &org, &ks.id, ks.version)
            .await
            .is_ok()
    );
    sqlx::query("UPDATE credential_versions SET metadata = $1 WHERE credential_id = $2")
        .bind(forged.to_string())
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        store
            .export_version(&actor(), &org, &ks.id, ks.version)
            .await,
        Err(StoreError::Tampered)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_metadata_fails_to_open_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, keyring()).await;
    let url = format!("sqlite://{}", dir.path().join("signet.db").display());
    changed_metadata_fails_to_open(&store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_metadata_fails_to_open_on_postgres() {
    let url = postgres_database().await;
    let store = postgres(&url, keyring()).await;
    changed_metadata_fails_to_open(&store, &url).await;
}

/// A row whose metadata is not what its type derives (changed in the database) is a
/// clear error naming the row, wherever it is read: alone, in a list, as a kept version.
async fn unparsable_metadata_is_an_error(store: &Store, url: &str) {
    use sqlx::Connection as _;
    let org = org(store).await;
    let ks = store
        .create_credential(
            &actor(),
            &org,
            validate(&keystore_upload("store-pass-1"), now()).unwrap(),
        )
        .await
        .unwrap();
    store
        .replace_credential(
            &actor(),
            &org,
            &ks.id,
            ks.version,
            validate(&keystore_upload("store-pass-2"), now()).unwrap(),
        )
        .await
        .unwrap();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let bad = |e: StoreError| match e {
        StoreError::BadMetadata { id, kind, reason } => {
            assert_eq!(id, ks.id.as_str());
            assert_eq!(kind, "android-keystore");
            assert!(reason.contains("missing field"), "{reason}");
        }
        other => panic!("not BadMetadata: {other:?}"),
    };
    // A kept version first: the live row still reads.
    for (table, id_column) in [
        ("credential_versions", "credential_id"),
        ("credentials", "id"),
    ] {
        sqlx::query(&format!(
            "UPDATE {table} SET metadata = $1 WHERE {id_column} = $2"
        ))
        .bind(r#"{"first4":"AAAA","last4":"ZZZZ"}"#)
        .bind(&ks.id)
        .execute(&mut conn)
        .await
        .unwrap();
        if table == "credential_versions" {
            assert!(store.credential(&org, &ks.id, false).await.is_ok());
            bad(store.credential_versions(&org, &ks.id).await.unwrap_err());
        }
    }
    bad(store.credential(&org, &ks.id, false).await.unwrap_err());
    bad(store
        .credentials(&org, None, false, &PageRequest::default())
        .await
        .unwrap_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_metadata_is_an_error_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, keyring()).await;
    let url = format!("sqlite://{}", dir.path().join("signet.db").display());
    unparsable_metadata_is_an_error(&store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_metadata_is_an_error_on_postgres() {
    let url = postgres_database().await;
    let store = postgres(&url, keyring()).await;
    unparsable_metadata_is_an_error(&store, &url).await;
}
