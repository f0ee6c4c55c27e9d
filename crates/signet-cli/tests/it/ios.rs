//! Apple credentials: APNs provider tokens verified by OpenSSL.

use base64::Engine as _;
use signet_sign::ipa::IpaFinding;

use crate::util::Dir;

/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from JOSE's r || s.
pub(crate) fn jose_to_der(sig: &[u8]) -> Vec<u8> {
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

/// An APNs key made the way Apple's are: PKCS#8 PEM, EC P-256.
pub(crate) fn apns_key(dir: &Dir, name: &str) {
    dir.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            name,
        ],
    )
    .ok();
}

#[test]
fn apns_token_verifies_with_openssl() {
    let dir = Dir::new();
    // A key made the way Apple's are: PKCS#8 PEM, EC P-256.
    apns_key(&dir, "AuthKey_ABC123DEFG.p8");
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
    apns_key(&dir, "key.p8");
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
pub(crate) fn apple_identity(dir: &Dir, legacy: bool, out: &str) {
    apple_identity_of(dir, legacy, out, "dist", "Apple Distribution", "4");
}

/// An identity named `stem` ("dist" gives dist.key, dist.pem) with the given CN prefix and
/// Apple extension OID leaf (4: iPhone Distribution, 12: Apple Development).
pub(crate) fn apple_identity_of(
    dir: &Dir,
    legacy: bool,
    out: &str,
    stem: &str,
    cn: &str,
    oid_leaf: &str,
) {
    dir.write(
        "ext.cnf",
        format!(
            "[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=critical,codeSigning\n1.2.840.113635.100.6.1.{oid_leaf}=critical,DER:0500\n"
        ),
    );
    if !dir.exists("ca.pem") {
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
    }
    let (key, csr, pem) = (
        format!("{stem}.key"),
        format!("{stem}.csr"),
        format!("{stem}.pem"),
    );
    let subject =
        format!("/UID=A1B2C3D4E5/CN={cn}: Acme Inc (A1B2C3D4E5)/OU=A1B2C3D4E5/O=Acme Inc/C=US");
    dir.tool(
        "openssl",
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj",
            &subject,
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "365",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "ext",
        ],
    )
    .ok();
    let name = format!("{cn}: Acme Inc (A1B2C3D4E5)");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        &key,
        "-in",
        &pem,
        "-certfile",
        "ca.pem",
        "-name",
        &name,
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

/// A profile plist with every field the checks look at under control.
/// "Apple" issues a distribution certificate for `csr`: a test CA with Apple's
/// distribution OID, written as DER to `cer`, as Apple's portal returns it.
pub(crate) fn apple_issues_cer(dir: &Dir, csr: &str, cer: &str) {
    dir.write(
        "ext.cnf",
        "[ext]\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,codeSigning\n1.2.840.113635.100.6.1.4=critical,DER:0500\n",
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
            "30",
            "-subj",
            "/CN=Test WWDR",
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            cer,
            "-outform",
            "DER",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "ext",
            "-subj",
            "/UID=A1B2C3D4E5/CN=iPhone Distribution: Acme (A1B2C3D4E5)/OU=A1B2C3D4E5/C=US",
        ],
    )
    .ok();
}

pub(crate) struct ProfileSpec<'a> {
    pub(crate) cert_pem: &'a str,
    pub(crate) team: &'a str,
    pub(crate) app_id: &'a str,
    pub(crate) expires: &'a str,
    pub(crate) devices: bool,
    pub(crate) get_task_allow: bool,
    pub(crate) aps: bool,
}

