//! `signet keystore passwd | rename | delete | import`, each checked with keytool: what
//! signet changed, keytool lists and reads with the new passwords; what keytool changed,
//! signet reads; a refused edit leaves the file's bytes as they were.

use crate::util::{Dir, keytool_fingerprints};

const STORE: &str = "kt-store-pw";

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// A keytool-made keystore `file` of `store_type` (JKS or PKCS12) with an RSA and an EC key
/// under `aliases`, each key under `key_pass` (JKS) and the store under [`STORE`].
fn keytool_store(dir: &Dir, file: &str, store_type: &str, aliases: &[&str], key_pass: &str) {
    for (i, alias) in aliases.iter().enumerate() {
        let alg: &[&str] = if i % 2 == 0 {
            &["-keyalg", "RSA", "-keysize", "2048"]
        } else {
            &["-keyalg", "EC", "-groupname", "secp256r1"]
        };
        let mut args = vec![
            "-genkeypair",
            "-keystore",
            file,
            "-storetype",
            store_type,
            "-storepass",
            STORE,
            "-keypass",
            key_pass,
            "-alias",
            alias,
            "-dname",
            "CN=Keytool Made, O=Peer, C=US",
            "-validity",
            "12000",
            "-noprompt",
        ];
        args.extend_from_slice(alg);
        dir.tool("keytool", &args).ok();
    }
}

/// `keytool -list -v`'s (alias, SHA-1, SHA-256) of every entry, sorted.
fn keytool_list(dir: &Dir, file: &str, store_pass: &str) -> Vec<(String, String, String)> {
    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", file, "-storepass", store_pass],
        )
        .ok();
    sorted(keytool_fingerprints(&listing))
}

/// keytool reads the private key of `alias` with `key_pass`: it signs a certificate
/// request with it.
fn keytool_reads_key(dir: &Dir, file: &str, store_pass: &str, alias: &str, key_pass: &str) {
    let csr = dir
        .tool(
            "keytool",
            &[
                "-certreq",
                "-keystore",
                file,
                "-storepass",
                store_pass,
                "-alias",
                alias,
                "-keypass",
                key_pass,
            ],
        )
        .ok();
    assert!(csr.contains("BEGIN NEW CERTIFICATE REQUEST"), "{csr}");
}

/// keytool refuses `store_pass` for `file`.
fn keytool_refuses_store_pass(dir: &Dir, file: &str, store_pass: &str) {
    let run = dir.tool(
        "keytool",
        &["-list", "-keystore", file, "-storepass", store_pass],
    );
    assert_ne!(run.code(), 0, "{}", run.stdout());
    assert!(
        run.stdout().contains("password was incorrect"),
        "{}",
        run.stdout()
    );
}

fn with_aliases(
    listing: &[(String, String, String)],
    rename: impl Fn(&str) -> Option<&'static str>,
) -> Vec<(String, String, String)> {
    sorted(
        listing
            .iter()
            .filter_map(|(a, s1, s256)| rename(a).map(|a| (a.to_owned(), s1.clone(), s256.clone())))
            .collect(),
    )
}

#[test]
fn jks_store_then_key_password_changed_keytool_reads_both() {
    let dir = Dir::new();
    keytool_store(&dir, "ks.jks", "JKS", &["upload"], "kt-key-pw");
    let before = keytool_list(&dir, "ks.jks", STORE);

    let v = dir
        .signet(&[
            "keystore",
            "passwd",
            "ks.jks",
            "--store-pass",
            "pass:kt-store-pw",
            "--new-store-pass",
            "pass:new-store-pw",
            "--json",
        ])
        .json();
    assert_eq!(v["store_password_changed"], true);
    assert!(v.get("key_password_changed").is_none(), "{v}");
    assert_eq!(keytool_list(&dir, "ks.jks", "new-store-pw"), before);
    keytool_refuses_store_pass(&dir, "ks.jks", STORE);
    // As keytool -storepasswd on a JKS: the key password is what it was.
    keytool_reads_key(&dir, "ks.jks", "new-store-pw", "upload", "kt-key-pw");

    let v = dir
        .signet(&[
            "keystore",
            "passwd",
            "ks.jks",
            "--store-pass",
            "pass:new-store-pw",
            "--key-pass",
            "pass:kt-key-pw",
            "--new-key-pass",
            "pass:new-key-pw",
            "--json",
        ])
        .json();
    assert_eq!(v["key_password_changed"], "upload");
    assert_eq!(v["store_password_changed"], false);
    assert_eq!(keytool_list(&dir, "ks.jks", "new-store-pw"), before);
    keytool_reads_key(&dir, "ks.jks", "new-store-pw", "upload", "new-key-pw");
    let old_key = dir.tool(
        "keytool",
        &[
            "-certreq",
            "-keystore",
            "ks.jks",
            "-storepass",
            "new-store-pw",
            "-alias",
            "upload",
            "-keypass",
            "kt-key-pw",
        ],
    );
    assert_ne!(old_key.code(), 0, "the old key password still works");
    assert!(
        old_key.stdout().contains("Cannot recover key"),
        "{}",
        old_key.stdout()
    );
}

