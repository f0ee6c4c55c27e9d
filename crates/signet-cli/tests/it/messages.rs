//! Errors that name the right file and say what is wrong in words, and commands that say
//! what they did (a newcomer's first hour, issue 15). Each test pins the whole message.

use crate::util::Dir;

/// A .p12 identity made the way a user makes one: `ios csr`, a certificate for the request
/// (self-signed by OpenSSL here), `ios p12`.
fn identity(dir: &Dir) {
    dir.signet(&[
        "ios",
        "csr",
        "--key-out",
        "d.key",
        "--csr-out",
        "d.csr",
        "--email",
        "a@example.com",
    ])
    .ok();
    dir.tool(
        "openssl",
        &[
            "x509", "-req", "-in", "d.csr", "-signkey", "d.key", "-out", "d.cer", "-outform", "DER",
        ],
    )
    .ok();
    dir.signet(&[
        "ios", "p12", "--key", "d.key", "--cer", "d.cer", "--out", "d.p12", "--pass", "pass:p12",
    ])
    .ok();
}

/// An IPA whose Info.plist is three bytes of text.
fn ipa_with_bad_info_plist(dir: &Dir, name: &str) {
    let app = dir.path("src/Payload/A.app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("Info.plist"), "hi\n").unwrap();
    let out = std::process::Command::new("zip")
        .args(["-qr", &dir.path(name).display().to_string(), "Payload"])
        .current_dir(dir.path("src"))
        .output()
        .unwrap();
    assert!(out.status.success());
}

const NOT_A_PROFILE: &str = "error: bad.mobileprovision: not a provisioning profile (a .mobileprovision is a property list inside a CMS signature)\n";

#[test]
fn ipa_sign_with_a_bad_profile_names_the_profile() {
    let dir = Dir::new();
    identity(&dir);
    dir.write("bad.mobileprovision", "this is not a profile\n");
    ipa_with_bad_info_plist(&dir, "app.ipa");
    let err = dir
        .signet(&[
            "ipa",
            "sign",
            "app.ipa",
            "--out",
            "signed.ipa",
            "--p12",
            "d.p12",
            "--p12-pass",
            "pass:p12",
            "--profile",
            "bad.mobileprovision",
        ])
        .fails_with(1);
    assert_eq!(err, NOT_A_PROFILE);
    assert!(!dir.exists("signed.ipa"));
}

#[test]
fn ios_check_and_inspect_say_not_a_provisioning_profile() {
    let dir = Dir::new();
    identity(&dir);
    dir.write("bad.mobileprovision", "this is not a profile\n");
    let err = dir
        .signet(&[
            "ios",
            "check",
            "--p12",
            "d.p12",
            "--p12-pass",
            "pass:p12",
            "--profile",
            "bad.mobileprovision",
            "--bundle-id",
            "com.acme.app",
            "--distribution",
            "app-store",
        ])
        .fails_with(1);
    assert_eq!(err, NOT_A_PROFILE);
    let err = dir
        .signet(&["inspect", "bad.mobileprovision"])
        .fails_with(1);
    assert_eq!(err, NOT_A_PROFILE);
}

#[test]
fn a_bad_info_plist_is_described_in_words_not_debug_form() {
    let dir = Dir::new();
    ipa_with_bad_info_plist(&dir, "app.ipa");
    let expected =
        "error: app.ipa: Info.plist: not a property list: too short (empty or truncated)\n";
    assert_eq!(
        dir.signet(&["ipa", "verify", "app.ipa"]).fails_with(1),
        expected
    );
    assert_eq!(dir.signet(&["inspect", "app.ipa"]).fails_with(1), expected);
}

#[test]
fn ipa_sign_without_the_p12_password_shows_the_secret_forms() {
    let dir = Dir::new();
    identity(&dir);
    // Standard input is not a terminal here, so nothing is prompted for.
    let err = dir
        .signet_stdin(
            &[
                "ipa",
                "sign",
                "app.ipa",
                "--out",
                "signed.ipa",
                "--p12",
                "d.p12",
                "--profile",
                "x.mobileprovision",
            ],
            "",
        )
        .fails_with(2);
    assert_eq!(
        err,
        "error: give the .p12 password with --p12-pass as pass:VALUE, env:VAR, file:PATH or stdin\n"
    );
}

#[test]
fn inspect_help_names_every_type_it_reads() {
    let dir = Dir::new();
    let help = dir.signet(&["inspect", "--help"]).ok();
    for what in [
        "keystore",
        "certificate",
        "provisioning profile",
        ".p8 key",
        "IPA",
    ] {
        assert!(help.contains(what), "`{what}` missing from:\n{help}");
    }
}

#[test]
fn upload_cert_and_convert_say_what_they_wrote() {
    let dir = Dir::new();
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.jks",
        "--type",
        "jks",
        "--alias",
        "upload",
        "--dname",
        "CN=Jane",
        "--store-pass",
        "pass:store-pass",
    ])
    .ok();
    let sha256 = dir
        .signet(&[
            "keystore",
            "inspect",
            "k.jks",
            "--store-pass",
            "pass:store-pass",
            "--json",
        ])
        .json()["entries"][0]["certificates"][0]["fingerprints"]["sha256"]
        .as_str()
        .expect("sha256 in inspect --json")
        .to_owned();
    let run = dir.signet(&[
        "keystore",
        "upload-cert",
        "k.jks",
        "--store-pass",
        "pass:store-pass",
        "--out",
        "upload.pem",
    ]);
    run.ok();
    assert_eq!(
        run.stderr(),
        format!("Wrote upload.pem (the certificate of `upload`, CN=Jane; SHA-256 {sha256})\n")
    );

    let same = dir
        .signet(&[
            "keystore",
            "convert",
            "k.jks",
            "--store-pass",
            "pass:store-pass",
            "--type",
            "pkcs12",
            "--out",
            "same.p12",
        ])
        .ok();
    assert_eq!(
        same,
        "Converted k.jks (JKS) to same.p12 (PKCS12): `upload`; its store password is the same as the original's\n"
    );
    let new = dir
        .signet(&[
            "keystore",
            "convert",
            "k.jks",
            "--store-pass",
            "pass:store-pass",
            "--type",
            "pkcs12",
            "--new-store-pass",
            "pass:other-pass",
            "--out",
            "new.p12",
        ])
        .ok();
    assert_eq!(
        new,
        "Converted k.jks (JKS) to new.p12 (PKCS12): `upload`; its store password is the one given with --new-store-pass\n"
    );
    // And it is: keytool opens each with the password the message names.
    dir.tool(
        "keytool",
        &["-list", "-keystore", "same.p12", "-storepass", "store-pass"],
    )
    .ok();
    dir.tool(
        "keytool",
        &["-list", "-keystore", "new.p12", "-storepass", "other-pass"],
    )
    .ok();
}