pub(crate) fn profile_from(dir: &Dir, spec: &ProfileSpec<'_>, out: &str) {
    let pem = String::from_utf8(dir.read(spec.cert_pem)).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let devices = if spec.devices {
        "<key>ProvisionedDevices</key><array><string>00008101-000A1B2C3D4E5F60</string></array>"
    } else {
        ""
    };
    let gta = if spec.get_task_allow {
        "<true/>"
    } else {
        "<false/>"
    };
    let aps = if spec.aps {
        "<key>aps-environment</key><string>production</string>"
    } else {
        ""
    };
    let plist = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>CreationDate</key><date>2020-01-01T00:00:00Z</date>
<key>DeveloperCertificates</key><array><data>{b64}</data></array>
<key>Entitlements</key><dict>
  <key>application-identifier</key><string>{team}.{app_id}</string>
  <key>get-task-allow</key>{gta}{aps}
</dict>
<key>ExpirationDate</key><date>{expires}</date>
<key>Name</key><string>check</string>{devices}
<key>TeamIdentifier</key><array><string>{team}</string></array>
<key>TeamName</key><string>Acme Inc</string>
<key>UUID</key><string>5a5a5a5a-0000-4000-8000-000000000000</string>
</dict></plist>"#,
        team = spec.team,
        app_id = spec.app_id,
        expires = spec.expires,
    );
    sign_profile(dir, &plist, out, false);
}

fn check_statuses(dir: &Dir, args: &[&str]) -> (i32, serde_json::Value) {
    let mut full = vec!["ios", "check", "--json"];
    full.extend_from_slice(args);
    let run = dir.signet(&full);
    let v: serde_json::Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout(), run.stderr()));
    (run.code(), v)
}

fn status_of(v: &serde_json::Value, check: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .map_or_else(
            || panic!("no check {check} in {v}"),
            |c| c["status"].as_str().unwrap().to_owned(),
        )
}

