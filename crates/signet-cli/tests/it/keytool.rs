//! Interoperability with keytool and jarsigner, in both directions.

use crate::util::{Dir, keytool_fingerprints};

/// signet's fingerprints for every entry, as (alias, SHA-1, SHA-256) of the leaf.
fn signet_fingerprints(dir: &Dir, file: &str, store_pass: &str) -> Vec<(String, String, String)> {
    let v = dir
        .signet(&[
            "keystore",
            "inspect",
            file,
            "--store-pass",
            store_pass,
            "--json",
        ])
        .json();
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let c = &e["certificates"][0]["fingerprints"];
            (
                e["alias"].as_str().expect("alias").to_owned(),
                c["sha1"].as_str().expect("sha1").to_owned(),
                c["sha256"].as_str().expect("sha256").to_owned(),
            )
        })
        .collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// keytool -list -v on a keystore signet wrote: the alias, entry type, store type and
/// fingerprints must be what signet reported; then jarsigner signs a jar with it.
fn check_signet_keystore_with_keytool(store_type: &str, key_alg: &str, separate_key_pass: bool) {
    let dir = Dir::new();
    let file = format!("gen.{}", if store_type == "jks" { "jks" } else { "p12" });
    let mut args = vec![
        "keystore",
        "generate",
        "--out",
        &file,
        "--type",
        store_type,
        "--alias",
        "upload",
        "--key-alg",
        key_alg,
        "--store-pass",
        "pass:storepw1",
        "--dname",
        "CN=Jane Doe, OU=Mobile, O=Acme Inc, L=Berlin, ST=Berlin, C=DE",
        "--json",
    ];
    if separate_key_pass {
        args.extend(["--key-pass", "pass:keypw22"]);
    }
    let report = dir.signet(&args).json();
    assert_eq!(report["alias"], "upload");
    assert!(
        report.get("store_password").is_none(),
        "given passwords are not echoed"
    );

    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", &file, "-storepass", "storepw1"],
        )
        .ok();
    let expected_type = if store_type == "jks" { "JKS" } else { "PKCS12" };
    assert!(
        listing.contains(&format!("Keystore type: {expected_type}")),
        "{listing}"
    );
    assert!(listing.contains("Alias name: upload"), "{listing}");
    assert!(listing.contains("Entry type: PrivateKeyEntry"), "{listing}");
    assert!(
        listing.contains("Owner: CN=Jane Doe, OU=Mobile, O=Acme Inc, L=Berlin, ST=Berlin, C=DE"),
        "{listing}"
    );
    let expected_key = if key_alg == "ec" {
        "256-bit EC (secp256r1) key"
    } else {
        "2048-bit RSA key"
    };
    assert!(listing.contains(expected_key), "{listing}");
    let fp = &report["certificate"]["fingerprints"];
    assert_eq!(
        keytool_fingerprints(&listing),
        vec![(
            "upload".to_owned(),
            fp["sha1"].as_str().unwrap().to_owned(),
            fp["sha256"].as_str().unwrap().to_owned()
        )]
    );

    // jarsigner signs with it, and the result verifies.
    dir.make_jar("app.jar");
    let mut sign = vec!["-keystore", &file, "-storepass", "storepw1"];
    if separate_key_pass {
        sign.extend(["-keypass", "keypw22"]);
    }
    sign.extend(["-signedjar", "signed.jar", "app.jar", "upload"]);
    dir.tool("jarsigner", &sign).ok();
    let verify = dir.tool("jarsigner", &["-verify", "signed.jar"]).ok();
    assert!(verify.contains("jar verified."), "{verify}");
}

#[test]
fn signet_pkcs12_rsa_passes_keytool_and_jarsigner() {
    check_signet_keystore_with_keytool("pkcs12", "rsa", false);
}

#[test]
fn signet_pkcs12_ec_passes_keytool_and_jarsigner() {
    check_signet_keystore_with_keytool("pkcs12", "ec", false);
}

#[test]
fn signet_jks_rsa_passes_keytool_and_jarsigner() {
    check_signet_keystore_with_keytool("jks", "rsa", false);
}

#[test]
fn signet_jks_ec_with_separate_key_password_passes_keytool_and_jarsigner() {
    check_signet_keystore_with_keytool("jks", "ec", true);
}