#[test]
fn aab_sign_says_jar_signature_not_a_min_sdk() {
    let dir = Dir::new();
    let src = dir.path("bundle");
    std::fs::create_dir_all(src.join("base/manifest")).unwrap();
    std::fs::write(
        src.join("base/manifest/AndroidManifest.xml"),
        [0x0a, 0x01, 0x61],
    )
    .unwrap();
    std::fs::write(src.join("BundleConfig.pb"), [0x0a, 0x00]).unwrap();
    let zipped = std::process::Command::new("zip")
        .args(["-qr", &dir.path("app.aab").display().to_string(), "."])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(zipped.status.success());
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "k.p12",
        "--alias",
        "upload",
        "--store-pass",
        "pass:store-pass",
    ])
    .ok();
    let run = dir.signet(&[
        "aab",
        "sign",
        "app.aab",
        "--out",
        "signed.aab",
        "--ks",
        "k.p12",
        "--ks-pass",
        "pass:store-pass",
    ]);
    run.ok();
    assert_eq!(
        run.stderr(),
        "Signed signed.aab (JAR signature, as jarsigner) with `upload`\n"
    );
}

#[test]
fn an_idsig_too_large_for_the_apk_is_refused_before_it_is_read() {
    let dir = Dir::new();
    dir.write("app.apk", vec![0u8; 64 * 1024]);
    // Sparse: 3 GiB on paper, nothing on disk; reading it whole would take 3 GiB of memory.
    let big = std::fs::File::create(dir.path("big.idsig")).unwrap();
    big.set_len(3 << 30).unwrap();
    let err = dir
        .signet(&[
            "apk",
            "verify",
            "--v4-signature-file",
            "big.idsig",
            "app.apk",
        ])
        .fails_with(1);
    assert_eq!(
        err,
        format!(
            "error: big.idsig: {} bytes, too large to be a v4 signature of app.apk (at most {})\n",
            3u64 << 30,
            64 * 1024 / 64 + (1 << 20)
        )
    );
}

#[test]
fn bad_certificates_and_encrypted_keys_are_described_in_words() {
    let dir = Dir::new();
    identity(&dir);
    dir.write(
        "junk.pem",
        "-----BEGIN CERTIFICATE-----\nMIIBCgKCAQEAwJ3J\n-----END CERTIFICATE-----\n",
    );
    assert_eq!(
        dir.signet(&["inspect", "junk.pem"]).fails_with(1),
        "error: junk.pem: invalid certificate: not an X.509 certificate (its DER structure does not parse)\n"
    );
    dir.write("empty.cer", "");
    let p12 = |key: &str, cer: &str| {
        dir.signet(&[
            "ios", "p12", "--key", key, "--cer", cer, "--out", "z.p12", "--pass", "pass:p",
        ])
        .fails_with(1)
    };
    assert_eq!(
        p12("d.key", "empty.cer"),
        "error: empty.cer: invalid certificate: the DER data ends early (truncated)\n"
    );
    dir.tool(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "d.key",
            "-out",
            "enc.key",
            "-passout",
            "pass:secret-x",
        ],
    )
    .ok();
    let err = p12("enc.key", "d.cer");
    assert_eq!(
        err,
        "error: enc.key: invalid private key: the key is encrypted; decrypt it with `openssl pkcs8 -in KEY -out key.p8.pem`\n"
    );
    assert!(!dir.exists("z.p12"));
}
