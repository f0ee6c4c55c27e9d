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
