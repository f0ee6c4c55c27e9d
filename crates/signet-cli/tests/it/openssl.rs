//! Interoperability with OpenSSL: its PKCS#12 files (modern and `-legacy`), its
//! certificates, and its reading of ours.

use crate::util::Dir;

/// A key and self-signed certificate made by OpenSSL, bundled with `openssl pkcs12 -export`.
fn openssl_pkcs12(dir: &Dir, out: &str, legacy: bool) {
    dir.tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "400",
            "-subj",
            "/C=US/O=OpenSSL Made/CN=upload",
        ],
    )
    .ok();
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        "key.pem",
        "-in",
        "cert.pem",
        "-name",
        "upload",
        "-out",
        out,
        "-passout",
        "pass:ossl-pw",
    ];
    if legacy {
        args.push("-legacy");
    }
    dir.tool("openssl", &args).ok();
}

fn openssl_fingerprint(dir: &Dir, digest: &str) -> String {
    let out = dir
        .tool(
            "openssl",
            &[
                "x509",
                "-in",
                "cert.pem",
                "-noout",
                "-fingerprint",
                &format!("-{digest}"),
            ],
        )
        .ok();
    out.trim()
        .split_once('=')
        .expect("fingerprint line")
        .1
        .to_owned()
}

fn check_openssl_pkcs12(legacy: bool) {
    let dir = Dir::new();
    openssl_pkcs12(&dir, "o.p12", legacy);
    let v = dir
        .signet(&[
            "keystore",
            "inspect",
            "o.p12",
            "--store-pass",
            "pass:ossl-pw",
            "--json",
        ])
        .json();
    assert_eq!(v["type"], "pkcs12");
    let e = &v["entries"][0];
    assert_eq!(e["alias"], "upload");
    assert_eq!(e["entry_type"], "private-key");
    let c = &e["certificates"][0];
    assert_eq!(c["subject"], "CN=upload, O=OpenSSL Made, C=US");
    assert_eq!(c["fingerprints"]["md5"], openssl_fingerprint(&dir, "md5"));
    assert_eq!(c["fingerprints"]["sha1"], openssl_fingerprint(&dir, "sha1"));
    assert_eq!(
        c["fingerprints"]["sha256"],
        openssl_fingerprint(&dir, "sha256")
    );
    // A wrong password is refused, not mistaken for an empty keystore.
    let err = dir
        .signet(&["keystore", "inspect", "o.p12", "--store-pass", "pass:wrong"])
        .fails_with(1);
    assert!(err.contains("keystore password is incorrect"), "{err}");
}

#[test]
fn openssl_pkcs12_is_read() {
    check_openssl_pkcs12(false);
}

#[test]
fn openssl_legacy_pkcs12_is_read() {
    check_openssl_pkcs12(true);
}

#[test]
fn openssl_reads_signets_pkcs12_both_encryptions() {
    let dir = Dir::new();
    for (file, legacy) in [("modern.p12", false), ("legacy.p12", true)] {
        let mut args = vec![
            "keystore",
            "generate",
            "--out",
            file,
            "--alias",
            "k",
            "--store-pass",
            "pass:pw-4567",
        ];
        if legacy {
            args.push("--legacy-pkcs12");
        }
        dir.signet(&args).ok();
        // No -legacy flag: OpenSSL 3 must read the legacy file with its default provider
        // (3DES is there; RC2 and RC4 are not).
        let out = dir
            .tool(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    file,
                    "-passin",
                    "pass:pw-4567",
                    "-nodes",
                    "-info",
                ],
            )
            .ok();
        assert!(out.contains("BEGIN CERTIFICATE"), "{file}: {out}");
        assert!(out.contains("BEGIN PRIVATE KEY"), "{file}: {out}");
        assert!(out.contains("friendlyName: k"), "{file}: {out}");
        let info = dir
            .tool(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    file,
                    "-passin",
                    "pass:pw-4567",
                    "-noout",
                    "-info",
                ],
            )
            .stderr();
        if legacy {
            assert!(info.contains("MAC: sha1"), "{info}");
            assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
        } else {
            assert!(info.contains("MAC: sha256"), "{info}");
            assert!(info.contains("AES-256-CBC"), "{info}");
        }
    }
}

#[test]
fn inspect_detects_pem_and_der_certificates() {
    let dir = Dir::new();
    openssl_pkcs12(&dir, "o.p12", false);
    dir.tool(
        "openssl",
        &[
            "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
        ],
    )
    .ok();
    for file in ["cert.pem", "cert.der"] {
        let v = dir.signet(&["inspect", file, "--json"]).json();
        assert_eq!(
            v["certificates"][0]["fingerprints"]["sha256"],
            openssl_fingerprint(&dir, "sha256"),
            "{file}"
        );
    }
    let v = dir
        .signet(&["inspect", "o.p12", "--pass", "pass:ossl-pw", "--json"])
        .json();
    assert_eq!(v["type"], "pkcs12");
    let human = dir.signet(&["inspect", "cert.pem"]).ok();
    assert!(human.contains("Owner:"), "{human}");
    assert!(human.contains("CN=upload, O=OpenSSL Made, C=US"), "{human}");
}
