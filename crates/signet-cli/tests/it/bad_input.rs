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

/// A cut file says it is truncated and names the structure the reader was in when the
/// bytes ran out (the last 20 bytes of a JKS are its digest, so a JKS cut by one byte runs
/// out in its last certificate), with the hint about downloads, from every command.
#[test]
fn truncated_files() {
    let dir = Dir::new();
    fixtures(&dir);
    let hint = "hint: the file may have been cut short in a download or copy";
    for (f, at, what) in [
        ("k.jks", Cut::Half, "JKS private key"),
        ("k.jks", Cut::LastByte, "JKS certificate"),
        // Shorter than the header and the digest together.
        ("k.jks", Cut::To(30), "JKS header"),
        ("k.p12", Cut::Half, "PKCS#12 structure"),
        ("k.p12", Cut::LastByte, "PKCS#12 structure"),
        ("k.p12", Cut::To(30), "PKCS#12 structure"),
    ] {
        let bytes = dir.read(f);
        let cut = match at {
            Cut::Half => bytes.len() / 2,
            Cut::LastByte => bytes.len() - 1,
            Cut::To(n) => n,
        };
        dir.write("cut.ks", &bytes[..cut]);
        let message = format!("cut.ks: file is truncated: {what} ends early");
        let err = dir
            .signet(&[
                "keystore",
                "inspect",
                "cut.ks",
                "--store-pass",
                "pass:store-secret",
            ])
            .fails_with(1);
        assert_eq!(
            err,
            format!("error: {message}\n{hint}\n"),
            "{f} cut at {cut}"
        );
        assert_all_commands_refuse(&dir, "cut.ks", "pass:store-secret", &[], &message);
        std::fs::remove_file(dir.path("cut.ks")).unwrap();
    }
}

#[derive(Clone, Copy)]
enum Cut {
    Half,
    LastByte,
    To(usize),
}

/// A byte changed in the middle (inside the JKS's encrypted key, inside the PKCS#12's
/// MAC-protected content) fails the integrity check, which cannot tell a change from a
/// wrong password: the message says both.
#[test]
fn corrupt_files() {
    let dir = Dir::new();
    fixtures(&dir);
    let message = "bad.ks: keystore password is incorrect (or the keystore was modified since it was written)";
    for f in ["k.jks", "k.p12"] {
        let mut bytes = dir.read(f);
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        dir.write("bad.ks", &bytes);
        let err = dir
            .signet(&[
                "keystore",
                "inspect",
                "bad.ks",
                "--store-pass",
                "pass:store-secret",
            ])
            .fails_with(1);
        assert_eq!(
            err.lines().next(),
            Some(format!("error: {message}").as_str()),
            "{f}: {err}"
        );
        assert_all_commands_refuse(&dir, "bad.ks", "pass:store-secret", &[], message);
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

/// Each usage error exits 2 with its own message (clap's for an unknown command), and
/// writes nothing. A secret flag in the wrong form is named without its value.
#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    for (args, expected) in [
        (
            &[
                "keystore",
                "generate",
                "--out",
                "a.p12",
                "--store-pass",
                "plain-value",
            ][..],
            "error: --store-pass must be pass:VALUE, env:VAR, file:PATH or stdin",
        ),
        (
            &[
                "keystore",
                "generate",
                "--out",
                "a.p12",
                "--type",
                "jks",
                "--store-pass",
                "pass:a",
                "--key-pass",
                "plain-value",
            ],
            "error: --key-pass must be pass:VALUE, env:VAR, file:PATH or stdin",
        ),
        (
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
            "error: unsupported RSA key size 1024; use 2048, 3072 or 4096",
        ),
        (
            &["keystore", "generate", "--out", "a.p12", "--dname", "XX=1"],
            "error: invalid distinguished name: unknown attribute `XX` (use CN, OU, O, L, ST, C)",
        ),
        (
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
            "error: a PKCS#12 keystore has a single password: drop --key-pass or use --type jks",
        ),
        (
            &["keystore", "generate", "--out", "a.p12", "--json"],
            "error: the generated store password would be lost: with --json, give --store-pass, \
             --credentials-json FILE or --show-secrets",
        ),
        (
            &["keystore", "frobnicate"],
            "error: unrecognized subcommand 'frobnicate'",
        ),
    ] {
        let err = dir.signet(args).fails_with(2);
        assert_eq!(err.lines().next(), Some(expected), "{args:?}: {err}");
        assert!(!err.contains("plain-value"), "secret echoed: {err}");
        assert!(!dir.exists("a.p12"), "{args:?} wrote a file");
    }
}
