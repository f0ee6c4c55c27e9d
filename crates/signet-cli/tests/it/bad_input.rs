//! Bad input gets one clear error line, exit code 1 (2 for usage errors), no panic, no
//! secret in the message, and no output file.

use crate::util::{Dir, Run};

/// Asserts a one-line error containing `needle`, with at most a hint line after it, and
/// that no password leaked into it.
fn assert_clean_error(run: &Run, code: i32, needle: &str) {
    let err = run.fails_with(code);
    let lines: Vec<&str> = err.lines().collect();
    assert!(!lines.is_empty(), "no error message for `{}`", run.what);
    assert!(
        lines[0].starts_with("error: "),
        "first line is not `error: …`: {err}"
    );
    assert!(lines[0].contains(needle), "expected `{needle}` in: {err}");
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    for secret in ["store-secret", "key-secret", "wrong-secret"] {
        assert!(!err.contains(secret), "secret leaked: {err}");
    }
    assert!(run.stdout().is_empty(), "stdout on error: {}", run.stdout());
}

/// A JKS with a key password different from its store password, and a PKCS#12.
fn fixtures(dir: &Dir) {
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.jks",
        "--type",
        "jks",
        "--alias",
        "upload",
        "--store-pass",
        "pass:store-secret",
        "--key-pass",
        "pass:key-secret",
    ])
    .ok();
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.p12",
        "--alias",
        "upload",
        "--store-pass",
        "pass:store-secret",
    ])
    .ok();
}

/// Every command that writes a file, run against `input`, must fail the same way and
/// leave the directory as it was.
fn assert_all_commands_refuse(
    dir: &Dir,
    input: &str,
    store_pass: &str,
    extra: &[&str],
    needle: &str,
) {
    let before = dir.listing();
    let commands: [&[&str]; 3] = [
        &["keystore", "inspect", input, "--store-pass", store_pass],
        &[
            "keystore",
            "upload-cert",
            input,
            "--store-pass",
            store_pass,
            "--out",
            "out.pem",
        ],
        &[
            "keystore",
            "convert",
            input,
            "--store-pass",
            store_pass,
            "--type",
            "pkcs12",
            "--out",
            "out.p12",
        ],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.extend_from_slice(extra);
        assert_clean_error(&dir.signet(&args), 1, needle);
        assert_eq!(dir.listing(), before, "a file was left behind by {args:?}");
    }
}

#[test]
fn wrong_store_password() {
    let dir = Dir::new();
    fixtures(&dir);
    for f in ["k.jks", "k.p12"] {
        assert_all_commands_refuse(
            &dir,
            f,
            "pass:wrong-secret",
            &[],
            "keystore password is incorrect",
        );
    }
}

#[test]
fn wrong_key_password() {
    let dir = Dir::new();
    fixtures(&dir);
    let before = dir.listing();
    // The store password does not open the key, and --key-pass is wrong.
    let run = dir.signet(&[
        "keystore",
        "convert",
        "k.jks",
        "--store-pass",
        "pass:store-secret",
        "--type",
        "pkcs12",
        "--out",
        "o.p12",
    ]);
    assert_clean_error(&run, 1, "key password is incorrect for alias `upload`");
    let run = dir.signet(&[
        "keystore",
        "inspect",
        "k.jks",
        "--store-pass",
        "pass:store-secret",
        "--key-pass",
        "pass:wrong-secret",
    ]);
    assert_clean_error(&run, 1, "key password is incorrect for alias `upload`");
    assert_eq!(dir.listing(), before);
}

#[test]
fn unknown_alias_lists_the_aliases() {
    let dir = Dir::new();
    fixtures(&dir);
    for f in ["k.jks", "k.p12"] {
        let run = dir.signet(&[
            "keystore",
            "upload-cert",
            f,
            "--store-pass",
            "pass:store-secret",
            "--alias",
            "nope",
            "--out",
            "o.pem",
        ]);
        assert_clean_error(&run, 1, "alias `nope` not found; aliases: `upload`");
        let run = dir.signet(&[
            "keystore",
            "inspect",
            f,
            "--store-pass",
            "pass:store-secret",
            "--alias",
            "nope",
        ]);
        assert_clean_error(&run, 1, "alias `nope` not found; aliases: `upload`");
        assert!(!dir.exists("o.pem"));
    }
}

#[test]
fn empty_file() {
    let dir = Dir::new();
    dir.write("empty.jks", b"");
    assert_all_commands_refuse(&dir, "empty.jks", "pass:x", &[], "file is empty");
}

#[test]
fn truncated_files() {
    let dir = Dir::new();
    fixtures(&dir);
    for f in ["k.jks", "k.p12"] {
        let bytes = dir.read(f);
        for cut in [bytes.len() / 2, bytes.len() - 1, 30] {
            dir.write("cut.ks", &bytes[..cut]);
            let run = dir.signet(&[
                "keystore",
                "inspect",
                "cut.ks",
                "--store-pass",
                "pass:store-secret",
            ]);
            let err = run.fails_with(1);
            assert!(
                err.contains("truncated") || err.contains("keystore password is incorrect"),
                "{f} cut at {cut}: {err}"
            );
            assert_all_commands_refuse(&dir, "cut.ks", "pass:store-secret", &[], "cut.ks");
            std::fs::remove_file(dir.path("cut.ks")).unwrap();
        }
    }
}

