//! Apple credentials: APNs provider tokens verified by OpenSSL.

use base64::Engine as _;

use crate::util::Dir;

/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from JOSE's r || s.
fn jose_to_der(sig: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let b: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
        let mut v = if b.first().is_some_and(|&x| x & 0x80 != 0) {
            vec![0]
        } else {
            vec![]
        };
        v.extend(b);
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let mut body = int(&sig[..32]);
    body.extend(int(&sig[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn apns_token_verifies_with_openssl() {
    let dir = Dir::new();
    // A key made the way Apple's are: PKCS#8 PEM, EC P-256.
    dir.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "AuthKey_ABC123DEFG.p8",
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "pkey",
            "-in",
            "AuthKey_ABC123DEFG.p8",
            "-pubout",
            "-out",
            "pub.pem",
        ],
    )
    .ok();
    let v = dir
        .signet(&[
            "ios",
            "apns-token",
            "--push-key",
            "AuthKey_ABC123DEFG.p8",
            "--team-id",
            "TEAM123456",
            "--iat",
            "1700000000",
            "--json",
        ])
        .json();
    let token = v["token"].as_str().unwrap();
    assert_eq!(v["key_id"], "ABC123DEFG", "key id taken from the file name");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        header,
        serde_json::json!({"alg": "ES256", "kid": "ABC123DEFG"})
    );
    assert_eq!(
        claims,
        serde_json::json!({"iss": "TEAM123456", "iat": 1_700_000_000})
    );

    dir.write("input.txt", format!("{}.{}", parts[0], parts[1]));
    dir.write("sig.der", jose_to_der(&b64.decode(parts[2]).unwrap()));
    let out = dir
        .tool(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.der",
                "input.txt",
            ],
        )
        .ok();
    assert!(out.contains("Verified OK"), "{out}");

    // A tampered claim does not verify.
    dir.write("input2.txt", format!("{}.{}x", parts[0], parts[1]));
    let bad = dir.tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            "pub.pem",
            "-signature",
            "sig.der",
            "input2.txt",
        ],
    );
    assert_ne!(bad.code(), 0);
}

#[test]
fn apns_token_refuses_bad_keys_and_ids() {
    let dir = Dir::new();
    dir.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-out",
            "AuthKey_ABC123DEFG.p8",
        ],
    )
    .ok();
    let err = dir
        .signet(&[
            "ios",
            "apns-token",
            "--push-key",
            "AuthKey_ABC123DEFG.p8",
            "--team-id",
            "TEAM123456",
        ])
        .fails_with(1);
    assert!(err.contains("EC P-256"), "{err}");
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    dir.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "key.p8",
        ],
    )
    .ok();
    let err = dir
        .signet(&[
            "ios",
            "apns-token",
            "--push-key",
            "key.p8",
            "--team-id",
            "TEAM123456",
        ])
        .fails_with(2);
    assert!(err.contains("--key-id"), "{err}");
    let err = dir
        .signet(&[
            "ios",
            "apns-token",
            "--push-key",
            "key.p8",
            "--key-id",
            "ABC123DEFG",
            "--team-id",
            "nope",
        ])
        .fails_with(2);
    assert!(err.contains("team id"), "{err}");
}

/// An Apple-like distribution identity made with OpenSSL: a CA, then a leaf with Apple's
/// distribution extension OID and the team id in OU, exported as .p12.
fn apple_identity(dir: &Dir, legacy: bool, out: &str) {
    dir.write(
        "ext.cnf",
        "[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=critical,codeSigning\n1.2.840.113635.100.6.1.4=critical,DER:0500\n",
    );
    dir.tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=Test Apple Worldwide Developer Relations CA/O=Test Apple/C=US",
        ],
    )
    .ok();
    dir.tool("openssl", &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "dist.key", "-out", "dist.csr", "-subj", "/UID=A1B2C3D4E5/CN=Apple Distribution: Acme Inc (A1B2C3D4E5)/OU=A1B2C3D4E5/O=Acme Inc/C=US"]).ok();
    dir.tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "dist.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "dist.pem",
            "-days",
            "365",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "ext",
        ],
    )
    .ok();
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        "dist.key",
        "-in",
        "dist.pem",
        "-certfile",
        "ca.pem",
        "-name",
        "Apple Distribution: Acme Inc (A1B2C3D4E5)",
        "-out",
        out,
        "-passout",
        "pass:p12-pass",
    ];
    if legacy {
        args.push("-legacy");
    }
    dir.tool("openssl", &args).ok();
}