#[test]
fn pkcs12_store_password_changed_keytool_reads_it_with_the_key() {
    let dir = Dir::new();
    keytool_store(&dir, "ks.p12", "PKCS12", &["upload", "second"], STORE);
    let before = keytool_list(&dir, "ks.p12", STORE);
    assert_eq!(before.len(), 2);
    let out = dir
        .signet(&[
            "keystore",
            "passwd",
            "ks.p12",
            "--store-pass",
            "pass:kt-store-pw",
            "--new-store-pass",
            "pass:new-store-pw",
        ])
        .ok();
    assert_eq!(
        out,
        "Changed the store password of ks.p12; it protects the keys too (PKCS#12 has one \
         password)\n"
    );
    assert_eq!(keytool_list(&dir, "ks.p12", "new-store-pw"), before);
    keytool_refuses_store_pass(&dir, "ks.p12", STORE);
    keytool_reads_key(&dir, "ks.p12", "new-store-pw", "upload", "new-store-pw");
    keytool_reads_key(&dir, "ks.p12", "new-store-pw", "second", "new-store-pw");
}

#[test]
fn pkcs12_key_password_is_refused_and_the_file_is_unchanged() {
    let dir = Dir::new();
    keytool_store(&dir, "ks.p12", "PKCS12", &["upload"], STORE);
    let bytes = dir.read("ks.p12");
    let err = dir
        .signet(&[
            "keystore",
            "passwd",
            "ks.p12",
            "--store-pass",
            "pass:kt-store-pw",
            "--new-key-pass",
            "pass:new-key-pw",
        ])
        .fails_with(1);
    assert_eq!(
        err,
        "error: ks.p12: a PKCS#12 keystore has one password: its keys are protected by the \
         store password, so a key password cannot differ from it (keytool: \"Different store \
         and key passwords not supported for PKCS12 KeyStores\"); change the store password \
         instead\n"
    );
    assert_eq!(dir.read("ks.p12"), bytes);
}

#[test]
fn a_wrong_old_password_changes_nothing() {
    let dir = Dir::new();
    keytool_store(&dir, "ks.jks", "JKS", &["upload"], "kt-key-pw");
    keytool_store(&dir, "ks.p12", "PKCS12", &["upload"], STORE);
    dir.write("leaf.pem", "");
    for file in ["ks.jks", "ks.p12"] {
        let bytes = dir.read(file);
        for edit in [
            &["passwd", "--new-store-pass", "pass:new-store-pw"][..],
            &["rename", "--alias", "upload", "--new-alias", "release"],
            &["delete", "--alias", "upload"],
        ] {
            let mut args = vec!["keystore", edit[0], file, "--store-pass", "pass:wrong-pw"];
            args.extend_from_slice(&edit[1..]);
            let err = dir.signet(&args).fails_with(1);
            assert!(
                err.starts_with(&format!(
                    "error: {file}: keystore password is incorrect (or the keystore was \
                     modified since it was written)\n"
                )),
                "{args:?}: {err}"
            );
            assert_eq!(dir.read(file), bytes, "{args:?} changed the file");
        }
    }
    // A wrong old key password: the error names it, and the JKS is as it was.
    let bytes = dir.read("ks.jks");
    let err = dir
        .signet(&[
            "keystore",
            "passwd",
            "ks.jks",
            "--store-pass",
            "pass:kt-store-pw",
            "--key-pass",
            "pass:wrong-key",
            "--new-key-pass",
            "pass:new-key-pw",
        ])
        .fails_with(1);
    assert!(
        err.starts_with("error: ks.jks: key password is incorrect for alias `upload`\n"),
        "{err}"
    );
    assert_eq!(dir.read("ks.jks"), bytes);
    assert_eq!(
        sorted(dir.listing()),
        ["ks.jks", "ks.p12", "leaf.pem"],
        "no temporary file is left behind"
    );
}