#[test]
fn ios_check_passes_and_fails_each_rule() {
    let dir = Dir::new();
    apple_identity_of(&dir, false, "dist.p12", "dist", "Apple Distribution", "4");
    apple_identity_of(&dir, true, "dev.p12", "dev", "Apple Development", "12");
    apns_key(&dir, "AuthKey_ABC123DEFG.p8");
    let good = ProfileSpec {
        cert_pem: "dist.pem",
        team: "A1B2C3D4E5",
        app_id: "com.acme.*",
        expires: "2099-01-01T00:00:00Z",
        devices: false,
        get_task_allow: false,
        aps: true,
    };
    profile_from(&dir, &good, "good.mobileprovision");
    let base = [
        "--p12",
        "dist.p12",
        "--p12-pass",
        "pass:p12-pass",
        "--profile",
        "good.mobileprovision",
        "--bundle-id",
        "com.acme.app",
        "--distribution",
        "app-store",
        "--push-key",
        "AuthKey_ABC123DEFG.p8",
        "--team-id",
        "A1B2C3D4E5",
    ];

    // Everything right: exit 0, every rule passes (the test CA is not Apple: a warning).
    let (code, v) = check_statuses(&dir, &base);
    assert_eq!(code, 0, "{v}");
    for check in [
        "identity",
        "certificate-kind",
        "certificate-expiry",
        "profile-signature",
        "profile-expiry",
        "profile-allows-certificate",
        "bundle-id",
        "profile-kind",
        "team",
        "push-key",
        "push-key-team",
        "aps-environment",
    ] {
        assert_eq!(status_of(&v, check), "pass", "{check}: {v}");
    }
    assert_eq!(status_of(&v, "profile-signer"), "warn");

    // Each rule broken on its own: exit 3 and that rule fails.
    let with = |overrides: &[(&str, &str)]| -> Vec<String> {
        let mut args: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
        for (flag, value) in overrides {
            let i = args.iter().position(|a| a == flag).unwrap();
            args[i + 1] = (*value).to_owned();
        }
        args
    };
    let mut cases: Vec<(&str, Vec<String>)> = Vec::new();
    cases.push(("certificate-kind", with(&[("--p12", "dev.p12")])));
    cases.push(("bundle-id", with(&[("--bundle-id", "com.other.app")])));
    cases.push(("push-key-team", with(&[("--team-id", "Z9Y8X7W6V5")])));
    profile_from(
        &dir,
        &ProfileSpec {
            cert_pem: "dev.pem",
            ..good
        },
        "other-cert.mobileprovision",
    );
    cases.push((
        "profile-allows-certificate",
        with(&[("--profile", "other-cert.mobileprovision")]),
    ));
    profile_from(
        &dir,
        &ProfileSpec {
            expires: "2021-01-01T00:00:00Z",
            ..good
        },
        "expired.mobileprovision",
    );
    cases.push((
        "profile-expiry",
        with(&[("--profile", "expired.mobileprovision")]),
    ));
    profile_from(
        &dir,
        &ProfileSpec {
            devices: true,
            ..good
        },
        "adhoc.mobileprovision",
    );
    cases.push((
        "profile-kind",
        with(&[("--profile", "adhoc.mobileprovision")]),
    ));
    profile_from(
        &dir,
        &ProfileSpec {
            team: "Z9Y8X7W6V5",
            ..good
        },
        "team.mobileprovision",
    );
    cases.push(("team", with(&[("--profile", "team.mobileprovision")])));
    profile_from(
        &dir,
        &ProfileSpec { aps: false, ..good },
        "noaps.mobileprovision",
    );
    cases.push((
        "aps-environment",
        with(&[("--profile", "noaps.mobileprovision")]),
    ));
    let mut tampered = dir.read("good.mobileprovision");
    let at = tampered.windows(5).position(|w| w == b"check").unwrap();
    tampered[at] = b'C';
    dir.write("tampered.mobileprovision", tampered);
    cases.push((
        "profile-signature",
        with(&[("--profile", "tampered.mobileprovision")]),
    ));

    for (rule, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, v) = check_statuses(&dir, &args);
        assert_eq!(code, 3, "{rule}: {v}");
        assert_eq!(status_of(&v, rule), "fail", "{rule}: {v}");
        assert_eq!(v["ok"], false);
    }

    // An expired certificate fails.
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
            "old.pem",
            "-days",
            "-1",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "ext",
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "dist.key",
            "-in",
            "old.pem",
            "-out",
            "old.p12",
            "-passout",
            "pass:p12-pass",
        ],
    )
    .ok();
    let (code, v) = check_statuses(&dir, &["--p12", "old.p12", "--p12-pass", "pass:p12-pass"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(status_of(&v, "certificate-expiry"), "fail");

    // The development certificate is right for a development profile.
    profile_from(
        &dir,
        &ProfileSpec {
            cert_pem: "dev.pem",
            devices: true,
            get_task_allow: true,
            ..good
        },
        "dev.mobileprovision",
    );
    let (code, v) = check_statuses(
        &dir,
        &[
            "--p12",
            "dev.p12",
            "--p12-pass",
            "pass:p12-pass",
            "--profile",
            "dev.mobileprovision",
            "--distribution",
            "development",
            "--bundle-id",
            "com.acme.app",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(status_of(&v, "profile-kind"), "pass");
    // The human form: one line per check, Apple's wording for the classic mistake.
    let out = dir.signet(&[
        "ios",
        "check",
        "--p12",
        "dev.p12",
        "--p12-pass",
        "pass:p12-pass",
        "--distribution",
        "app-store",
    ]);
    assert_eq!(out.code(), 3);
    assert!(
        out.stdout()
            .contains("Application failed codesign verification"),
        "{}",
        out.stdout()
    );
}

#[test]
fn csr_then_p12_round_trip_through_openssl_and_keytool() {
    let dir = Dir::new();
    dir.signet(&[
        "ios",
        "csr",
        "--key-out",
        "ios.key",
        "--csr-out",
        "ios.csr",
        "--common-name",
        "Jane Doe",
        "--email",
        "jane@acme.example",
    ])
    .ok();
    // OpenSSL checks the request's self-signature and reads the subject Apple asks for.
    let text = dir
        .tool(
            "openssl",
            &["req", "-in", "ios.csr", "-noout", "-verify", "-subject"],
        )
        .ok();
    let all = format!(
        "{text}{}",
        dir.tool("openssl", &["req", "-in", "ios.csr", "-noout", "-verify"])
            .stderr()
    );
    assert!(
        all.contains("verify OK") || all.contains("Certificate request self-signature verify OK"),
        "{all}"
    );
    assert!(
        text.contains("CN = Jane Doe")
            && text.contains("jane@acme.example")
            && text.contains("C = US"),
        "{text}"
    );
    let key_pub = dir
        .tool("openssl", &["pkey", "-in", "ios.key", "-pubout"])
        .ok();
    let csr_pub = dir
        .tool("openssl", &["req", "-in", "ios.csr", "-noout", "-pubkey"])
        .ok();
    assert_eq!(key_pub, csr_pub, "request is for the written key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(dir.path("ios.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    apple_issues_cer(&dir, "ios.csr", "dist.cer");

    // Legacy by default: OpenSSL 3 reads it without -legacy, and keytool too.
    dir.signet(&[
        "ios",
        "p12",
        "--key",
        "ios.key",
        "--cer",
        "dist.cer",
        "--out",
        "legacy.p12",
        "--pass",
        "pass:p12-pass",
    ])
    .ok();
    let info = dir
        .tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "legacy.p12",
                "-passin",
                "pass:p12-pass",
                "-noout",
                "-info",
            ],
        )
        .stderr();
    assert!(
        info.contains("pbeWithSHA1And3-KeyTripleDES-CBC") && info.contains("MAC: sha1"),
        "{info}"
    );
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-keystore",
                "legacy.p12",
                "-storetype",
                "PKCS12",
                "-storepass",
                "p12-pass",
            ],
        )
        .ok();
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");
    let v = dir
        .signet(&["inspect", "legacy.p12", "--pass", "pass:p12-pass", "--json"])
        .json();
    assert_eq!(
        v["entries"][0]["certificates"][0]["apple"]["kind"],
        "distribution"
    );

    dir.signet(&[
        "ios",
        "p12",
        "--key",
        "ios.key",
        "--cer",
        "dist.cer",
        "--out",
        "modern.p12",
        "--pass",
        "pass:p12-pass",
        "--modern",
    ])
    .ok();
    let info = dir
        .tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "modern.p12",
                "-passin",
                "pass:p12-pass",
                "-noout",
                "-info",
            ],
        )
        .stderr();
    assert!(
        info.contains("AES-256-CBC") && info.contains("MAC: sha256"),
        "{info}"
    );

    // A certificate for another key is refused, and nothing is written.
    dir.tool(
        "openssl",
        &["genpkey", "-algorithm", "RSA", "-out", "other.key"],
    )
    .ok();
    let err = dir
        .signet(&[
            "ios",
            "p12",
            "--key",
            "other.key",
            "--cer",
            "dist.cer",
            "--out",
            "wrong.p12",
            "--pass",
            "pass:x",
        ])
        .fails_with(1);
    assert!(err.contains("was not issued for the key"), "{err}");
    assert!(!dir.exists("wrong.p12"));
}