#[test]
fn apple_p12_identities_modern_and_legacy_are_inspected() {
    let dir = Dir::new();
    for (legacy, file) in [(false, "modern.p12"), (true, "legacy.p12")] {
        apple_identity(&dir, legacy, file);
        let v = dir
            .signet(&["inspect", file, "--pass", "pass:p12-pass", "--json"])
            .json();
        let leaf = &v["entries"][0]["certificates"][0];
        assert_eq!(leaf["apple"]["kind"], "distribution", "{file}: {leaf}");
        assert_eq!(leaf["apple"]["team_id"], "A1B2C3D4E5", "{file}");
        assert_eq!(
            leaf["apple"]["name"], "Apple Distribution: Acme Inc (A1B2C3D4E5)",
            "{file}"
        );
        assert_eq!(
            v["entries"][0]["certificates"].as_array().unwrap().len(),
            2,
            "chain kept: {file}"
        );
        let sha1 = dir
            .tool(
                "openssl",
                &["x509", "-in", "dist.pem", "-noout", "-fingerprint", "-sha1"],
            )
            .ok();
        assert_eq!(
            leaf["fingerprints"]["sha1"],
            sha1.trim().split_once('=').unwrap().1,
            "{file}"
        );
        let human = dir
            .signet(&["inspect", file, "--pass", "pass:p12-pass"])
            .ok();
        assert!(
            human.contains("Apple certificate:") && human.contains("distribution"),
            "{human}"
        );
    }
}

/// A profile property list allowing `cert_pem`'s certificate.
fn profile_plist(
    dir: &Dir,
    cert_pem: &str,
    name: &str,
    devices: bool,
    get_task_allow: bool,
    all_devices: bool,
) -> String {
    let pem = String::from_utf8(dir.read(cert_pem)).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let devices_xml = if devices {
        "<key>ProvisionedDevices</key><array><string>00008101-000A1B2C3D4E5F60</string><string>00008030-001122334455667A</string></array>"
    } else {
        ""
    };
    let all = if all_devices {
        "<key>ProvisionsAllDevices</key><true/>"
    } else {
        ""
    };
    let gta = if get_task_allow {
        "<true/>"
    } else {
        "<false/>"
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>AppIDName</key><string>Acme</string>
<key>ApplicationIdentifierPrefix</key><array><string>A1B2C3D4E5</string></array>
<key>CreationDate</key><date>2026-01-01T00:00:00Z</date>
<key>DeveloperCertificates</key><array><data>{b64}</data></array>
<key>Entitlements</key><dict>
  <key>application-identifier</key><string>A1B2C3D4E5.com.acme.*</string>
  <key>com.apple.developer.team-identifier</key><string>A1B2C3D4E5</string>
  <key>get-task-allow</key>{gta}
  <key>aps-environment</key><string>production</string>
  <key>keychain-access-groups</key><array><string>A1B2C3D4E5.*</string></array>
</dict>
<key>ExpirationDate</key><date>2099-01-01T00:00:00Z</date>
<key>Name</key><string>{name}</string>
{devices_xml}{all}
<key>TeamIdentifier</key><array><string>A1B2C3D4E5</string></array>
<key>TeamName</key><string>Acme Inc</string>
<key>UUID</key><string>7d5c3e1a-1111-4a4a-9b9b-0123456789ab</string>
<key>Version</key><integer>1</integer>
</dict></plist>"#
    )
}

