//! `signet keystore generate`: defaults, generated secrets, credentials.json, secret forms.

use crate::util::{Dir, keytool_fingerprints};

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in:\n{text}"))
        .trim()
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn defaults_generate_alias_and_password_and_report_them_once() {
    let dir = Dir::new();
    let out = dir
        .signet(&["keystore", "generate", "--out", "upload.p12"])
        .ok();
    let alias = field(&out, "Alias:");
    let password = field(&out, "Store password:");
    assert!(is_hex32(alias), "{alias}");
    assert!(is_hex32(password), "{password}");
    assert!(out.contains("shown only once"), "{out}");

    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "upload.p12",
                "-storepass",
                password,
            ],
        )
        .ok();
    assert!(listing.contains("Keystore type: PKCS12"), "{listing}");
    assert!(
        listing.contains(&format!("Alias name: {alias}")),
        "{listing}"
    );
    assert!(listing.contains("2048-bit RSA key"), "{listing}");
    assert!(
        listing.contains("Signature algorithm name: SHA256withRSA"),
        "{listing}"
    );

    // 10,000 days of validity, so the Play deadline is met and nothing warns.
    let v = dir
        .signet(&[
            "keystore",
            "inspect",
            "upload.p12",
            "--store-pass",
            &format!("pass:{password}"),
            "--json",
        ])
        .json();
    let cert = &v["entries"][0]["certificates"][0];
    let from = time::OffsetDateTime::parse(
        cert["not_before"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let until = time::OffsetDateTime::parse(
        cert["not_after"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((until - from).whole_days(), 10_000);
    assert_eq!(v["entries"][0]["warnings"], serde_json::json!([]));
    // The file holds secrets: owner-only permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path("upload.p12"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn json_includes_generated_secrets_only_when_asked() {
    let dir = Dir::new();
    let v = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "a.jks",
            "--type",
            "jks",
            "--json",
            "--show-secrets",
        ])
        .json();
    let pw = v["store_password"]
        .as_str()
        .expect("store_password shown with --show-secrets");
    assert_eq!(
        v["key_password"].as_str(),
        Some(pw),
        "key password defaults to the store password"
    );
    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", "a.jks", "-storepass", pw],
        )
        .ok();
    assert_eq!(
        keytool_fingerprints(&listing)[0].2,
        v["certificate"]["fingerprints"]["sha256"].as_str().unwrap()
    );

    let v = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "b.p12",
            "--store-pass",
            "env:SIGNET_TEST_UNUSED_FALLBACK",
            "--json",
        ])
        .code();
    assert_eq!(v, 1, "an unset env: variable is an error");
    assert!(!dir.exists("b.p12"));
}

#[test]
fn credentials_json_is_written_in_eas_format() {
    let dir = Dir::new();
    dir.write(
        "credentials.json",
        r#"{"ios":{"provisioningProfilePath":"ios/profile.mobileprovision"}}"#,
    );
    std::fs::create_dir(dir.path("keystores")).unwrap();
    let out = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "keystores/upload.jks",
            "--type",
            "jks",
            "--alias",
            "upload",
            "--credentials-json",
            "credentials.json",
        ])
        .ok();
    assert!(
        !out.contains("Store password:"),
        "secrets printed although written to credentials.json:\n{out}"
    );
    let creds: serde_json::Value = serde_json::from_slice(&dir.read("credentials.json")).unwrap();
    assert_eq!(
        creds["ios"]["provisioningProfilePath"],
        "ios/profile.mobileprovision"
    );
    let ks = &creds["android"]["keystore"];
    assert_eq!(ks["keystorePath"], "keystores/upload.jks");
    assert_eq!(ks["keyAlias"], "upload");
    let store_pw = ks["keystorePassword"].as_str().unwrap();
    let key_pw = ks["keyPassword"].as_str().unwrap();
    assert!(is_hex32(store_pw));
    // jarsigner, as Gradle would, signs with exactly what credentials.json says.
    dir.make_jar("app.jar");
    dir.tool(
        "jarsigner",
        &[
            "-keystore",
            "keystores/upload.jks",
            "-storepass",
            store_pw,
            "-keypass",
            key_pw,
            "-signedjar",
            "s.jar",
            "app.jar",
            "upload",
        ],
    )
    .ok();
}