#[test]
fn rename_and_delete_are_listed_by_keytool() {
    for (file, store_type) in [("ks.jks", "JKS"), ("ks.p12", "PKCS12")] {
        let dir = Dir::new();
        keytool_store(&dir, file, store_type, &["upload", "old", "third"], STORE);
        let before = keytool_list(&dir, file, STORE);

        let v = dir
            .signet(&[
                "keystore",
                "rename",
                file,
                "--store-pass",
                "pass:kt-store-pw",
                "--alias",
                "upload",
                "--new-alias",
                "release",
                "--json",
            ])
            .json();
        assert_eq!(v["alias"], "upload");
        assert_eq!(v["new_alias"], "release");
        let out = dir
            .signet(&[
                "keystore",
                "delete",
                file,
                "--store-pass",
                "pass:kt-store-pw",
                "--alias",
                "old",
            ])
            .ok();
        assert!(
            out.starts_with("Deleted `old` (PrivateKeyEntry, SHA256 "),
            "{out}"
        );

        let expected = with_aliases(&before, |a| match a {
            "upload" => Some("release"),
            "third" => Some("third"),
            _ => None,
        });
        assert_eq!(keytool_list(&dir, file, STORE), expected, "{store_type}");
        // The renamed key is the same key, readable under its new alias.
        keytool_reads_key(&dir, file, STORE, "release", STORE);

        // An alias in use is refused and nothing changes.
        let bytes = dir.read(file);
        let err = dir
            .signet(&[
                "keystore",
                "rename",
                file,
                "--store-pass",
                "pass:kt-store-pw",
                "--alias",
                "release",
                "--new-alias",
                "THIRD",
            ])
            .fails_with(1);
        assert_eq!(
            err,
            format!("error: {file}: alias `third` already exists\n")
        );
        assert_eq!(dir.read(file), bytes);
    }
}

#[test]
fn keystores_keytool_changed_are_read_by_signet() {
    for (file, store_type) in [("ks.jks", "JKS"), ("ks.p12", "PKCS12")] {
        let dir = Dir::new();
        keytool_store(&dir, file, store_type, &["upload"], STORE);
        let before = keytool_list(&dir, file, STORE);
        dir.tool(
            "keytool",
            &[
                "-storepasswd",
                "-keystore",
                file,
                "-storepass",
                STORE,
                "-new",
                "kt-new-store",
            ],
        )
        .ok();
        dir.tool(
            "keytool",
            &[
                "-changealias",
                "-keystore",
                file,
                "-storepass",
                "kt-new-store",
                "-keypass",
                // keytool -storepasswd changed a PKCS#12 key's password with the store's.
                if store_type == "JKS" {
                    STORE
                } else {
                    "kt-new-store"
                },
                "-alias",
                "upload",
                "-destalias",
                "release",
            ],
        )
        .ok();
        let v = dir
            .signet(&[
                "keystore",
                "inspect",
                file,
                "--store-pass",
                "pass:kt-new-store",
                "--key-pass",
                if store_type == "JKS" {
                    "pass:kt-store-pw"
                } else {
                    "pass:kt-new-store"
                },
                "--json",
            ])
            .json();
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{v}");
        assert_eq!(entries[0]["alias"], "release");
        assert_eq!(entries[0]["key_password"], "ok", "signet decrypts the key");
        assert_eq!(
            entries[0]["certificates"][0]["fingerprints"]["sha256"],
            before[0].2.as_str()
        );
        // And signet edits what keytool wrote: back to the first password.
        dir.signet(&[
            "keystore",
            "passwd",
            file,
            "--store-pass",
            "pass:kt-new-store",
            "--new-store-pass",
            "pass:kt-store-pw",
        ])
        .ok();
        assert_eq!(
            keytool_list(&dir, file, STORE),
            with_aliases(&before, |_| Some("release"))
        );
    }
}

