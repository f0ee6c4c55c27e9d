//! `apk verify -v --print-certs` against `apksigner verify -v --print-certs`, line for line:
//! which schemes each reports for each min SDK, the certificate and key lines, and v4 with
//! `--v4-signature-file`.

use crate::{
    apk::{build_apk, keystores},
    util::Dir,
};

/// `signet apk verify` and `apksigner verify` with the same arguments.
fn both(dir: &Dir, extra: &[&str], apk: &str) -> (String, String) {
    let mut args = vec!["-v", "--print-certs"];
    args.extend_from_slice(extra);
    args.push(apk);
    let mut theirs = vec!["verify"];
    theirs.extend_from_slice(&args);
    let mut ours = vec!["apk", "verify"];
    ours.extend_from_slice(&args);
    (dir.tool("apksigner", &theirs).ok(), dir.signet(&ours).ok())
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"))
}

#[test]
fn verify_lines_equal_apksigners_for_min_sdk_14_24_28_33_with_and_without_idsig() {
    let dir = Dir::new();
    keystores(&dir);
    for min_sdk in [14u32, 24, 28, 33] {
        let unsigned = format!("u{min_sdk}.apk");
        build_apk(&dir, &unsigned, min_sdk);
        // ECDSA cannot sign a JAR for API 14, so RSA there.
        let keys: &[&str] = if min_sdk < 18 {
            &["rsa.p12"]
        } else {
            &["rsa.p12", "ec.jks"]
        };
        for ks in keys {
            let apk = format!("s{min_sdk}-{ks}.apk");
            let idsig = format!("{apk}.idsig");
            dir.signet(&[
                "apk",
                "sign",
                &unsigned,
                "--out",
                &apk,
                "--ks",
                ks,
                "--ks-pass",
                "pass:android",
                "--v4-signing-enabled",
                "true",
            ])
            .ok();
            assert!(dir.exists(&idsig));

            // Without the .idsig (beside the APK, it is not read by default: apksigner
            // does not either).
            let (theirs, ours) = both(&dir, &[], &apk);
            assert_eq!(ours, theirs, "{apk}");
            // Below API 28 v2 is checked; from 28 on apksigner skips it when v3 verifies.
            let v2 = if min_sdk < 28 { "true" } else { "false" };
            assert_eq!(
                line(&ours, "Verified using v2 scheme"),
                format!("Verified using v2 scheme (APK Signature Scheme v2): {v2}"),
                "{apk}"
            );
            let v1 = if min_sdk < 24 { "true" } else { "false" };
            assert_eq!(
                line(&ours, "Verified using v1 scheme"),
                format!("Verified using v1 scheme (JAR signing): {v1}"),
                "{apk}"
            );
            assert_eq!(
                line(&ours, "Verified using v4 scheme"),
                "Verified using v4 scheme (APK Signature Scheme v4): false"
            );
            assert!(
                ours.contains("Signer #1 public key SHA-256 digest: "),
                "{ours}"
            );

            // With it.
            let (theirs, ours) = both(&dir, &["--v4-signature-file", &idsig], &apk);
            assert_eq!(ours, theirs, "{apk} with {idsig}");
            assert_eq!(
                line(&ours, "Verified using v4 scheme"),
                "Verified using v4 scheme (APK Signature Scheme v4): true"
            );
        }
    }
}

#[test]
fn apksigners_idsig_verifies_with_signet() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 28);
    // apksigner writes <out>.idsig by default.
    dir.tool(
        "apksigner",
        &[
            "sign",
            "--ks",
            "ec.p12",
            "--ks-pass",
            "pass:android",
            "--out",
            "s.apk",
            "u.apk",
        ],
    )
    .ok();
    assert!(dir.exists("s.apk.idsig"));
    let (theirs, ours) = both(&dir, &["--v4-signature-file", "s.apk.idsig"], "s.apk");
    assert_eq!(ours, theirs);
    assert!(
        ours.contains("Verified using v4 scheme (APK Signature Scheme v4): true"),
        "{ours}"
    );
}

#[test]
fn json_reports_the_schemes_apksigner_does() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 28);
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "s.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
        "--v4-signing-enabled",
        "true",
    ])
    .ok();
    let j = dir
        .signet(&[
            "apk",
            "verify",
            "--json",
            "--v4-signature-file",
            "s.apk.idsig",
            "s.apk",
        ])
        .json();
    assert_eq!(j["verified"], true, "{j}");
    assert_eq!(j["v1"], false, "{j}");
    assert_eq!(j["v2"], false, "{j}");
    assert_eq!(j["v3"], true, "{j}");
    assert_eq!(j["v4"], true, "{j}");
    // The same APK verified for API 27 (a platform that reads v2): v2 checked and true.
    let j = dir
        .signet(&[
            "apk",
            "verify",
            "--json",
            "--min-sdk-version",
            "27",
            "s.apk",
        ])
        .json();
    assert_eq!(
        (j["v2"].clone(), j["v4"].clone()),
        (true.into(), false.into()),
        "{j}"
    );
}

#[test]
fn another_apks_or_a_changed_idsig_is_refused_by_both() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 24);
    for out in ["a.apk", "b.apk"] {
        dir.signet(&[
            "apk",
            "sign",
            "u.apk",
            "--out",
            out,
            "--ks",
            if out == "a.apk" { "rsa.p12" } else { "ec.p12" },
            "--ks-pass",
            "pass:android",
            "--v4-signing-enabled",
            "true",
        ])
        .ok();
    }
    // b's .idsig against a. apksigner does not count v4 (its v4
    // verifier files these failures on the signer, which its verdict does not read, so it
    // still says "Verifies"); signet refuses, naming the reason.
    let refuse = |idsig: &str, reason: &str| {
        let theirs = dir
            .tool(
                "apksigner",
                &["verify", "-v", "--v4-signature-file", idsig, "a.apk"],
            )
            .ok();
        assert!(
            theirs.contains("Verified using v4 scheme (APK Signature Scheme v4): false"),
            "{theirs}"
        );
        let ours = dir.signet(&["apk", "verify", "-v", "--v4-signature-file", idsig, "a.apk"]);
        assert_eq!(ours.code(), 3, "{}", ours.stdout());
        let out = ours.stdout();
        assert!(out.starts_with("DOES NOT VERIFY\n"), "{out}");
        assert!(out.contains(&format!("ERROR: {reason}\n")), "{out}");
        assert!(
            out.contains("Verified using v4 scheme (APK Signature Scheme v4): false"),
            "{out}"
        );
    };
    // Its signed data names b's size, so its ECDSA signature fails over a's.
    refuse(
        "b.apk.idsig",
        "V4 signature (0x0201) over signed-data did not verify",
    );
    // a's own .idsig with its last byte (in the Merkle tree) changed.
    let mut changed = dir.read("a.apk.idsig");
    let last = changed.len() - 1;
    changed[last] ^= 0x55;
    dir.write("changed.idsig", &changed);
    refuse("changed.idsig", "V4 signature's hash tree did not verify");
}