/// Signs a plist as a provisioning profile with the test CA's signer (DER, or BER with -stream).
fn sign_profile(dir: &Dir, plist: &str, out: &str, ber: bool) {
    dir.write("profile.plist", plist);
    if !dir.exists("signer.pem") {
        dir.tool(
            "openssl",
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "signer.key",
                "-out",
                "signer.csr",
                "-subj",
                "/CN=Test Provisioning Profile Signing/O=Test Apple/C=US",
            ],
        )
        .ok();
        dir.tool(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                "signer.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "signer.pem",
                "-days",
                "365",
            ],
        )
        .ok();
    }
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-signer",
        "signer.pem",
        "-inkey",
        "signer.key",
        "-certfile",
        "ca.pem",
        "-in",
        "profile.plist",
        "-out",
        out,
    ];
    if ber {
        args.push("-stream");
    }
    dir.tool("openssl", &args).ok();
}

#[test]
fn provisioning_profiles_der_and_ber_are_read() {
    let dir = Dir::new();
    apple_identity(&dir, false, "dist.p12");
    let sha1 = dir
        .tool(
            "openssl",
            &["x509", "-in", "dist.pem", "-noout", "-fingerprint", "-sha1"],
        )
        .ok();
    let sha1 = sha1.trim().split_once('=').unwrap().1.to_owned();
    for (file, ber) in [
        ("der.mobileprovision", false),
        ("ber.mobileprovision", true),
    ] {
        sign_profile(
            &dir,
            &profile_plist(&dir, "dist.pem", "Acme App Store", false, false, false),
            file,
            ber,
        );
        if ber {
            // -stream really produced indefinite lengths.
            assert_eq!(dir.read(file)[1], 0x80, "{file} is not BER");
        }
        let v = dir.signet(&["inspect", file, "--json"]).json();
        let p = &v["profile"];
        assert_eq!(p["kind"], "app-store", "{file}");
        assert_eq!(p["name"], "Acme App Store");
        assert_eq!(p["team_id"], "A1B2C3D4E5");
        assert_eq!(p["team_name"], "Acme Inc");
        assert_eq!(p["bundle_id"], "com.acme.*");
        assert_eq!(p["uuid"], "7d5c3e1a-1111-4a4a-9b9b-0123456789ab");
        assert_eq!(p["expires"], "2099-01-01T00:00:00Z");
        assert_eq!(p["entitlements"]["aps-environment"], "production");
        assert_eq!(p["certificates"][0]["sha1"], sha1.as_str());
        assert_eq!(p["signature_valid"], true, "{file}");
        assert_eq!(p["apple_signed"], false, "a test CA is not Apple");
        assert!(
            v["warnings"].to_string().contains("not signed by Apple"),
            "{v}"
        );
    }

    // A profile changed after signing keeps parsing but its signature is invalid.
    let mut b = dir.read("der.mobileprovision");
    let at = b.windows(14).position(|w| w == b"Acme App Store").unwrap();
    b[at + 12] = b'x';
    dir.write("tampered.mobileprovision", b);
    let v = dir
        .signet(&["inspect", "tampered.mobileprovision", "--json"])
        .json();
    assert_eq!(v["profile"]["signature_valid"], false);
    assert!(
        v["warnings"].to_string().contains("modified after signing"),
        "{v}"
    );

    // Kinds by TN3125's rules.
    for (devices, gta, all, kind) in [
        (true, false, false, "ad-hoc"),
        (true, true, false, "development"),
        (false, false, true, "enterprise"),
    ] {
        sign_profile(
            &dir,
            &profile_plist(&dir, "dist.pem", "k", devices, gta, all),
            "k.mobileprovision",
            false,
        );
        let v = dir
            .signet(&["inspect", "k.mobileprovision", "--json"])
            .json();
        assert_eq!(v["profile"]["kind"], kind);
        if devices {
            assert_eq!(v["profile"]["devices"].as_array().unwrap().len(), 2);
        }
    }
    // Human output names the essentials.
    let human = dir.signet(&["inspect", "der.mobileprovision"]).ok();
    assert!(
        human.contains("Kind:") && human.contains("app-store"),
        "{human}"
    );
}