/// A CA (EC) and a leaf key (RSA) it issued, made with openssl: `leaf.key` (PKCS#8 PEM),
/// `chain.pem` (leaf, then CA), `other.key`; returns the leaf's SHA-256 as keytool prints it.
fn openssl_chain(dir: &Dir) -> String {
    let ok = |args: &[&str]| dir.tool("openssl", args).ok();
    ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Test CA/O=Acme",
        "-days",
        "30",
    ]);
    ok(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=Jane Doe/O=Acme",
        "-days",
        "30",
    ]);
    ok(&[
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-out", "leaf.pem",
        "-days", "30",
    ]);
    ok(&["genpkey", "-algorithm", "RSA", "-out", "other.key"]);
    let chain = [dir.read("leaf.pem"), dir.read("ca.pem")].concat();
    dir.write("chain.pem", chain);
    let fp = ok(&[
        "x509",
        "-in",
        "leaf.pem",
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    fp.trim()
        .split_once('=')
        .expect("openssl fingerprint")
        .1
        .to_owned()
}

#[test]
fn imported_pem_key_and_chain_are_listed_and_read_by_keytool() {
    for (file, store_type, key_pass) in [
        ("new.p12", "pkcs12", "new-store-pw"),
        ("new.jks", "jks", "new-key-pw"),
    ] {
        let dir = Dir::new();
        let leaf_sha256 = openssl_chain(&dir);
        let pass = format!("pass:{key_pass}");
        let mut args = vec![
            "keystore",
            "import",
            file,
            "--key",
            "leaf.key",
            "--cert",
            "chain.pem",
            "--alias",
            "upload",
            "--type",
            store_type,
            "--store-pass",
            "pass:new-store-pw",
            "--json",
        ];
        if store_type == "jks" {
            args.extend(["--key-pass", &pass]);
        }
        let v = dir.signet(&args).json();
        assert_eq!(v["created"], true);
        assert_eq!(v["chain_length"], 2);
        assert_eq!(
            v["certificate"]["fingerprints"]["sha256"],
            leaf_sha256.as_str()
        );

        let listing = dir
            .tool(
                "keytool",
                &[
                    "-list",
                    "-v",
                    "-keystore",
                    file,
                    "-storepass",
                    "new-store-pw",
                ],
            )
            .ok();
        assert!(listing.contains("Alias name: upload"), "{listing}");
        assert!(listing.contains("Entry type: PrivateKeyEntry"), "{listing}");
        assert!(listing.contains("Certificate chain length: 2"), "{listing}");
        assert!(listing.contains("Owner: O=Acme, CN=Jane Doe"), "{listing}");
        assert_eq!(
            keytool_fingerprints(&listing)
                .into_iter()
                .map(|(a, _, s256)| (a, s256))
                .collect::<Vec<_>>(),
            [("upload".to_owned(), leaf_sha256.clone())]
        );
        keytool_reads_key(&dir, file, "new-store-pw", "upload", key_pass);

        // Into the existing keystore, beside the first entry: a key keytool made.
        keytool_store(&dir, "kt.p12", "PKCS12", &["kt"], STORE);
        dir.tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "kt.p12",
                "-passin",
                "pass:kt-store-pw",
                "-nodes",
                "-nocerts",
                "-out",
                "kt.key",
            ],
        )
        .ok();
        dir.tool(
            "keytool",
            &[
                "-exportcert",
                "-rfc",
                "-keystore",
                "kt.p12",
                "-storepass",
                STORE,
                "-alias",
                "kt",
                "-file",
                "kt.pem",
            ],
        )
        .ok();
        let kt_listing = keytool_list(&dir, "kt.p12", STORE);
        let mut args = vec![
            "keystore",
            "import",
            file,
            "--key",
            "kt.key",
            "--cert",
            "kt.pem",
            "--alias",
            "second",
            "--store-pass",
            "pass:new-store-pw",
        ];
        if store_type == "jks" {
            args.extend(["--key-pass", &pass]);
        }
        let out = dir.signet(&args).ok();
        assert!(out.starts_with("Added the key entry\n"), "{out}");
        let listed = keytool_list(&dir, file, "new-store-pw");
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed[0].0, "second");
        assert_eq!(listed[0].2, kt_listing[0].2);
        assert_eq!(listed[1].2, leaf_sha256);
        keytool_reads_key(&dir, file, "new-store-pw", "second", key_pass);
    }
}