#[test]
fn signet_jks_rsa_with_separate_key_password_passes_keytool_and_jarsigner() {
    check_signet_keystore_with_keytool("jks", "rsa", true);
}

#[test]
fn legacy_pkcs12_passes_keytool() {
    let dir = Dir::new();
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "legacy.p12",
        "--alias",
        "k",
        "--store-pass",
        "pass:pw123456",
        "--legacy-pkcs12",
        "--key-alg",
        "ec",
    ])
    .ok();
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "legacy.p12",
                "-storepass",
                "pw123456",
            ],
        )
        .ok();
    assert!(listing.contains("Alias name: k"), "{listing}");
    assert!(listing.contains("Entry type: PrivateKeyEntry"), "{listing}");
}

fn keytool_genkey(dir: &Dir, store: &str, store_type: &str, alias: &str, extra: &[&str]) {
    let mut args = vec![
        "-genkeypair",
        "-keystore",
        store,
        "-storetype",
        store_type,
        "-storepass",
        "kt-store-pw",
        "-alias",
        alias,
        "-dname",
        "CN=Keytool Made, O=Peer, C=US",
        "-validity",
        "12000",
        "-noprompt",
    ];
    args.extend_from_slice(extra);
    dir.tool("keytool", &args).ok();
}

fn check_keytool_keystore_read_by_signet(
    store_type: &str,
    key_pass: Option<&str>,
    aliases: &[&str],
) {
    let dir = Dir::new();
    let store = if store_type == "JKS" {
        "kt.jks"
    } else {
        "kt.p12"
    };
    for (i, alias) in aliases.iter().enumerate() {
        let mut extra: Vec<&str> = Vec::new();
        if let Some(kp) = key_pass {
            extra.extend(["-keypass", kp]);
        }
        // Mix the key types keytool defaults to with EC.
        if i % 2 == 1 {
            extra.extend(["-keyalg", "EC", "-groupname", "secp256r1"]);
        } else {
            extra.extend(["-keyalg", "RSA", "-keysize", "2048"]);
        }
        keytool_genkey(&dir, store, store_type, alias, &extra);
    }
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                store,
                "-storepass",
                "kt-store-pw",
            ],
        )
        .ok();
    let theirs = sorted(keytool_fingerprints(&listing));
    assert_eq!(theirs.len(), aliases.len(), "{listing}");
    let ours = sorted(signet_fingerprints(&dir, store, "pass:kt-store-pw"));
    assert_eq!(ours, theirs);

    // The key password is reported, and checked when given.
    let v = dir
        .signet(&[
            "keystore",
            "inspect",
            store,
            "--store-pass",
            "pass:kt-store-pw",
            "--json",
        ])
        .json();
    assert_eq!(
        v["type"],
        if store_type == "JKS" { "jks" } else { "pkcs12" }
    );
    let expected_status = if key_pass.is_some() && store_type == "JKS" {
        "differs"
    } else {
        "ok"
    };
    for e in v["entries"].as_array().unwrap() {
        assert_eq!(e["key_password"], expected_status, "{e}");
        assert_eq!(e["entry_type"], "private-key");
    }
    if let Some(kp) = key_pass {
        let pass = format!("pass:{kp}");
        let v = dir
            .signet(&[
                "keystore",
                "inspect",
                store,
                "--store-pass",
                "pass:kt-store-pw",
                "--key-pass",
                &pass,
                "--json",
            ])
            .json();
        for e in v["entries"].as_array().unwrap() {
            assert_eq!(e["key_password"], "ok", "{e}");
        }
    }
}

#[test]
fn keytool_jks_is_read_with_keytools_fingerprints() {
    check_keytool_keystore_read_by_signet("JKS", None, &["upload"]);
}

#[test]
fn keytool_pkcs12_is_read_with_keytools_fingerprints() {
    check_keytool_keystore_read_by_signet("PKCS12", None, &["upload"]);
}

#[test]
fn keytool_jks_with_separate_key_password_is_read() {
    check_keytool_keystore_read_by_signet("JKS", Some("kt-key-pw"), &["upload"]);
}

#[test]
fn keytool_jks_with_several_aliases_is_read() {
    check_keytool_keystore_read_by_signet("JKS", None, &["first", "second", "third"]);
}

