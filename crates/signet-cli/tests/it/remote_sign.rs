//! Signing with keys that stay on the server: `apk sign`, `aab sign` and `ipa sign` with
//! `--app`, run by a robot through a recording proxy, checked by apksigner, jarsigner and
//! `signet ipa verify`; the audit log's signatures; no key material in anything the CLI
//! reads; refusals (a viewer, a server that does not answer) that leave no file.

use base64::Engine;
use serde_json::{Value, json};

use crate::{
    apk::{build_aab, build_apk},
    ios::{ProfileSpec, apple_identity, build_ipa, profile_from},
    proxy::Proxy,
    remote::Team,
    serve::Backend,
    util::Dir,
};

const APP_ID: &str = "com.acme.app";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every base64 rendering of `secret`'s bytes that a JSON body could carry, whatever the
/// alignment of the secret inside the encoded value: the encodings of `secret[i..]` for
/// i = 0, 1, 2, cut to whole, unambiguous characters.
fn base64_needles(secret: &[u8]) -> Vec<String> {
    (0..3)
        .map(|i| {
            let enc = b64(&secret[i..i + 90]);
            enc[4..100].to_owned()
        })
        .collect()
}

/// A PKCS#12 keystore made by keytool, and its private key as PKCS#8 DER (by openssl).
fn keytool_p12(dir: &Dir, name: &str, alias: &str, pass: &str) -> (Vec<u8>, Vec<u8>) {
    dir.tool(
        "keytool",
        &[
            "-genkeypair",
            "-keystore",
            name,
            "-storetype",
            "PKCS12",
            "-alias",
            alias,
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-validity",
            "10000",
            "-dname",
            "CN=Acme Upload, O=Acme",
            "-storepass",
            pass,
            "-keypass",
            pass,
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "pkcs12",
            "-in",
            name,
            "-nocerts",
            "-nodes",
            "-passin",
            &format!("pass:{pass}"),
            "-out",
            "key.pem",
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der",
        ],
    )
    .ok();
    let pkcs8 = dir.read("key.der");
    std::fs::remove_file(dir.path("key.pem")).expect("remove key.pem");
    std::fs::remove_file(dir.path("key.der")).expect("remove key.der");
    (dir.read(name), pkcs8)
}

/// keytool's SHA-256 of the key entry's certificate, as apksigner prints digests
/// (lower-case hex, no colons).
fn keytool_sha256(dir: &Dir, keystore: &str, pass: &str) -> String {
    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", keystore, "-storepass", pass],
        )
        .ok();
    listing
        .lines()
        .find_map(|l| l.trim().strip_prefix("SHA256: "))
        .expect("keytool prints a SHA256 line")
        .replace(':', "")
        .to_lowercase()
}

