//! Key rotation against apksigner: signing certificate lineages, and APKs signed with one
//! (v1/v2 by the oldest key, v3 by the newest with the lineage), each side verifying the
//! other's.

use signet_sign::apk::lineage::{DEFAULT_FLAGS, Lineage};

use crate::{
    apk::{build_apk, keystores},
    util::{Dir, keytool_fingerprints},
};

/// `apksigner rotate` from `old` to `new` (PKCS#12 or JKS, password `android`).
fn apksigner_rotate(dir: &Dir, out: &str, old: &str, new: &str) {
    dir.tool(
        "apksigner",
        &[
            "rotate",
            "--out",
            out,
            "--old-signer",
            "--ks",
            old,
            "--ks-pass",
            "pass:android",
            "--new-signer",
            "--ks",
            new,
            "--ks-pass",
            "pass:android",
        ],
    )
    .ok();
}

/// The SHA-256 fingerprint of keystore `ks`'s certificate, as keytool lists it, in the
/// lower-case hex apksigner prints.
fn sha256_of(dir: &Dir, ks: &str) -> String {
    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", ks, "-storepass", "android"],
        )
        .ok();
    keytool_fingerprints(&listing)[0]
        .2
        .replace(':', "")
        .to_lowercase()
}

#[test]
fn signet_reads_apksigners_lineage_and_writes_it_back_byte_for_byte() {
    let dir = Dir::new();
    keystores(&dir);
    dir.tool(
        "apksigner",
        &[
            "rotate",
            "--out",
            "lineage",
            "--old-signer",
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--new-signer",
            "--ks",
            "ec.p12",
            "--ks-pass",
            "pass:android",
        ],
    )
    .ok();
    let bytes = dir.read("lineage");
    let lineage = Lineage::from_file(&bytes).expect("apksigner's lineage");
    assert_eq!(lineage.nodes.len(), 2);
    let listed = dir
        .tool(
            "apksigner",
            &["lineage", "--in", "lineage", "--print-certs"],
        )
        .ok();
    for (i, node) in lineage.nodes.iter().enumerate() {
        let sha256 = node
            .certificate
            .fingerprints()
            .sha256
            .replace(':', "")
            .to_lowercase();
        let want = format!(
            "Signer #{} in lineage certificate SHA-256 digest: {sha256}",
            i + 1
        );
        assert!(listed.contains(&want), "{want}\n{listed}");
        assert_eq!(node.flags, DEFAULT_FLAGS);
    }
    // RSA signed the EC certificate with RSA PKCS#1 v1.5 SHA-256.
    assert_eq!(lineage.nodes[0].sig_alg, 0x0103);
    assert_eq!(lineage.nodes[1].parent_sig_alg, 0x0103);
    assert_eq!(lineage.to_file(), bytes);
}

#[test]
fn an_apk_apksigner_rotated_verifies_in_signet_line_for_line_with_its_lineage() {
    let dir = Dir::new();
    keystores(&dir);
    apksigner_rotate(&dir, "lineage", "rsa.p12", "ec.p12");
    let (old, new) = (sha256_of(&dir, "rsa.p12"), sha256_of(&dir, "ec.p12"));
    for min_sdk in [14u32, 24, 28, 33] {
        let unsigned = format!("u{min_sdk}.apk");
        let apk = format!("r{min_sdk}.apk");
        build_apk(&dir, &unsigned, min_sdk);
        dir.tool(
            "apksigner",
            &[
                "sign",
                "--lineage",
                "lineage",
                "--ks",
                "rsa.p12",
                "--ks-pass",
                "pass:android",
                "--next-signer",
                "--ks",
                "ec.p12",
                "--ks-pass",
                "pass:android",
                "--out",
                &apk,
                &unsigned,
            ],
        )
        .ok();
        let theirs = dir
            .tool("apksigner", &["verify", "-v", "--print-certs", &apk])
            .ok();
        let ours = dir
            .signet(&["apk", "verify", "-v", "--print-certs", &apk])
            .ok();
        assert_eq!(ours, theirs, "{apk}");
        assert!(ours.starts_with("Verifies\n"), "{ours}");
        // The signer shown is the newest key; below API 24 v1 (by the old key) was checked too.
        assert!(
            ours.contains(&format!("Signer #1 certificate SHA-256 digest: {new}\n")),
            "{ours}"
        );
        let v1 = if min_sdk < 24 { "true" } else { "false" };
        assert!(
            ours.contains(&format!("Verified using v1 scheme (JAR signing): {v1}\n")),
            "{ours}"
        );

        // The lineage, as `apksigner lineage --print-certs` prints it from the APK.
        for verbose in [false, true] {
            let mut theirs_args = vec!["lineage", "--in", &apk, "--print-certs"];
            let mut ours_args = vec!["apk", "lineage", &apk];
            if verbose {
                theirs_args.push("-v");
                ours_args.push("-v");
            }
            let theirs = dir.tool("apksigner", &theirs_args).ok();
            let ours = dir.signet(&ours_args).ok();
            assert_eq!(ours, theirs, "{apk} verbose={verbose}");
            assert!(
                ours.starts_with(&format!(
                    "Signer #1 in lineage certificate DN: CN=signet test, O=signet, C=US\n\
                     Signer #1 in lineage certificate SHA-256 digest: {old}\n"
                )),
                "{ours}"
            );
            assert!(
                ours.contains(&format!(
                    "Signer #2 in lineage certificate SHA-256 digest: {new}\n"
                )),
                "{ours}"
            );
        }
        let j = dir.signet(&["apk", "verify", "--json", &apk]).json();
        assert_eq!(j["verified"], true, "{j}");
        assert_eq!(j["lineage"].as_array().map(Vec::len), Some(2), "{j}");
        assert_eq!(j["lineage"][0]["capabilities"]["rollback"], false, "{j}");
    }
    // The lineage file reads the same in both, too.
    let theirs = dir
        .tool(
            "apksigner",
            &["lineage", "--in", "lineage", "--print-certs"],
        )
        .ok();
    assert_eq!(dir.signet(&["apk", "lineage", "lineage"]).ok(), theirs);
}