#[test]
fn keytool_pkcs12_with_several_aliases_is_read() {
    check_keytool_keystore_read_by_signet("PKCS12", None, &["first", "second", "third"]);
}

#[test]
fn trusted_certificate_entries_are_listed_but_never_chosen() {
    let dir = Dir::new();
    for store_type in ["JKS", "PKCS12"] {
        let store = format!("trust-{store_type}");
        keytool_genkey(&dir, "ca.p12", "PKCS12", "ca", &["-keyalg", "EC"]);
        dir.tool(
            "keytool",
            &[
                "-exportcert",
                "-rfc",
                "-keystore",
                "ca.p12",
                "-storepass",
                "kt-store-pw",
                "-alias",
                "ca",
                "-file",
                "ca.pem",
            ],
        )
        .ok();
        dir.tool(
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-keystore",
                &store,
                "-storetype",
                store_type,
                "-storepass",
                "kt-store-pw",
                "-alias",
                "partner",
                "-file",
                "ca.pem",
            ],
        )
        .ok();
        keytool_genkey(&dir, &store, store_type, "upload", &["-keyalg", "RSA"]);
        std::fs::remove_file(dir.path("ca.p12")).unwrap();

        let v = dir
            .signet(&[
                "keystore",
                "inspect",
                &store,
                "--store-pass",
                "pass:kt-store-pw",
                "--json",
            ])
            .json();
        let kinds: Vec<(String, String)> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["alias"].as_str().unwrap().to_owned(),
                    e["entry_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            sorted(kinds),
            vec![
                ("partner".to_owned(), "trusted-certificate".to_owned()),
                ("upload".to_owned(), "private-key".to_owned())
            ],
            "{store_type}"
        );
        // Without --alias the only key entry is chosen, never the trusted certificate.
        let pem = dir
            .signet(&[
                "keystore",
                "upload-cert",
                &store,
                "--store-pass",
                "pass:kt-store-pw",
            ])
            .ok();
        let expected = dir
            .tool(
                "keytool",
                &[
                    "-exportcert",
                    "-rfc",
                    "-keystore",
                    &store,
                    "-storepass",
                    "kt-store-pw",
                    "-alias",
                    "upload",
                ],
            )
            .ok();
        assert_eq!(pem, expected, "{store_type}");
        // Asking for the trusted entry by name is refused.
        let err = dir
            .signet(&[
                "keystore",
                "upload-cert",
                &store,
                "--store-pass",
                "pass:kt-store-pw",
                "--alias",
                "partner",
            ])
            .fails_with(1);
        assert!(
            err.contains("trusted certificate entry, not a private key entry"),
            "{err}"
        );
    }
}

#[test]
fn upload_cert_is_byte_identical_to_keytool_export_rfc() {
    let dir = Dir::new();
    // A key keytool made, and one signet made.
    keytool_genkey(&dir, "kt.p12", "PKCS12", "upload", &["-keyalg", "RSA"]);
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "sg.jks",
        "--type",
        "jks",
        "--alias",
        "upload",
        "--store-pass",
        "pass:kt-store-pw",
    ])
    .ok();
    for store in ["kt.p12", "sg.jks"] {
        dir.tool(
            "keytool",
            &[
                "-export",
                "-rfc",
                "-keystore",
                store,
                "-storepass",
                "kt-store-pw",
                "-alias",
                "upload",
                "-file",
                "keytool.pem",
            ],
        )
        .ok();
        dir.signet(&[
            "keystore",
            "upload-cert",
            store,
            "--store-pass",
            "pass:kt-store-pw",
            "--alias",
            "upload",
            "--out",
            "signet.pem",
            "--force",
        ])
        .ok();
        assert_eq!(dir.read("signet.pem"), dir.read("keytool.pem"), "{store}");
        std::fs::remove_file(dir.path("keytool.pem")).unwrap();
    }
}