#[test]
fn corrupt_files() {
    let dir = Dir::new();
    fixtures(&dir);
    for f in ["k.jks", "k.p12"] {
        let mut bytes = dir.read(f);
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        dir.write("bad.ks", &bytes);
        // The integrity check (JKS digest, PKCS#12 MAC or structure) catches it.
        let run = dir.signet(&[
            "keystore",
            "inspect",
            "bad.ks",
            "--store-pass",
            "pass:store-secret",
        ]);
        let err = run.fails_with(1);
        assert!(err.starts_with("error: bad.ks: "), "{f}: {err}");
        assert_all_commands_refuse(&dir, "bad.ks", "pass:store-secret", &[], "bad.ks");
    }
}

#[test]
fn not_a_keystore() {
    let dir = Dir::new();
    dir.write("notes.txt", "these are not the keys you are looking for\n");
    assert_all_commands_refuse(
        &dir,
        "notes.txt",
        "pass:x",
        &[],
        "not a keystore: expected a JKS or PKCS#12 file",
    );
    // signet inspect says what it does understand.
    let run = dir.signet(&["inspect", "notes.txt"]);
    assert_clean_error(
        &run,
        1,
        "not a keystore (JKS, PKCS#12), an X.509 certificate (PEM, DER), a provisioning profile or a .p8 key",
    );
}

#[test]
fn jceks_is_refused_with_a_conversion_hint() {
    let dir = Dir::new();
    dir.tool(
        "keytool",
        &[
            "-genkeypair",
            "-keystore",
            "k.jceks",
            "-storetype",
            "JCEKS",
            "-storepass",
            "store-secret",
            "-alias",
            "a",
            "-dname",
            "CN=x",
            "-keyalg",
            "RSA",
            "-noprompt",
        ],
    )
    .ok();
    assert_all_commands_refuse(
        &dir,
        "k.jceks",
        "pass:store-secret",
        &[],
        "JCEKS keystores are not supported",
    );
    let err = dir
        .signet(&["keystore", "inspect", "k.jceks"])
        .fails_with(1);
    assert!(err.contains("keytool -importkeystore"), "{err}");
}

#[test]
fn pkcs12_without_password_is_an_error_not_a_prompt() {
    let dir = Dir::new();
    fixtures(&dir);
    let run = dir.signet(&["keystore", "inspect", "k.p12"]);
    assert_clean_error(&run, 1, "a store password is required");
}

#[test]
fn existing_output_is_refused_unless_forced() {
    let dir = Dir::new();
    fixtures(&dir);
    let original = dir.read("k.p12");
    let run = dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.p12",
        "--store-pass",
        "pass:store-secret",
    ]);
    assert_clean_error(&run, 1, "k.p12 already exists");
    assert!(
        run.stderr().contains("hint: pass --force"),
        "{}",
        run.stderr()
    );
    assert_eq!(dir.read("k.p12"), original, "existing file was modified");
    let run = dir.signet(&[
        "keystore",
        "convert",
        "k.jks",
        "--store-pass",
        "pass:store-secret",
        "--key-pass",
        "pass:key-secret",
        "--type",
        "pkcs12",
        "--out",
        "k.p12",
    ]);
    assert_clean_error(&run, 1, "k.p12 already exists");
    assert_eq!(dir.read("k.p12"), original, "existing file was modified");

    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.p12",
        "--store-pass",
        "pass:store-secret",
        "--force",
    ])
    .ok();
    assert_ne!(
        dir.read("k.p12"),
        original,
        "--force did not replace the file"
    );
    // No temporary files are left beside the output.
    assert!(
        dir.listing().iter().all(|f| !f.starts_with(".signet-")),
        "{:?}",
        dir.listing()
    );
}

#[test]
fn missing_input_file() {
    let dir = Dir::new();
    let run = dir.signet(&["keystore", "inspect", "nope.jks", "--store-pass", "pass:x"]);
    assert_clean_error(&run, 1, "cannot read nope.jks");
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    for args in [
        &[
            "keystore",
            "generate",
            "--out",
            "a.p12",
            "--store-pass",
            "plain-value",
        ][..],
        &[
            "keystore",
            "generate",
            "--out",
            "a.p12",
            "--key-alg",
            "rsa",
            "--key-size",
            "1024",
        ],
        &["keystore", "generate", "--out", "a.p12", "--dname", "XX=1"],
        &[
            "keystore",
            "generate",
            "--out",
            "a.p12",
            "--store-pass",
            "pass:a",
            "--key-pass",
            "pass:b",
        ],
        &["keystore", "generate", "--out", "a.p12", "--json"],
        &["keystore", "frobnicate"],
    ] {
        let err = dir.signet(args).fails_with(2);
        assert!(!err.contains("plain-value"), "secret echoed: {err}");
        assert!(!dir.exists("a.p12"), "{args:?} wrote a file");
    }
}