/// The arm64 Mach-O `scripts/test` fetches (esbuild's darwin-arm64 build from npm).
fn macho_arm64() -> Vec<u8> {
    let path = std::env::var("SIGNET_TEST_MACHO_ARM64").expect(
        "SIGNET_TEST_MACHO_ARM64 is not set: run scripts/test, which fetches an arm64 Mach-O",
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An unsigned IPA: an app with a resource, a symlink and a nested framework.
pub(crate) fn build_ipa(dir: &Dir, out: &str) {
    let exe = macho_arm64();
    let app = dir.path("ipa-src/Payload/Demo.app");
    std::fs::create_dir_all(app.join("Frameworks/Kit.framework")).unwrap();
    std::fs::create_dir_all(app.join("res")).unwrap();
    std::fs::write(app.join("Demo"), &exe).unwrap();
    std::fs::write(app.join("Frameworks/Kit.framework/Kit"), &exe).unwrap();
    let info = |id: &str, exe: &str, ty: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleIdentifier</key><string>{id}</string><key>CFBundleExecutable</key><string>{exe}</string><key>CFBundlePackageType</key><string>{ty}</string><key>CFBundleVersion</key><string>1</string></dict></plist>"#
        )
    };
    std::fs::write(app.join("Info.plist"), info("com.acme.app", "Demo", "APPL")).unwrap();
    std::fs::write(
        app.join("Frameworks/Kit.framework/Info.plist"),
        info("com.acme.kit", "Kit", "FMWK"),
    )
    .unwrap();
    std::fs::write(app.join("res/strings.txt"), "hello\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(app.join("Demo"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("res/strings.txt", app.join("link.txt")).unwrap();
    }
    let ipa = dir.path(out).display().to_string();
    let z = std::process::Command::new("zip")
        .args(["-qry", &ipa, "Payload"])
        .current_dir(dir.path("ipa-src"))
        .output()
        .unwrap();
    assert!(z.status.success());
}