#[test]
fn secrets_from_env_file_and_stdin() {
    let dir = Dir::new();
    dir.write("store.pass", "from-file-pw\nsecond line ignored\n");
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "f.jks",
        "--type",
        "jks",
        "--alias",
        "a",
        "--store-pass",
        "file:store.pass",
    ])
    .ok();
    dir.tool(
        "keytool",
        &["-list", "-keystore", "f.jks", "-storepass", "from-file-pw"],
    )
    .ok();

    // Two stdin secrets read two successive lines, as apksigner does.
    dir.signet_stdin(
        &[
            "keystore",
            "generate",
            "--out",
            "s.jks",
            "--type",
            "jks",
            "--alias",
            "a",
            "--store-pass",
            "stdin",
            "--key-pass",
            "stdin",
        ],
        "stdin-store\nstdin-key\n",
    )
    .ok();
    dir.make_jar("app.jar");
    dir.tool(
        "jarsigner",
        &[
            "-keystore",
            "s.jks",
            "-storepass",
            "stdin-store",
            "-keypass",
            "stdin-key",
            "-signedjar",
            "o.jar",
            "app.jar",
            "a",
        ],
    )
    .ok();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signet"))
        .args([
            "keystore",
            "inspect",
            "f.jks",
            "--store-pass",
            "env:SIGNET_TEST_PW",
            "--json",
        ])
        .current_dir(dir.root())
        .env("SIGNET_TEST_PW", "from-file-pw")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["integrity_checked"], true);
}

#[test]
fn warnings_for_debug_subject_and_short_validity() {
    let dir = Dir::new();
    let v = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "debug.p12",
            "--store-pass",
            "pass:android",
            "--alias",
            "androiddebugkey",
            "--dname",
            "CN=Android Debug,O=Android,C=US",
            "--validity-days",
            "365",
            "--json",
        ])
        .json();
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("debug certificate"), "{warnings}");
    assert!(warnings.contains("before 2033-10-22"), "{warnings}");
    assert_eq!(v["certificate"]["is_debug"], true);
    let human = dir
        .signet(&[
            "keystore",
            "inspect",
            "debug.p12",
            "--store-pass",
            "pass:android",
        ])
        .ok();
    assert!(
        human.contains("warning: this is the Android debug certificate"),
        "{human}"
    );
    // keytool agrees on the subject.
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "debug.p12",
                "-storepass",
                "android",
            ],
        )
        .ok();
    assert!(
        listing.contains("Owner: CN=Android Debug, O=Android, C=US"),
        "{listing}"
    );
}

#[test]
fn ec_p384_and_rsa_4096() {
    let dir = Dir::new();
    for (alg, size, expect) in [
        ("ec", "384", "384-bit EC (secp384r1) key"),
        ("rsa", "4096", "4096-bit RSA key"),
    ] {
        let file = format!("{alg}{size}.p12");
        dir.signet(&[
            "keystore",
            "generate",
            "--out",
            &file,
            "--key-alg",
            alg,
            "--key-size",
            size,
            "--store-pass",
            "pass:pw-123456",
        ])
        .ok();
        let listing = dir
            .tool(
                "keytool",
                &["-list", "-v", "-keystore", &file, "-storepass", "pw-123456"],
            )
            .ok();
        assert!(listing.contains(expect), "{listing}");
    }
}

#[test]
fn credentials_json_guards_an_existing_keystore_section() {
    let dir = Dir::new();
    dir.write("credentials.json", r#"{"android":{"keystore":{"keystorePath":"old.jks","keystorePassword":"old-secret","keyAlias":"a","keyPassword":"old-secret"}}}"#);
    let run = dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "new.p12",
        "--credentials-json",
        "credentials.json",
    ]);
    let err = run.fails_with(1);
    assert!(
        err.contains("already has an android.keystore section"),
        "{err}"
    );
    assert!(
        !dir.exists("new.p12"),
        "keystore written although its password could not be saved"
    );
    let creds: serde_json::Value = serde_json::from_slice(&dir.read("credentials.json")).unwrap();
    assert_eq!(creds["android"]["keystore"]["keystorePath"], "old.jks");

    // A malformed credentials.json: error, no keystore, no secret in the message.
    dir.write("broken.json", "{\"android\": {\"keystore\": 12345678");
    let run = dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "new.p12",
        "--credentials-json",
        "broken.json",
    ]);
    let err = run.fails_with(1);
    assert!(
        err.contains("credentials.json") || err.contains("broken.json"),
        "{err}"
    );
    assert!(!err.contains("12345678"), "{err}");
    assert!(!dir.exists("new.p12"));

    // With --force the section is replaced, and --json leaves the secrets out.
    let v = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "new.p12",
            "--credentials-json",
            "credentials.json",
            "--force",
            "--json",
        ])
        .json();
    assert!(v.get("store_password").is_none(), "{v}");
    assert!(v.get("key_password").is_none(), "{v}");
    let creds: serde_json::Value = serde_json::from_slice(&dir.read("credentials.json")).unwrap();
    assert_eq!(creds["android"]["keystore"]["keystorePath"], "new.p12");
    let pw = creds["android"]["keystore"]["keystorePassword"]
        .as_str()
        .unwrap();
    dir.tool(
        "keytool",
        &["-list", "-keystore", "new.p12", "-storepass", pw],
    )
    .ok();
}

#[test]
fn overlong_validity_is_a_usage_error() {
    let dir = Dir::new();
    let err = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "a.p12",
            "--store-pass",
            "pass:x",
            "--validity-days",
            "4000000000",
        ])
        .fails_with(2);
    assert!(err.contains("--validity-days"), "{err}");
    assert!(!dir.exists("a.p12"));
}