fn apksigner_sha256(verified: &str) -> String {
    verified
        .lines()
        .find_map(|l| l.strip_prefix("Signer #1 certificate SHA-256 digest: "))
        .unwrap_or_else(|| panic!("no certificate digest in: {verified}"))
        .trim()
        .to_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn held_keys(backend: Backend) {
    let team = Team::new(backend);
    let site = &team.site.dir;
    let app = team.api(
        "POST",
        &format!("/v1/orgs/{}/apps", team.org),
        &json!({ "slug": "acme-app" }),
    )["id"]
        .as_str()
        .expect("app id")
        .to_owned();
    let app_path = format!("/v1/orgs/{}/apps/{app}", team.org);

    // The upload key: made by keytool, uploaded, the default build set of com.acme.app.
    let pass = team.site.password("store");
    let (p12, pkcs8) = keytool_p12(site, "upload.p12", "upload", &pass);
    let stored_sha256 = keytool_sha256(site, "upload.p12", &pass);
    let ks = team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &json!({ "type": "android-keystore", "keystore": b64(&p12), "store_password": pass }),
    )["id"]
        .as_str()
        .expect("keystore id")
        .to_owned();
    std::fs::remove_file(site.path("upload.p12")).expect("the key leaves the machine");
    team.api(
        "PUT",
        &format!("{app_path}/android/{APP_ID}/build-sets/release"),
        &json!({ "keystore_id": ks }),
    );

    // The iOS pair: a distribution certificate and a profile allowing it.
    apple_identity(site, false, "dist.p12");
    let spec = ProfileSpec {
        cert_pem: "dist.pem",
        team: "A1B2C3D4E5",
        app_id: "com.acme.*",
        expires: "2099-01-01T00:00:00Z",
        devices: false,
        get_task_allow: false,
        aps: true,
    };
    profile_from(site, &spec, "app.mobileprovision");
    let cert = team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &json!({ "type": "apple-distribution-certificate", "p12": b64(&site.read("dist.p12")), "password": "p12-pass" }),
    )["id"]
        .as_str()
        .expect("certificate id")
        .to_owned();
    let profile = team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &json!({ "type": "apple-provisioning-profile", "profile": b64(&site.read("app.mobileprovision")) }),
    )["id"]
        .as_str()
        .expect("profile id")
        .to_owned();
    team.api(
        "PUT",
        &format!("{app_path}/ios/com.acme.app/build-pairs/app-store"),
        &json!({ "certificate_id": cert, "profile_id": profile }),
    );

    // Robots sign through a proxy that keeps every body the CLI sends and reads.
    let proxy = Proxy::start(team.server.addr().parse().expect("server address"));
    let nobody = team.nobody();
    let robot = team.robot("developer", Some(&[app.as_str()]));
    let viewer = team.robot("viewer", Some(&[app.as_str()]));
    let as_robot = |token: &str, args: &[&str]| {
        team.run_with(
            &nobody,
            args,
            &[
                ("SIGNET_SERVER", proxy.url.as_str()),
                ("SIGNET_TOKEN", token),
            ],
        )
    };

    // APKs for min SDK 14 (v1 + v2 + v3) and 28: apksigner accepts them, signed by the
    // stored key's certificate.
    for min_sdk in [14u32, 28] {
        let unsigned = format!("app{min_sdk}.apk");
        let signed = format!("signed{min_sdk}.apk");
        build_apk(site, &unsigned, min_sdk);
        let out = as_robot(
            &robot,
            &[
                "apk", "sign", &unsigned, "--out", &signed, "--app", "acme-app",
            ],
        );
        let said = out.ok();
        assert!(said.is_empty(), "nothing on stdout: {said}");
        assert!(
            out.stderr().contains(&format!("Signed {signed}")),
            "{}",
            out.stderr()
        );
        let verified = site
            .tool(
                "apksigner",
                &[
                    "verify",
                    "--print-certs",
                    "--verbose",
                    "--min-sdk-version",
                    &min_sdk.to_string(),
                    &signed,
                ],
            )
            .ok();
        assert!(verified.contains("Verifies"), "{verified}");
        assert_eq!(apksigner_sha256(&verified), stored_sha256, "{verified}");
        // apksigner checks v1 and v2 only where a platform the APK runs on would.
        if min_sdk == 14 {
            assert!(
                verified.contains("Verified using v1 scheme (JAR signing): true"),
                "{verified}"
            );
            assert!(
                verified.contains("Verified using v2 scheme (APK Signature Scheme v2): true"),
                "{verified}"
            );
        }
        assert!(
            verified.contains("Verified using v3 scheme (APK Signature Scheme v3): true"),
            "{verified}"
        );
    }

    // An AAB: jarsigner verifies it.
    build_aab(site, "app.aab");
    as_robot(
        &robot,
        &[
            "aab",
            "sign",
            "app.aab",
            "--out",
            "signed.aab",
            "--app",
            "acme-app",
            "--application-id",
            APP_ID,
        ],
    )
    .ok();
    let jar = site
        .tool("jarsigner", &["-verify", "-verbose", "signed.aab"])
        .ok();
    assert!(jar.contains("jar verified."), "{jar}");

    // An IPA, with the pair's certificate on the server and its profile embedded.
    build_ipa(site, "in.ipa");
    let v = as_robot(
        &robot,
        &[
            "ipa",
            "sign",
            "in.ipa",
            "--out",
            "signed.ipa",
            "--app",
            "acme-app",
            "--bundle-id",
            "com.acme.app",
            "--distribution",
            "app-store",
            "--json",
        ],
    )
    .json();
    assert_eq!(v["bundle_id"], "com.acme.app");
    let verified = site.signet(&["ipa", "verify", "signed.ipa"]).ok();
    assert!(verified.starts_with("Verifies"), "{verified}");
    assert!(
        verified.contains("Payload/Demo.app/Frameworks/Kit.framework"),
        "{verified}"
    );

    // A viewer may not sign: the server's reason, and no file.
    let err = as_robot(
        &viewer,
        &[
            "apk",
            "sign",
            "app14.apk",
            "--out",
            "viewer.apk",
            "--app",
            "acme-app",
        ],
    )
    .fails_with(1);
    assert_eq!(
        err,
        "error: this needs the developer role or higher; you are viewer\n"
    );
    assert!(!site.exists("viewer.apk"));

    // The audit log lists every signature: the key's fingerprint and the digest signed.
    let audit = team
        .run(&team.owner, &["audit", "--signatures", "--json"])
        .json();
    // Each record's detail is JSON text.
    let records: Vec<Value> = audit
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["detail"] = serde_json::from_str(r["detail"].as_str().unwrap()).unwrap();
            r
        })
        .collect();
    let of = |purpose: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["detail"]["purpose"] == purpose)
            .collect()
    };
    // Two APKs with v1, v2 and v3 (as apksigner signs by default), an AAB with v1, two
    // bundles in the IPA.
    assert_eq!(of("apk-v2-signed-data").len(), 2, "{audit}");
    assert_eq!(of("apk-v3-signed-data").len(), 2, "{audit}");
    assert_eq!(of("jar-signature-file").len(), 3, "{audit}");
    assert_eq!(of("cms-signed-attributes").len(), 2, "{audit}");
    assert!(records.iter().all(|r| r["action"] == "sign"), "{audit}");
    for r in of("apk-v2-signed-data")
        .into_iter()
        .chain(of("jar-signature-file"))
    {
        assert_eq!(r["target"], ks.as_str(), "{r}");
        assert_eq!(
            r["detail"]["key_sha256"]
                .as_str()
                .unwrap()
                .replace(':', "")
                .to_lowercase(),
            stored_sha256
        );
        assert!(r["actor"].as_str().unwrap().starts_with("robot:"), "{r}");
    }
    // v2 and v3 of one APK sign the same content digest.
    let v2: Vec<&Value> = of("apk-v2-signed-data")
        .iter()
        .map(|r| &r["detail"]["digest"])
        .collect();
    let v3: Vec<&Value> = of("apk-v3-signed-data")
        .iter()
        .map(|r| &r["detail"]["digest"])
        .collect();
    assert_eq!(v2, v3);
    assert_ne!(v2[0], v2[1], "two APKs, two content digests");
    // A JAR signature is recorded by the digest of the .SF it signed, which anyone can
    // check in the artifact.
    let listing = site.tool("unzip", &["-Z1", "signed.aab"]).ok();
    let sf_name = listing
        .lines()
        .find(|l| l.starts_with("META-INF/") && l.ends_with(".SF"))
        .expect("a .SF in the signed AAB")
        .to_owned();
    let manifest = site
        .tool("unzip", &["-p", "signed.aab", &sf_name])
        .out
        .stdout;
    let jar_digests: Vec<&str> = of("jar-signature-file")
        .iter()
        .map(|r| r["detail"]["digest"].as_str().unwrap())
        .collect();
    assert!(
        jar_digests.contains(&sha256_hex(&manifest).as_str()),
        "{jar_digests:?}"
    );
    assert_eq!(records.len(), 9, "nothing but signatures: {audit}");
    let table = team.run(&team.owner, &["audit", "--signatures"]).ok();
    assert!(
        table.contains("apk-v2-signed-data") && table.contains("acme-app"),
        "{table}"
    );

    // Nothing the CLI read carried the key, the keystore or its password; nothing it sent
    // carried the APK's contents.
    let responses = proxy.response_bodies();
    assert!(
        proxy
            .request_lines()
            .iter()
            .filter(|l| l.contains("/sign "))
            .count()
            >= 6,
        "{:?}",
        proxy.request_lines()
    );
    let needles: Vec<Vec<u8>> = base64_needles(&pkcs8)
        .into_iter()
        .chain(base64_needles(&p12))
        .map(String::into_bytes)
        .chain([pass.clone().into_bytes(), pkcs8[20..80].to_vec()])
        .collect();
    for body in &responses {
        for needle in &needles {
            assert!(
                !body.windows(needle.len()).any(|w| w == &needle[..]),
                "a response carried key material: {}",
                String::from_utf8_lossy(body)
            );
        }
    }
    let dex = [5u8; 64];
    assert!(
        proxy
            .request_bodies()
            .iter()
            .all(|b| !b.windows(64).any(|w| w == &dex[..]))
    );
    team.site.assert_no_secrets_in_logs();

    // A server that does not answer: a clear error, and no output file.
    drop(proxy);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = team
        .run_with(
            &nobody,
            &[
                "apk",
                "sign",
                "app14.apk",
                "--out",
                "offline.apk",
                "--app",
                "acme-app",
            ],
            &[
                ("SIGNET_SERVER", dead.as_str()),
                ("SIGNET_TOKEN", robot.as_str()),
            ],
        )
        .fails_with(1);
    assert!(
        err.contains("connection refused") || err.contains("refused"),
        "{err}"
    );
    assert!(err.contains(&dead), "names the server: {err}");
    assert!(!site.exists("offline.apk"));
    team.server.kill();
    let err = team
        .run_with(
            &nobody,
            &[
                "ipa",
                "sign",
                "in.ipa",
                "--out",
                "offline.ipa",
                "--app",
                "acme-app",
                "--bundle-id",
                "com.acme.app",
                "--distribution",
                "app-store",
            ],
            &[
                ("SIGNET_SERVER", team.url.as_str()),
                ("SIGNET_TOKEN", robot.as_str()),
            ],
        )
        .fails_with(1);
    assert!(err.contains("refused"), "{err}");
    assert!(!site.exists("offline.ipa"));
}

#[test]
fn held_keys_on_sqlite() {
    held_keys(Backend::Sqlite);
}

#[test]
fn held_keys_on_postgres() {
    held_keys(Backend::Postgres);
}