/// Re-zips `ipa` after `change` edited its unpacked Payload.
fn rezip(dir: &Dir, ipa: &str, out: &str, change: impl Fn(&std::path::Path)) {
    let work = dir.path(&format!("{out}-work"));
    std::fs::create_dir_all(&work).unwrap();
    let src = dir.path(ipa).display().to_string();
    let u = std::process::Command::new("unzip")
        .args(["-q", &src])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(u.status.success());
    change(&work.join("Payload/Demo.app"));
    let dst = dir.path(out).display().to_string();
    let z = std::process::Command::new("zip")
        .args(["-qry", &dst, "Payload"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(z.status.success());
}

/// The findings of signet's IPA verifier (the library under `ipa verify`) for `ipa`.
fn ipa_findings(dir: &Dir, ipa: &str) -> Vec<IpaFinding> {
    let report = signet_sign::ipa::verify(&dir.path(ipa)).expect("a readable IPA");
    assert!(!report.verified, "{ipa} verified");
    report.errors
}

#[test]
fn ipa_sign_and_verify() {
    let dir = Dir::new();
    apple_identity(&dir, false, "dist.p12");
    let good = ProfileSpec {
        cert_pem: "dist.pem",
        team: "A1B2C3D4E5",
        app_id: "com.acme.*",
        expires: "2099-01-01T00:00:00Z",
        devices: false,
        get_task_allow: false,
        aps: true,
    };
    profile_from(&dir, &good, "app.mobileprovision");
    build_ipa(&dir, "in.ipa");

    let v = dir
        .signet(&[
            "ipa",
            "sign",
            "in.ipa",
            "--out",
            "signed.ipa",
            "--p12",
            "dist.p12",
            "--p12-pass",
            "pass:p12-pass",
            "--profile",
            "app.mobileprovision",
            "--json",
        ])
        .json();
    assert_eq!(v["bundle_id"], "com.acme.app");
    assert_eq!(v["distribution"], "app-store");

    let out = dir.signet(&["ipa", "verify", "signed.ipa"]).ok();
    assert!(out.starts_with("Verifies"), "{out}");
    assert!(
        out.contains("Payload/Demo.app/Frameworks/Kit.framework"),
        "nested bundle checked: {out}"
    );
    assert!(
        out.contains("Apple Distribution: Acme Inc (A1B2C3D4E5)"),
        "{out}"
    );

    // The profile is embedded; the symlink and the executable bit survive.
    let listing = dir.tool("unzip", &["-Z", "signed.ipa"]).ok();
    assert!(
        listing.contains("Payload/Demo.app/embedded.mobileprovision"),
        "{listing}"
    );
    assert!(
        listing.contains("Payload/Demo.app/_CodeSignature/CodeResources"),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("lrwx") && l.ends_with("Payload/Demo.app/link.txt")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("Payload/Demo.app/Demo")),
        "{listing}"
    );

    // Signed entitlements come from the profile, with the app id made concrete.
    rezip(&dir, "signed.ipa", "copy.ipa", |_| {});
    let text =
        String::from_utf8_lossy(&dir.read("copy.ipa-work/Payload/Demo.app/Demo")).into_owned();
    assert!(
        text.contains("A1B2C3D4E5.com.acme.app"),
        "entitlements not embedded"
    );
    assert!(text.contains("aps-environment"));

    // A changed resource or executable fails verification.
    rezip(&dir, "signed.ipa", "res.ipa", |app| {
        std::fs::write(app.join("res/strings.txt"), "changed\n").unwrap();
    });
    let run = dir.signet(&["ipa", "verify", "res.ipa"]);
    assert_eq!(run.code(), 3);
    assert!(
        run.stdout()
            .contains("res/strings.txt was modified after signing"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        ipa_findings(&dir, "res.ipa"),
        [IpaFinding::ResourceModified {
            bundle: "Payload/Demo.app".into(),
            file: "res/strings.txt".into()
        }]
    );
    rezip(&dir, "signed.ipa", "exe.ipa", |app| {
        let mut b = std::fs::read(app.join("Demo")).unwrap();
        b[5000] ^= 1;
        std::fs::write(app.join("Demo"), b).unwrap();
    });
    let run = dir.signet(&["ipa", "verify", "exe.ipa"]);
    assert_eq!(run.code(), 3);
    assert!(run.stdout().contains("digest mismatch"), "{}", run.stdout());
    let found = ipa_findings(&dir, "exe.ipa");
    assert!(
        !found.is_empty()
            && found.iter().all(|f| matches!(
                f,
                IpaFinding::CodeSignature { bundle, executable, problem }
                    if bundle == "Payload/Demo.app" && executable == "Demo"
                        && problem.contains("digest mismatch")
            )),
        "{found:?}"
    );

    // Signed entitlements must stay within the embedded profile: swap in a profile that
    // does not grant push.
    profile_from(
        &dir,
        &ProfileSpec { aps: false, ..good },
        "nopush.mobileprovision",
    );
    let nopush = dir.read("nopush.mobileprovision");
    rezip(&dir, "signed.ipa", "swapped.ipa", |app| {
        std::fs::write(app.join("embedded.mobileprovision"), &nopush).unwrap();
    });
    let run = dir.signet(&["ipa", "verify", "swapped.ipa"]);
    assert_eq!(run.code(), 3);
    assert!(
        run.stdout()
            .contains("entitlement `aps-environment` is not granted by the embedded profile"),
        "{}",
        run.stdout()
    );
    // The embedded profile is a sealed resource too, so the swap is also a modification.
    assert_eq!(
        ipa_findings(&dir, "swapped.ipa"),
        [
            IpaFinding::ResourceModified {
                bundle: "Payload/Demo.app".into(),
                file: "embedded.mobileprovision".into()
            },
            IpaFinding::EntitlementNotGranted {
                key: "aps-environment".into()
            }
        ]
    );

    // What `ios check` would fail, signing refuses: a profile for another app.
    profile_from(
        &dir,
        &ProfileSpec {
            app_id: "com.other.app",
            ..good
        },
        "other.mobileprovision",
    );
    let err = dir
        .signet(&[
            "ipa",
            "sign",
            "in.ipa",
            "--out",
            "nope.ipa",
            "--p12",
            "dist.p12",
            "--p12-pass",
            "pass:p12-pass",
            "--profile",
            "other.mobileprovision",
        ])
        .fails_with(1);
    assert!(err.contains("refusing to sign (bundle-id)"), "{err}");
    assert!(!dir.exists("nope.ipa"));
}

/// An independent reader of a thin 64-bit Mach-O's code signature (struct parsing only):
/// LC_CODE_SIGNATURE → SuperBlob → every CodeDirectory (hash type, page size, code
/// slots). Checks each code slot against the hash of its page computed here, and the
/// entitlements (slot 5) and CodeResources (slot 3) special slots against the blobs and
/// the file, and that the code slots end where the signature starts; writes the entitlements plist, as JSON, the primary CodeDirectory and the
/// CMS blob beside the executable (`<exe>.entitlements.json`, `<exe>.cd`, `<exe>.cms`),
/// and prints one line per CodeDirectory: `hash_type page_size code_slots code_limit`.
const CODESIGN_PY: &str = r#"
import hashlib, json, plistlib, struct, sys
exe, resources = sys.argv[1], sys.argv[2]
data = open(exe, "rb").read()
magic, _, _, _, ncmds, _, _, _ = struct.unpack_from("<IiiIIIII", data, 0)
assert magic == 0xFEEDFACF, "thin 64-bit Mach-O expected: %x" % magic
off, sig = 32, None
for _ in range(ncmds):
    cmd, size = struct.unpack_from("<II", data, off)
    if cmd == 0x1D:  # LC_CODE_SIGNATURE
        sig = struct.unpack_from("<II", data, off + 8)
    off += size
assert sig, "no LC_CODE_SIGNATURE"
dataoff, datasize = sig
sb = data[dataoff:dataoff + datasize]
magic, length, count = struct.unpack_from(">III", sb, 0)
assert magic == 0xFADE0CC0, "embedded signature SuperBlob expected: %x" % magic
blobs = []
for i in range(count):
    slot, at = struct.unpack_from(">II", sb, 12 + 8 * i)
    bmagic, blen = struct.unpack_from(">II", sb, at)
    blobs.append((slot, bmagic, sb[at:at + blen]))
algs = {1: hashlib.sha1, 2: hashlib.sha256}
ents = [b for s, m, b in blobs if s == 5 and m == 0xFADE7171]
cds = [(s, b) for s, m, b in blobs if m == 0xFADE0C02 and (s == 0 or 0x1000 <= s < 0x1005)]
assert cds, "no CodeDirectory"
for slot, cd in cds:
    (_, _, version, _, hash_off, _, n_special, n_code, code_limit,
     hash_size, hash_type, _, page_log2) = struct.unpack_from(">IIIIIIIIIBBBB", cd, 0)
    h = algs[hash_type]
    assert h().digest_size == hash_size
    page = 1 << page_log2
    assert n_code == (code_limit + page - 1) // page, (n_code, code_limit, page)
    assert code_limit == dataoff, "code slots end where the signature starts"
    for i in range(n_code):
        want = cd[hash_off + i * hash_size:hash_off + (i + 1) * hash_size]
        got = h(data[i * page:min((i + 1) * page, code_limit)]).digest()
        assert want == got, "code slot %d of CodeDirectory %#x" % (i, slot)
    special = lambda n: cd[hash_off - n * hash_size:hash_off - (n - 1) * hash_size]
    if ents:
        assert n_special >= 5 and special(5) == h(ents[0]).digest(), "entitlements slot"
    if resources != "-":
        assert n_special >= 3, "no CodeResources slot"
        assert special(3) == h(open(resources, "rb").read()).digest(), "CodeResources slot"
    print(hash_type, page, n_code, code_limit)
if ents:
    plist = plistlib.loads(ents[0][8:])
    open(exe + ".entitlements.json", "w").write(json.dumps(plist))
open(exe + ".cd", "wb").write(dict(cds)[0])
cms = [b for s, m, b in blobs if s == 0x10000 and m == 0xFADE0B01]
assert cms, "no CMS signature blob"
open(exe + ".cms", "wb").write(cms[0][8:])
"#;

/// The signature `ipa sign` writes, read by a parser of the test's own (Python's struct,
/// hashlib and plistlib) and OpenSSL rather than by apple-codesign: code slots match the
/// pages, the entitlements are the profile's with the app id made concrete, and the CMS
/// blob is a SignedData by the identity's certificate over the CodeDirectory.
#[test]
fn ipa_signature_read_by_an_independent_parser() {
    let dir = Dir::new();
    apple_identity(&dir, false, "dist.p12");
    let spec = ProfileSpec {
        cert_pem: "dist.pem",
        team: "A1B2C3D4E5",
        app_id: "com.acme.*",
        expires: "2099-01-01T00:00:00Z",
        devices: false,
        get_task_allow: false,
        aps: true,
    };
    profile_from(&dir, &spec, "app.mobileprovision");
    build_ipa(&dir, "in.ipa");
    dir.signet(&[
        "ipa",
        "sign",
        "in.ipa",
        "--out",
        "signed.ipa",
        "--p12",
        "dist.p12",
        "--p12-pass",
        "pass:p12-pass",
        "--profile",
        "app.mobileprovision",
    ])
    .ok();
    rezip(&dir, "signed.ipa", "copy.ipa", |_| {});
    let app = "copy.ipa-work/Payload/Demo.app";

    for (exe, resources) in [
        (
            format!("{app}/Demo"),
            format!("{app}/_CodeSignature/CodeResources"),
        ),
        (
            format!("{app}/Frameworks/Kit.framework/Kit"),
            format!("{app}/Frameworks/Kit.framework/_CodeSignature/CodeResources"),
        ),
    ] {
        let out = dir
            .tool("python3", &["-c", CODESIGN_PY, &exe, &resources])
            .ok();
        let cds: Vec<Vec<u64>> = out
            .lines()
            .map(|l| l.split(' ').map(|n| n.parse().unwrap()).collect())
            .collect();
        // A SHA-256 CodeDirectory (hash type 2) with 4 KiB or 16 KiB pages, its code
        // slots (each checked above) covering everything before the signature.
        assert!(
            cds.iter()
                .any(|cd| cd[0] == 2 && (cd[1] == 4096 || cd[1] == 16384) && cd[2] >= 2),
            "{exe}: {out}"
        );

        // The CMS blob: OpenSSL parses it and names the identity's certificate ...
        let cms = format!("{exe}.cms");
        let printed = dir
            .tool(
                "openssl",
                &["cms", "-cmsout", "-print", "-inform", "DER", "-in", &cms],
            )
            .ok();
        assert!(printed.contains("signedData"), "{printed}");
        assert!(
            printed.contains("CN=Apple Distribution: Acme Inc (A1B2C3D4E5)"),
            "{printed}"
        );
        // ... and verifies it over the primary CodeDirectory, signed by that certificate.
        let signer = format!("{exe}.signer.pem");
        dir.tool(
            "openssl",
            &[
                "cms",
                "-verify",
                "-noverify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                &cms,
                "-content",
                &format!("{exe}.cd"),
                "-signer",
                &signer,
                "-out",
                "/dev/null",
            ],
        )
        .ok();
        let fingerprint = |pem: &str| {
            dir.tool(
                "openssl",
                &["x509", "-in", pem, "-noout", "-fingerprint", "-sha256"],
            )
            .ok()
        };
        assert_eq!(fingerprint(&signer), fingerprint("dist.pem"), "{exe}");
    }

    // The main executable's entitlements: the profile's, the app id made concrete.
    let entitlements: serde_json::Value =
        serde_json::from_slice(&dir.read(&format!("{app}/Demo.entitlements.json"))).unwrap();
    assert_eq!(
        entitlements,
        serde_json::json!({
            "application-identifier": "A1B2C3D4E5.com.acme.app",
            "get-task-allow": false,
            "aps-environment": "production",
        })
    );
}

#[test]
fn inspect_knows_ipas_and_expiry_warnings() {
    let dir = Dir::new();
    apple_identity(&dir, false, "dist.p12");
    // A profile expiring in ten days warns, but does not fail.
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let soon = format!("{}Z", &soon[..19]);
    let spec = ProfileSpec {
        cert_pem: "dist.pem",
        team: "A1B2C3D4E5",
        app_id: "com.acme.*",
        expires: &soon,
        devices: false,
        get_task_allow: false,
        aps: true,
    };
    profile_from(&dir, &spec, "soon.mobileprovision");
    let (code, v) = check_statuses(
        &dir,
        &[
            "--p12",
            "dist.p12",
            "--p12-pass",
            "pass:p12-pass",
            "--profile",
            "soon.mobileprovision",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(status_of(&v, "profile-expiry"), "warn");

    build_ipa(&dir, "in.ipa");
    dir.signet(&[
        "ipa",
        "sign",
        "in.ipa",
        "--out",
        "s.ipa",
        "--p12",
        "dist.p12",
        "--p12-pass",
        "pass:p12-pass",
        "--profile",
        "soon.mobileprovision",
    ])
    .ok();
    let v = dir.signet(&["inspect", "s.ipa", "--json"]).json();
    assert_eq!(v["kind"], "ipa");
    assert_eq!(v["ipa"]["bundle_id"], "com.acme.app");
    assert_eq!(v["ipa"]["verified"], true);
    let v = dir.signet(&["inspect", "in.ipa", "--json"]).json();
    assert_eq!(
        v["ipa"]["verified"], false,
        "an unsigned IPA is reported as such"
    );
}