#[test]
fn import_refuses_a_key_of_another_certificate_and_a_taken_alias() {
    let dir = Dir::new();
    openssl_chain(&dir);
    let import = |key: &str, extra: &[&str]| {
        let mut args = vec![
            "keystore",
            "import",
            "ks.p12",
            "--key",
            key,
            "--cert",
            "chain.pem",
            "--alias",
            "upload",
            "--store-pass",
            "pass:store-pw-1",
        ];
        args.extend_from_slice(extra);
        dir.signet(&args)
    };
    let err = import("other.key", &[]).fails_with(1);
    assert_eq!(
        err,
        "error: other.key and chain.pem: the private key does not match the certificate \
         `O=Acme, CN=Jane Doe`, the first of the chain (it must be the key's own certificate, \
         the chain leaf first)\n"
    );
    assert!(
        !dir.exists("ks.p12"),
        "a refused import creates no keystore"
    );

    import("leaf.key", &[]).ok();
    let bytes = dir.read("ks.p12");
    let err = import("leaf.key", &[]).fails_with(1);
    assert_eq!(
        err,
        "error: ks.p12: alias `upload` already exists; pass --force to replace it\n"
    );
    assert_eq!(dir.read("ks.p12"), bytes);

    // --force replaces it: keytool lists one entry, the new chain of one.
    dir.write("chain.pem", dir.read("ca.pem"));
    dir.tool(
        "openssl",
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "ca.key", "-out", "ca.p8",
        ],
    )
    .ok();
    dir.signet(&[
        "keystore",
        "import",
        "ks.p12",
        "--key",
        "ca.p8",
        "--cert",
        "chain.pem",
        "--alias",
        "Upload",
        "--store-pass",
        "pass:store-pw-1",
        "--force",
    ])
    .ok();
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "ks.p12",
                "-storepass",
                "store-pw-1",
            ],
        )
        .ok();
    assert!(
        listing.contains("Your keystore contains 1 entry"),
        "{listing}"
    );
    assert!(listing.contains("Alias name: upload"), "{listing}");
    assert!(listing.contains("Owner: O=Acme, CN=Test CA"), "{listing}");
}

#[test]
fn out_leaves_the_original_and_in_place_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    keytool_store(&dir, "ks.p12", "PKCS12", &["upload"], STORE);
    std::fs::set_permissions(dir.path("ks.p12"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let bytes = dir.read("ks.p12");
    dir.signet(&[
        "keystore",
        "delete",
        "ks.p12",
        "--store-pass",
        "pass:kt-store-pw",
        "--alias",
        "upload",
        "--out",
        "empty.p12",
    ])
    .ok();
    assert_eq!(dir.read("ks.p12"), bytes, "--out leaves FILE as it was");
    assert_eq!(keytool_list(&dir, "empty.p12", STORE), []);
    let mode = |f: &str| std::fs::metadata(dir.path(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("empty.p12"), 0o600);

    // --out over an existing file needs --force.
    let err = dir
        .signet(&[
            "keystore",
            "delete",
            "ks.p12",
            "--store-pass",
            "pass:kt-store-pw",
            "--alias",
            "upload",
            "--out",
            "empty.p12",
        ])
        .fails_with(1);
    assert!(
        err.starts_with("error: empty.p12 already exists\n"),
        "{err}"
    );

    dir.signet(&[
        "keystore",
        "rename",
        "ks.p12",
        "--store-pass",
        "pass:kt-store-pw",
        "--alias",
        "upload",
        "--new-alias",
        "release",
    ])
    .ok();
    assert_eq!(
        mode("ks.p12"),
        0o640,
        "an edit in place keeps the file's mode"
    );
    assert_eq!(keytool_list(&dir, "ks.p12", STORE)[0].0, "release");
}

/// Waits until process `pid` is blocked reading its standard input (Linux: the `read`
/// system call, number 0, on file descriptor 0, in /proc/PID/syscall).
fn wait_until_reading_stdin(pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if syscall.starts_with("0 0x0 ") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "signet never read its standard input: {syscall}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_keystore_replaced_during_an_edit_is_not_overwritten() {
    use std::io::Write;
    let dir = Dir::new();
    keytool_store(&dir, "race.jks", "JKS", &["one"], STORE);
    keytool_store(&dir, "other.p12", "PKCS12", &["two"], STORE);
    let replacement = dir.read("other.p12");
    // The store password comes from standard input: the edit has read the keystore and
    // waits for it when the file is replaced.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "keystore",
            "passwd",
            "race.jks",
            "--store-pass",
            "stdin",
            "--new-store-pass",
            "pass:new-store-pass",
        ])
        .current_dir(dir.root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn signet");
    wait_until_reading_stdin(child.id());
    dir.write("race.jks", &replacement);
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{STORE}").expect("write the password");
    drop(stdin);
    let out = child.wait_with_output().expect("wait signet");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: race.jks: the file changed while it was being edited; nothing was written (run the command again)\n"
    );
    assert_eq!(
        dir.read("race.jks"),
        replacement,
        "the replacement was overwritten"
    );
}