#[test]
fn lineage_of_an_apk_whose_key_never_rotated_is_refused_naming_why() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 24);
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "s.apk",
        "--ks",
        "ec.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    let err = dir.signet(&["apk", "lineage", "s.apk"]).fails_with(1);
    assert_eq!(
        err,
        "error: s.apk: the APK's v3 signature carries no signing certificate lineage (its key \
         was never rotated)\n"
    );
}

#[test]
fn signets_lineage_is_apksigners_and_apksigner_signs_with_it() {
    let dir = Dir::new();
    keystores(&dir);
    dir.write("old-pass", "android\n");
    let rotate = |out: &str, old: &str, new: &str, input: Option<&str>| {
        let mut args = vec![
            "apk",
            "rotate",
            "--out",
            out,
            "--old-ks",
            old,
            "--old-ks-pass",
            "file:old-pass",
            "--new-ks",
            new,
            "--new-ks-pass",
            "env:NEW_PASS",
        ];
        if let Some(input) = input {
            args.extend(["--in", input]);
        }
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signet"));
        let out = cmd
            .args(&args)
            .current_dir(dir.root())
            .env("NEW_PASS", "android")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    rotate("ours", "rsa.p12", "ec.p12", None);
    apksigner_rotate(&dir, "theirs", "rsa.p12", "ec.p12");
    // RSA PKCS#1 v1.5 signatures are deterministic: the files are the same, byte for byte.
    assert_eq!(dir.read("ours"), dir.read("theirs"));

    // Extended to a third key (ECDSA signs now, so the bytes differ; the listing may not).
    rotate("ours3", "ec.p12", "ec.jks", Some("ours"));
    let listed = dir
        .tool("apksigner", &["lineage", "--in", "ours3", "--print-certs"])
        .ok();
    for (i, ks) in ["rsa.p12", "ec.p12", "ec.jks"].iter().enumerate() {
        let want = format!(
            "Signer #{} in lineage certificate SHA-256 digest: {}\n",
            i + 1,
            sha256_of(&dir, ks)
        );
        assert!(listed.contains(&want), "{want}\n{listed}");
    }
    assert!(!listed.contains("Signer #4"), "{listed}");
    assert_eq!(dir.signet(&["apk", "lineage", "ours3"]).ok(), listed);

    // apksigner signs with signet's lineage (the oldest and newest keys) and verifies.
    build_apk(&dir, "u.apk", 21);
    dir.tool(
        "apksigner",
        &[
            "sign",
            "--lineage",
            "ours3",
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--next-signer",
            "--ks",
            "ec.jks",
            "--ks-pass",
            "pass:android",
            "--out",
            "s.apk",
            "u.apk",
        ],
    )
    .ok();
    let theirs = dir
        .tool("apksigner", &["verify", "-v", "--print-certs", "s.apk"])
        .ok();
    assert!(
        theirs.contains(&format!(
            "Signer #1 certificate SHA-256 digest: {}\n",
            sha256_of(&dir, "ec.jks")
        )),
        "{theirs}"
    );
    assert_eq!(
        dir.signet(&["apk", "verify", "-v", "--print-certs", "s.apk"])
            .ok(),
        theirs
    );
}

#[test]
fn rotate_refuses_an_old_key_that_is_not_the_lineages_newest() {
    let dir = Dir::new();
    keystores(&dir);
    apksigner_rotate(&dir, "lineage", "rsa.p12", "ec.p12");
    let err = dir
        .signet(&[
            "apk",
            "rotate",
            "--in",
            "lineage",
            "--out",
            "x",
            "--old-ks",
            "rsa.p12",
            "--old-ks-pass",
            "pass:android",
            "--new-ks",
            "ec.jks",
            "--new-ks-pass",
            "pass:android",
        ])
        .fails_with(1);
    assert_eq!(
        err,
        "error: lineage with --old-ks rsa.p12: the old signer is not the newest certificate \
         of the lineage\n"
    );
    assert!(!dir.exists("x"));
}

#[test]
fn an_apk_signet_rotated_verifies_in_apksigner_with_the_same_lines_and_lineage() {
    let dir = Dir::new();
    keystores(&dir);
    apksigner_rotate(&dir, "lineage", "rsa.p12", "ec.p12");
    let (old, new) = (sha256_of(&dir, "rsa.p12"), sha256_of(&dir, "ec.p12"));
    for min_sdk in [14u32, 24, 28, 33] {
        let unsigned = format!("u{min_sdk}.apk");
        let apk = format!("s{min_sdk}.apk");
        let idsig = format!("{apk}.idsig");
        build_apk(&dir, &unsigned, min_sdk);
        dir.signet(&[
            "apk",
            "sign",
            &unsigned,
            "--out",
            &apk,
            "--ks",
            "ec.p12",
            "--ks-pass",
            "pass:android",
            "--lineage",
            "lineage",
            "--old-ks",
            "rsa.p12",
            "--old-ks-pass",
            "pass:android",
            "--v4-signing-enabled",
            "true",
        ])
        .ok();
        for extra in [vec![], vec!["--v4-signature-file", idsig.as_str()]] {
            let mut args = vec!["-v", "--print-certs"];
            args.extend(&extra);
            args.push(&apk);
            let theirs = dir
                .tool("apksigner", &[&["verify"][..], &args].concat())
                .ok();
            let ours = dir.signet(&[&["apk", "verify"][..], &args].concat()).ok();
            assert_eq!(ours, theirs, "{apk} {extra:?}");
            assert!(
                theirs.contains(&format!("Signer #1 certificate SHA-256 digest: {new}\n")),
                "{theirs}"
            );
            let v4 = !extra.is_empty();
            assert!(
                theirs.contains(&format!(
                    "Verified using v4 scheme (APK Signature Scheme v4): {v4}\n"
                )),
                "{theirs}"
            );
        }
        // Below API 24 apksigner checks v1, and v2 below 28: both by the old key.
        let scheme =
            |n: u32, name: &str, on: bool| format!("Verified using v{n} scheme ({name}): {on}\n");
        let theirs = dir.tool("apksigner", &["verify", "-v", &apk]).ok();
        assert!(
            theirs.contains(&scheme(1, "JAR signing", min_sdk < 24)),
            "{theirs}"
        );
        assert!(
            theirs.contains(&scheme(2, "APK Signature Scheme v2", min_sdk < 28)),
            "{theirs}"
        );
        // The lineage apksigner reads from signet's APK is the one signed with.
        let theirs = dir
            .tool("apksigner", &["lineage", "--in", &apk, "--print-certs"])
            .ok();
        assert_eq!(dir.signet(&["apk", "lineage", &apk]).ok(), theirs);
        assert!(
            theirs.contains(&format!(
                "Signer #1 in lineage certificate SHA-256 digest: {old}\n"
            )) && theirs.contains(&format!(
                "Signer #2 in lineage certificate SHA-256 digest: {new}\n"
            )),
            "{theirs}"
        );
    }
    // The JAR signature block holds the old key's certificate (read by OpenSSL).
    let sh = |cmd: &str| {
        let out = std::process::Command::new("sh")
            .args(["-c", cmd])
            .current_dir(dir.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let fp = sh(
        "unzip -p s14.apk META-INF/UPLOAD.RSA | openssl pkcs7 -inform DER -print_certs \
         | openssl x509 -noout -fingerprint -sha256",
    );
    assert_eq!(
        fp.trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase(),
        old
    );
}

#[test]
fn sign_refuses_an_old_key_that_is_not_the_lineages_oldest() {
    let dir = Dir::new();
    keystores(&dir);
    apksigner_rotate(&dir, "lineage", "rsa.p12", "ec.p12");
    dir.signet(&[
        "apk",
        "rotate",
        "--in",
        "lineage",
        "--out",
        "lineage3",
        "--old-ks",
        "ec.p12",
        "--old-ks-pass",
        "pass:android",
        "--new-ks",
        "ec.jks",
        "--new-ks-pass",
        "pass:android",
    ])
    .ok();
    build_apk(&dir, "u.apk", 24);
    let sign = |old: &str, new: &str| {
        dir.signet(&[
            "apk",
            "sign",
            "u.apk",
            "--out",
            "s.apk",
            "--ks",
            new,
            "--ks-pass",
            "pass:android",
            "--lineage",
            "lineage3",
            "--old-ks",
            old,
            "--old-ks-pass",
            "pass:android",
        ])
        .fails_with(1)
    };
    assert_eq!(
        sign("ec.p12", "ec.jks"),
        "error: lineage3 with --ks ec.jks and --old-ks ec.p12: v1 and v2 are signed by the \
         lineage's oldest key, and the old key is certificate #2 of the lineage\n"
    );
    assert_eq!(
        sign("rsa.p12", "rsa.jks"),
        "error: lineage3 with --ks rsa.jks and --old-ks rsa.p12: the signing key is not in \
         the signing certificate lineage\n"
    );
    assert!(!dir.exists("s.apk"));
}
