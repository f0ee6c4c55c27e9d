//! The master key file as `signet serve` and `signet admin` depend on it: a missing file
//! is never replaced by a new key for a database that holds secrets (the start is refused,
//! naming the key ids the data needs), a file that goes away while a server runs stops
//! uploads (503) but not exports, new keys get ids that do not repeat, and the SQLite
//! files are private. Real processes, on the harness of `serve.rs`.

use std::{
    net::TcpStream,
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::serve::{Backend, Site, current_key_id, free_port, mode};

/// What the refused start prints, for a data dir `data` whose key file is missing while
/// the database holds `secrets` secrets sealed under `key_id`.
fn refusal(key_id: &str, secrets: &str) -> String {
    format!(
        "error: the master key file data/master.key is missing, and the database holds \
         secrets sealed under key ids {key_id} ({secrets}); restore the file (or set \
         SIGNET_MASTER_KEY), do not start without it\n\
         hint: copy master.key back from a backup of the data dir (mode 0600); a new key \
         could not open those secrets, so signet makes none for a database that holds any\n"
    )
}

/// Runs `signet serve` on `data`, which must refuse to start: returns its exit code and
/// output. A server that starts listening instead fails the test (and is killed).
fn serve_refused(site: &Site, data: &str, name: &str) -> (i32, String) {
    let log = site.dir.path(name);
    let file = std::fs::File::create(&log).expect("create log file");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["serve".to_owned(), "--listen".to_owned(), addr.clone()];
    args.extend(site.store_args(data));
    let mut child = site
        .command(&args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("dup log file"))
        .stderr(file)
        .spawn()
        .expect("spawn signet serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if TcpStream::connect(&addr).is_ok() || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "signet serve --data-dir {data} started without its key file:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&log).expect("read log");
    (status.code().unwrap_or(-1), out)
}

/// The base64 key material of every key in a key file.
fn key_material(key_file: &std::path::Path) -> Vec<String> {
    let file: Value = serde_json::from_slice(&std::fs::read(key_file).unwrap()).unwrap();
    file["keys"]
        .as_object()
        .expect("keys")
        .values()
        .map(|v| v.as_str().expect("a base64 key").to_owned())
        .collect()
}

fn is_new_key_id(id: &str) -> bool {
    id.len() == 14
        && id.starts_with("k-")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ---------------------------------------------------------------------------------------
// A restart without the key file.

fn restart_without_the_key_file(backend: Backend) {
    let site = Site::new(backend);
    let keystores = site.keystores(1, "m");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let id = server
        .ok(
            "upload",
            server
                .client(&org.token)
                .upload(&org.id, &keystores[0].upload()),
        )
        .id;
    server.kill();

    let key_file = site.dir.path("data/master.key");
    let away = site.dir.path("master.key.away");
    let key_id = current_key_id(&key_file);
    let material = key_material(&key_file);
    for key in &material {
        site.secret(key);
    }
    std::fs::rename(&key_file, &away).unwrap();

    // The server refuses to start, naming the key id the data needs, and makes no key.
    let (code, out) = serve_refused(&site, "data", "refused.log");
    assert_eq!(code, 1, "{out}");
    assert_eq!(out, refusal(&key_id, "1 secret"));
    assert!(!key_file.exists(), "a refused start made a key file");
    // Nor does any admin command make one.
    let password = format!("pass:{}", site.password("second"));
    for run in [
        site.admin(
            "create-user",
            "data",
            &["--email", "second@acme.test", "--password", &password],
        ),
        site.admin("rewrap", "data", &[]),
        site.rotate_key("data", "k2"),
        site.admin("remove-key", "data", &["--key-id", &key_id]),
    ] {
        assert_eq!(
            run.fails_with(1),
            refusal(&key_id, "1 secret"),
            "{}",
            run.what
        );
        assert!(!key_file.exists(), "{} made a key file", run.what);
    }
    for key in &material {
        assert!(!out.contains(key.as_str()), "key material in the refusal");
    }
    // Only the (absent) key file was needed: nothing else in the data dir names a key.
    let listing: Vec<String> = std::fs::read_dir(site.dir.path("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(listing.iter().all(|n| !n.contains("master")), "{listing:?}");

    // Put back, the server starts and the credential exports as uploaded.
    std::fs::rename(&away, &key_file).unwrap();
    let server = site.start("data");
    let owner = server.client(&org.token);
    let listed = server.credentials(&owner, &org.id);
    assert_eq!(listed.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&id]);
    let export = server.ok(
        "export after the key file is back",
        owner.export(&org.id, &id),
    );
    keystores[0].assert_exported(&export, "export after the key file is back");
    // Everything in the database is sealed under the one key of the file.
    let v = site.admin("rewrap", "data", &["--json"]).json();
    assert_eq!(
        v,
        json!({
            "current": key_id,
            "rewrapped": 0,
            "remaining_under_other_keys": 0,
            "usage": [{ "key_id": key_id, "secrets": 1 }],
        })
    );
    drop(server);
    site.assert_no_secrets_in_logs();
}

#[test]
fn restart_without_the_key_file_is_refused_on_sqlite() {
    restart_without_the_key_file(Backend::Sqlite);
}

#[test]
fn restart_without_the_key_file_is_refused_on_postgres() {
    restart_without_the_key_file(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------
// The key file goes away while the server runs.

#[test]
fn uploads_are_refused_while_the_key_file_is_missing() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(2, "g");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let owner = server.client(&org.token);
    let first = server
        .ok("upload", owner.upload(&org.id, &keystores[0].upload()))
        .id;
    let key_file = site.dir.path("data/master.key");
    let away = site.dir.path("master.key.away");
    let key_id = current_key_id(&key_file);
    let material = key_material(&key_file);
    for key in &material {
        site.secret(key);
    }
    std::fs::rename(&key_file, &away).unwrap();

    // Uploads are refused (twice: the server logs the missing file once).
    for attempt in ["upload", "upload again"] {
        let p = server.refused(
            &format!("{attempt} without the key file"),
            503,
            owner.upload(&org.id, &keystores[1].upload()),
        );
        let v = p.body;
        assert_eq!(
            v["type"], "https://signet.invalid/problems/master-key-unavailable",
            "{v}"
        );
        assert_eq!(
            v["detail"],
            "the master key file data/master.key is missing or cannot be read; nothing new \
             can be sealed until it is restored",
            "{v}"
        );
        for key in &material {
            assert!(!v.to_string().contains(key.as_str()), "key material in {v}");
        }
    }
    // Exports go on with the key loaded.
    let export = server.ok("export without the key file", owner.export(&org.id, &first));
    keystores[0].assert_exported(&export, "export without the key file");
    // Nothing new in the database, no new key file.
    let listed = server.credentials(&owner, &org.id);
    assert_eq!(
        listed.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&first]
    );
    let audit = server.audit(&owner, &org.id);
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.action == "credential.create")
            .count(),
        1,
        "{audit:?}"
    );
    assert!(!key_file.exists(), "the running server made a key file");
    let log = server.log_text();
    assert_eq!(
        log.matches("the master key file is missing or unreadable")
            .count(),
        1,
        "{log}"
    );
    assert!(log.contains("file=data/master.key"), "{log}");

    // Back: uploads work again, under the same key.
    std::fs::rename(&away, &key_file).unwrap();
    let second = server
        .ok(
            "upload after the key file is back",
            owner.upload(&org.id, &keystores[1].upload()),
        )
        .id;
    let export = server.ok(
        "export of the upload after the key file is back",
        owner.export(&org.id, &second),
    );
    keystores[1].assert_exported(&export, "export of the upload after the key file is back");
    assert!(
        server
            .log_text()
            .contains("the master key file can be read again"),
        "{}",
        server.log_text()
    );
    assert_eq!(current_key_id(&key_file), key_id);
    let v = site.admin("rewrap", "data", &["--json"]).json();
    assert_eq!(
        v["usage"],
        json!([{ "key_id": key_id, "secrets": 2 }]),
        "{v}"
    );
    drop(server);
    site.assert_no_secrets_in_logs();
}

// ---------------------------------------------------------------------------------------
// New keys and their ids.

#[test]
fn a_fresh_data_dir_gets_a_key_with_a_new_id() {
    let site = Site::new(Backend::Sqlite);
    let a = site.start("a");
    let b = site.start("b");
    let ids: Vec<String> = ["a", "b"]
        .iter()
        .map(|data| {
            let key_file = site.dir.path(&format!("{data}/master.key"));
            assert_eq!(mode(&key_file), 0o600, "{data}/master.key");
            current_key_id(&key_file)
        })
        .collect();
    for (id, server) in ids.iter().zip([&a, &b]) {
        assert!(is_new_key_id(id), "{id}");
        let log = server.log_text();
        assert!(
            log.contains("created the master key file") && log.contains(id.as_str()),
            "{log}"
        );
    }
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn rotate_key_never_reuses_a_key_id_of_the_database() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(1, "r");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    server.ok(
        "upload",
        server
            .client(&org.token)
            .upload(&org.id, &keystores[0].upload()),
    );
    server.kill();
    let key_file = site.dir.path("data/master.key");
    let first = current_key_id(&key_file);
    let v = site.rotate_key("data", "k2").json();
    assert_eq!(v["previous"], first.as_str(), "{v}");
    // The first key drops out of the file (an old copy restored, a hand edit) while the
    // database still holds a secret under it: its id is not free again.
    let mut file: Value = serde_json::from_slice(&std::fs::read(&key_file).unwrap()).unwrap();
    file["keys"].as_object_mut().unwrap().remove(&first);
    std::fs::write(&key_file, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    let before = std::fs::read(&key_file).unwrap();
    let err = site.rotate_key("data", &first).fails_with(2);
    assert_eq!(
        err,
        format!(
            "error: key id `{first}` is already used: the database holds secrets sealed under \
             it; choose another id (or omit --key-id for a random one)\n"
        )
    );
    // An id of the file is refused as before.
    let err = site.rotate_key("data", "k2").fails_with(2);
    assert_eq!(err, "error: invalid master key id `k2`\n");
    assert_eq!(std::fs::read(&key_file).unwrap(), before);
}

// ---------------------------------------------------------------------------------------
// The SQLite files.

#[test]
fn sqlite_files_are_private() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(1, "p");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let owner = server.client(&org.token);
    server.ok("upload", owner.upload(&org.id, &keystores[0].upload()));
    let files = ["signet.db", "signet.db-wal", "signet.db-shm"];
    for f in files {
        assert_eq!(mode(&site.dir.path(&format!("data/{f}"))), 0o600, "{f}");
    }
    // kill -9 leaves the write-ahead log and its index; files an older signet made 0644
    // are made private at the next start, with a log line each.
    server.kill();
    for f in files {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            site.dir.path(&format!("data/{f}")),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let server = site.start("data");
    let log = server.log_text();
    for f in files {
        assert_eq!(mode(&site.dir.path(&format!("data/{f}"))), 0o600, "{f}");
        assert!(
            log.contains(&format!(
                "the database file was readable by others; made it private file=data/{f} \
                 was=644 now=600"
            )),
            "{f}: {log}"
        );
    }
    server.ok(
        "the server works after the change",
        server.client(&org.token).org(&org.id),
    );
}

// ---------------------------------------------------------------------------------------
// A key file that is there but does not hold the keys the data needs.

/// The security review's "wrong key file": the key file of another data dir, put in
/// place of the right one, used to be accepted with a warning; new uploads were then
/// sealed under a key the other replicas (and the restored file) lack. It is refused.
#[test]
fn a_key_file_without_the_datas_keys_is_refused() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(1, "w");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    server.ok(
        "upload",
        server
            .client(&org.token)
            .upload(&org.id, &keystores[0].upload()),
    );
    server.kill();
    let needed = current_key_id(&site.dir.path("data/master.key"));
    // Another data dir's key file.
    let other = site.start("other");
    other.kill();
    std::fs::copy(
        site.dir.path("other/master.key"),
        site.dir.path("data/master.key"),
    )
    .unwrap();
    let (code, out) = serve_refused(&site, "data", "wrong-key.log");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "error: the database holds secrets sealed under master keys this server does not have: {needed} (1 secrets)"
        )),
        "{out}"
    );
}

/// The second review's split keys: two replicas with data dirs of their own on one empty
/// PostgreSQL database used to make a key each and then fail to open each other's
/// secrets. The database records the keys in use: the second is refused at start.
#[test]
fn replicas_with_keys_of_their_own_are_refused() {
    let site = Site::new(Backend::Postgres);
    let first = site.start("one");
    let first_key = current_key_id(&site.dir.path("one/master.key"));
    let (code, out) = serve_refused(&site, "two", "second-replica.log");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "error: this server's master keys are not the ones the database records: {first_key} (not loaded here)"
        )),
        "{out}"
    );
    drop(first);
    // Given the first replica's key file, it starts.
    std::fs::copy(
        site.dir.path("one/master.key"),
        site.dir.path("two/master.key"),
    )
    .unwrap();
    let second = site.start("two");
    drop(second);
}