#[test]
fn jks_to_pkcs12_to_jks_keeps_key_and_chain() {
    let dir = Dir::new();
    keytool_genkey(
        &dir,
        "orig.jks",
        "JKS",
        "upload",
        &["-keyalg", "RSA", "-keypass", "orig-key-pw"],
    );
    // A signature made with the original key ...
    dir.make_jar("app.jar");
    dir.tool(
        "jarsigner",
        &[
            "-keystore",
            "orig.jks",
            "-storepass",
            "kt-store-pw",
            "-keypass",
            "orig-key-pw",
            "-signedjar",
            "before.jar",
            "app.jar",
            "upload",
        ],
    )
    .ok();

    dir.signet(&[
        "keystore",
        "convert",
        "orig.jks",
        "--store-pass",
        "pass:kt-store-pw",
        "--key-pass",
        "pass:orig-key-pw",
        "--type",
        "pkcs12",
        "--out",
        "mid.p12",
        "--new-store-pass",
        "pass:mid-pw-123",
    ])
    .ok();
    dir.signet(&[
        "keystore",
        "convert",
        "mid.p12",
        "--store-pass",
        "pass:mid-pw-123",
        "--type",
        "jks",
        "--out",
        "back.jks",
        "--new-store-pass",
        "pass:back-store",
        "--new-key-pass",
        "pass:back-key",
    ])
    .ok();

    // ... verifies against the certificate after the round trip: jarsigner finds the
    // signer's certificate in the converted keystore.
    let verify = dir
        .tool(
            "jarsigner",
            &[
                "-verify",
                "-verbose",
                "-keystore",
                "back.jks",
                "-storepass",
                "back-store",
                "before.jar",
            ],
        )
        .ok();
    assert!(verify.contains("jar verified."), "{verify}");
    assert!(
        verify.contains("smk "),
        "signer certificate not found in the converted keystore:\n{verify}"
    );

    // The converted key still signs, with the same certificate.
    dir.tool(
        "jarsigner",
        &[
            "-keystore",
            "back.jks",
            "-storepass",
            "back-store",
            "-keypass",
            "back-key",
            "-signedjar",
            "after.jar",
            "app.jar",
            "upload",
        ],
    )
    .ok();
    assert!(
        dir.tool("jarsigner", &["-verify", "after.jar"])
            .ok()
            .contains("jar verified.")
    );
    let orig = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "orig.jks",
                "-storepass",
                "kt-store-pw",
            ],
        )
        .ok();
    let mid = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "mid.p12",
                "-storepass",
                "mid-pw-123",
            ],
        )
        .ok();
    let back = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "back.jks",
                "-storepass",
                "back-store",
            ],
        )
        .ok();
    assert_eq!(keytool_fingerprints(&orig).len(), 1, "{orig}");
    assert_eq!(keytool_fingerprints(&orig), keytool_fingerprints(&mid));
    assert_eq!(keytool_fingerprints(&orig), keytool_fingerprints(&back));
    assert!(mid.contains("Keystore type: PKCS12"), "{mid}");
    assert!(back.contains("Keystore type: JKS"), "{back}");
}

#[test]
fn keys_signet_cannot_use_are_listed_with_a_warning() {
    // DSA was keytool's default key type up to Java 6; many old Android keys are DSA.
    let dir = Dir::new();
    for (store_type, store) in [("JKS", "old.jks"), ("PKCS12", "old.p12")] {
        keytool_genkey(
            &dir,
            store,
            store_type,
            "legacy",
            &["-keyalg", "DSA", "-keysize", "1024"],
        );
        let v = dir
            .signet(&[
                "keystore",
                "inspect",
                store,
                "--store-pass",
                "pass:kt-store-pw",
                "--json",
            ])
            .json();
        let e = &v["entries"][0];
        assert_eq!(e["alias"], "legacy", "{store_type}");
        assert_eq!(e["key_password"], "unusable", "{store_type}");
        assert!(
            e["warnings"]
                .to_string()
                .contains("cannot sign with this key"),
            "{store_type}: {e}"
        );
        // The certificate is still exported, byte-identical to keytool's.
        let pem = dir
            .signet(&[
                "keystore",
                "upload-cert",
                store,
                "--store-pass",
                "pass:kt-store-pw",
            ])
            .ok();
        let expected = dir
            .tool(
                "keytool",
                &[
                    "-exportcert",
                    "-rfc",
                    "-keystore",
                    store,
                    "-storepass",
                    "kt-store-pw",
                    "-alias",
                    "legacy",
                ],
            )
            .ok();
        assert_eq!(pem, expected, "{store_type}");
    }
}
