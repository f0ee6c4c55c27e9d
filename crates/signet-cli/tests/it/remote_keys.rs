//! Keys made on the server (issue 11), from the CLI, on SQLite and PostgreSQL: a keystore
//! generated for a build set (its certificate shown, the key and password in no answer the
//! CLI reads, an admin's export listed by keytool, a developer's refused), and an Apple
//! distribution certificate whose key the server makes (the CSR signed by an OpenSSL "CA",
//! the .cer joined to the key, the admin's export opened by OpenSSL, a .cer for another key
//! and a second completion refused with their reasons).

use base64::Engine as _;
use serde_json::Value;
use signet_formats::{Keystore, Password};

use crate::{
    ios::apple_issues_cer,
    remote::Team,
    serve::{Backend, mode},
    util::keytool_fingerprints,
};

const APP: &str = "acme";
const PKG: &str = "com.acme.app";

/// The value of the `label:` line of indented fields.
fn field(text: &str, label: &str) -> String {
    let prefix = format!("{label}:");
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
        .trim()
        .to_owned()
}

fn generated_keystore_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;
    team.run(owner, &["app", "create", APP]).ok();
    let dev = team.member("dev@acme.test", "developer");
    let admin = team.member("admin@acme.test", "admin");
    let listing_before = dir.listing();

    // A developer has the server generate the keystore of a build set: the certificate is
    // shown, nothing is written here.
    let out = team
        .run(
            &dev,
            &[
                "credentials",
                "android",
                "build-set",
                "create",
                "release",
                "--generate",
                "--app",
                APP,
                "--application-id",
                PKG,
            ],
        )
        .ok();
    assert!(
        out.contains("Certificate (generated on the server):"),
        "{out}"
    );
    assert_eq!(field(&out, "Subject"), "CN=Android Upload Key", "{out}");
    assert_eq!(field(&out, "Key"), "RSA 2048", "{out}");
    let shown_sha256 = field(&out, "SHA-256");
    assert_eq!(dir.listing(), listing_before);

    // Everything the CLI reads about it, human and --json.
    let app = team
        .run(
            &dev,
            &["credentials", "android", "show", "--app", APP, "--json"],
        )
        .json();
    let id = app["build_sets"][0]["keystore_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{app}"))
        .to_owned();
    let mut answers = vec![out.clone(), app.to_string()];
    let shown = team
        .run(&dev, &["credentials", "show", &id, "--json"])
        .json();
    assert_eq!(
        shown["credential"]["metadata"]["keystore_type"], "pkcs12",
        "{shown}"
    );
    assert_eq!(
        shown["credential"]["metadata"]["sha256"],
        shown_sha256.as_str(),
        "{shown}"
    );
    answers.push(shown.to_string());
    answers.push(team.run(&dev, &["credentials", "list", "--json"]).stdout());
    answers.push(team.run(&dev, &["credentials", "show", &id]).stdout());
    let second = team
        .run(
            &dev,
            &[
                "credentials",
                "android",
                "build-set",
                "create",
                "ci",
                "--generate",
                "--dname",
                "CN=Acme CI, O=Acme",
                "--key-alg",
                "ec",
                "--app",
                APP,
                "--application-id",
                PKG,
                "--json",
            ],
        )
        .json();
    assert_eq!(second["generated"], true, "{second}");
    assert_eq!(
        second["keystore"]["metadata"]["subject"], "CN=Acme CI, O=Acme",
        "{second}"
    );
    assert_eq!(
        second["keystore"]["metadata"]["key_algorithm"], "EC",
        "{second}"
    );
    answers.push(second.to_string());

    // A developer cannot export it: the server's refusal names the role; no file.
    let err = team
        .run(&dev, &["credentials", "export", &id, "--out", "dev.p12"])
        .fails_with(1);
    assert_eq!(
        err,
        "error: this needs the admin role or higher; you are developer\n"
    );
    assert!(!dir.exists("dev.p12"));

    // An admin's export is a keystore keytool lists with the exported password, whose
    // certificate is the one shown.
    team.run(
        &admin,
        &[
            "credentials",
            "export",
            &id,
            "--out",
            "gen.p12",
            "--password-out",
            "gen.pass",
        ],
    )
    .ok();
    assert_eq!(mode(&dir.path("gen.p12")), 0o600);
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "gen.p12",
                "-storepass:file",
                "gen.pass",
            ],
        )
        .ok();
    let prints = keytool_fingerprints(&listing);
    assert_eq!(prints.len(), 1, "{listing}");
    assert_eq!(prints[0].2, shown_sha256, "{listing}");
    assert!(listing.contains("Keystore type: PKCS12"), "{listing}");
    assert!(
        listing.contains("Owner: CN=Android Upload Key"),
        "{listing}"
    );

    // No answer the CLI read holds the key, the keystore or its password.
    let pass_text = String::from_utf8(dir.read("gen.pass")).unwrap();
    let password = pass_text.lines().next().unwrap().to_owned();
    team.site.secret(&password);
    let file = dir.read("gen.p12");
    let store = Keystore::open(&file, Some(&Password::new(password.clone()))).unwrap();
    let key = store
        .unlock(None, &Password::new(password.clone()))
        .unwrap();
    let pkcs8 = key.key.pkcs8_der().to_vec();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let forbidden = [
        password.clone(),
        b64(&file)[..60].to_owned(),
        b64(&pkcs8)[40..100].to_owned(),
        signet_formats::hex_lower(&pkcs8)[60..140].to_owned(),
    ];
    for answer in &answers {
        for f in &forbidden {
            assert!(!answer.contains(f.as_str()), "a secret is in:\n{answer}");
        }
    }

    // Audited as generated, by the developer.
    let client = team.server.client(&owner.token);
    let audit = team
        .server
        .audit(&client, &team.org.parse().expect("an org id"));
    let generated: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "credential.generate")
        .collect();
    assert_eq!(generated.len(), 2, "{audit:?}");
    assert!(generated.iter().any(|r| r.target == id), "{audit:?}");
}

#[test]
fn generated_keystore_on_sqlite() {
    generated_keystore_flow(Backend::Sqlite);
}

#[test]
fn generated_keystore_on_postgres() {
    generated_keystore_flow(Backend::Postgres);
}

fn certificate_request_flow(backend: Backend) {
    let team = Team::new(backend);
    let dir = &team.site.dir;
    let dev = team.member("dev@acme.test", "developer");
    let admin = team.member("admin@acme.test", "admin");
    let viewer = team.member("viewer@acme.test", "viewer");

    // A viewer may not make one.
    let err = team
        .run(
            &viewer,
            &["credentials", "ios", "csr", "--csr-out", "v.csr"],
        )
        .fails_with(1);
    assert!(
        err.contains("this needs the developer role or higher; you are viewer"),
        "{err}"
    );
    assert!(!dir.exists("v.csr"));

    // The server makes the key; the CSR is written here and is a valid request.
    let out = team
        .run(
            &dev,
            &[
                "credentials",
                "ios",
                "csr",
                "--csr-out",
                "req.csr",
                "--common-name",
                "Acme CI",
                "--email",
                "ci@acme.test",
            ],
        )
        .ok();
    let id = out
        .strip_prefix("Certificate request ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert!(id.starts_with("csr_"), "{out}");
    assert!(
        out.contains("Wrote the certificate signing request to req.csr."),
        "{out}"
    );
    assert!(out.contains("developer.apple.com"), "{out}");
    assert!(
        out.contains(&format!("signet credentials ios import-cer {id} --cer")),
        "{out}"
    );
    let csr = String::from_utf8(dir.read("req.csr")).unwrap();
    assert!(
        csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{csr}"
    );
    assert!(!csr.contains("PRIVATE KEY"));
    let subject = dir
        .tool(
            "openssl",
            &[
                "req", "-in", "req.csr", "-verify", "-noout", "-subject", "-nameopt", "compat",
            ],
        )
        .ok();
    assert!(subject.contains("CN=Acme CI"), "{subject}");

    // A .cer for another key is refused with the reason; nothing is stored.
    dir.tool(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.csr",
            "-subj",
            "/CN=other",
        ],
    )
    .ok();
    apple_issues_cer(dir, "other.csr", "other.cer");
    let err = team
        .run(
            &dev,
            &[
                "credentials",
                "ios",
                "import-cer",
                &id,
                "--cer",
                "other.cer",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains("the certificate's public key is not this request's key"),
        "{err}"
    );
    let listed = team.run(&dev, &["credentials", "list", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    // Apple's .cer for the request is joined to the key: a distribution certificate.
    apple_issues_cer(dir, "req.csr", "apple.cer");
    let cert = team
        .run(
            &dev,
            &[
                "credentials",
                "ios",
                "import-cer",
                &id,
                "--cer",
                "apple.cer",
                "--json",
            ],
        )
        .json();
    assert_eq!(cert["type"], "apple-distribution-certificate", "{cert}");
    assert_eq!(cert["metadata"]["team_id"], "A1B2C3D4E5", "{cert}");
    assert_eq!(cert["metadata"]["kind"], "distribution", "{cert}");
    assert_eq!(
        cert["metadata"]["common_name"], "iPhone Distribution: Acme (A1B2C3D4E5)",
        "{cert}"
    );
    let cert_id = cert["id"].as_str().unwrap().to_owned();
    let apple_sha1 = dir
        .tool(
            "openssl",
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                "apple.cer",
                "-noout",
                "-fingerprint",
                "-sha1",
            ],
        )
        .ok();
    assert_eq!(
        apple_sha1.trim().trim_start_matches("sha1 Fingerprint="),
        cert["metadata"]["sha1"].as_str().unwrap(),
        "{cert}"
    );

    // A second completion is refused, naming when and what it made.
    let err = team
        .run(
            &dev,
            &[
                "credentials",
                "ios",
                "import-cer",
                &id,
                "--cer",
                "apple.cer",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains(&format!("certificate request {id} was completed on "))
            && err.contains(&format!("(credential {cert_id})")),
        "{err}"
    );
    let requests = team.run(&dev, &["credentials", "ios", "requests"]).ok();
    assert!(
        requests.contains(&id) && requests.contains(&format!("→ {cert_id}")),
        "{requests}"
    );

    // An admin's export is a .p12 OpenSSL opens (3DES/SHA-1, for Keychain) holding
    // Apple's certificate.
    team.run(
        &admin,
        &[
            "credentials",
            "export",
            &cert_id,
            "--out",
            "dist.p12",
            "--password-out",
            "dist.pass",
        ],
    )
    .ok();
    let pass = String::from_utf8(dir.read("dist.pass")).unwrap();
    team.site.secret(pass.trim());
    let info = dir
        .tool(
            "openssl",
            &[
                "pkcs12",
                "-legacy",
                "-info",
                "-nokeys",
                "-in",
                "dist.p12",
                "-passin",
                "file:dist.pass",
            ],
        )
        .ok();
    assert!(
        info.contains("subject=UID = A1B2C3D4E5, CN = iPhone Distribution: Acme (A1B2C3D4E5)"),
        "{info}"
    );
    let check = dir
        .signet(&[
            "ios",
            "check",
            "--p12",
            "dist.p12",
            "--p12-pass",
            "file:dist.pass",
        ])
        .stdout();
    assert!(
        check.contains("iPhone Distribution: Acme (A1B2C3D4E5)"),
        "{check}"
    );
    let v: Value = team
        .run(&dev, &["credentials", "ios", "requests", "--json"])
        .json();
    assert_eq!(v["items"][0]["credential_id"], cert_id.as_str(), "{v}");
}

#[test]
fn certificate_request_on_sqlite() {
    certificate_request_flow(Backend::Sqlite);
}

#[test]
fn certificate_request_on_postgres() {
    certificate_request_flow(Backend::Postgres);
}

/// Checks `token` (an ES256 JWT) against the public key in `pub_pem` with OpenSSL and
/// returns its header and claims.
fn verify_jwt(dir: &crate::util::Dir, token: &str, pub_pem: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    dir.write("jwt-input.txt", format!("{}.{}", parts[0], parts[1]));
    dir.write(
        "jwt-sig.der",
        crate::ios::jose_to_der(&b64.decode(parts[2]).unwrap()),
    );
    let out = dir
        .tool(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                pub_pem,
                "-signature",
                "jwt-sig.der",
                "jwt-input.txt",
            ],
        )
        .ok();
    assert!(out.contains("Verified OK"), "{out}");
    (header, claims)
}

fn apns_token_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;
    team.run(owner, &["app", "create", APP]).ok();
    team.run(owner, &["app", "create", "bare"]).ok();
    let dev = team.member("dev@acme.test", "developer");
    let viewer = team.member("viewer@acme.test", "viewer");

    // A push key made as Apple's are, stored and assigned to the app's bundle id.
    crate::ios::apns_key(dir, "AuthKey_ABC123DEFG.p8");
    dir.tool(
        "openssl",
        &[
            "pkey",
            "-in",
            "AuthKey_ABC123DEFG.p8",
            "-pubout",
            "-out",
            "pub1.pem",
        ],
    )
    .ok();
    let p8 = String::from_utf8(dir.read("AuthKey_ABC123DEFG.p8")).unwrap();
    team.site.secret(p8.lines().nth(1).unwrap());
    let key = team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &serde_json::json!({ "type": "apple-push-key", "p8": p8, "key_id": "ABC123DEFG",
                             "team_id": "A1B2C3D4E5" }),
    );
    let key_id = key["id"].as_str().unwrap().to_owned();
    team.api(
        "PUT",
        &format!("/v1/orgs/{}/apps/{APP}/slots/ios/{PKG}/push-key", team.org),
        &serde_json::json!({ "credential_id": key_id }),
    );

    // The token from the server verifies against the stored key's public key.
    let first = team.run(&dev, &["ios", "apns-token", "--app", APP]);
    let token = first.ok().trim().to_owned();
    assert!(
        first.stderr().starts_with("New token of push key"),
        "{}",
        first.stderr()
    );
    let (header, claims) = verify_jwt(dir, &token, "pub1.pem");
    assert_eq!(
        header,
        serde_json::json!({ "alg": "ES256", "kid": "ABC123DEFG" })
    );
    assert_eq!(claims["iss"], "A1B2C3D4E5", "{claims}");

    // The second call is served from the cache; --fresh mints another, cached in turn.
    let again = team.run(
        &dev,
        &["ios", "apns-token", "--app", APP, "--bundle-id", PKG],
    );
    assert_eq!(again.ok().trim(), token);
    assert!(
        again.stderr().starts_with("Cached token"),
        "{}",
        again.stderr()
    );
    let fresh = team
        .run(
            &dev,
            &["ios", "apns-token", "--app", APP, "--fresh", "--json"],
        )
        .json();
    assert_eq!(fresh["cached"], false, "{fresh}");
    assert_eq!(fresh["bundle_id"], PKG, "{fresh}");
    assert_eq!(fresh["push_key_id"], key_id.as_str(), "{fresh}");
    let fresh_token = fresh["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh_token, token);
    verify_jwt(dir, &fresh_token, "pub1.pem");
    let cached = team
        .run(&dev, &["ios", "apns-token", "--app", APP, "--json"])
        .json();
    assert_eq!(
        (cached["token"].as_str(), cached["cached"].as_bool()),
        (Some(fresh_token.as_str()), Some(true)),
        "{cached}"
    );

    // A replaced key is never served from the cache: the next token is the new key's.
    crate::ios::apns_key(dir, "AuthKey_NEW.p8");
    dir.tool(
        "openssl",
        &[
            "pkey",
            "-in",
            "AuthKey_NEW.p8",
            "-pubout",
            "-out",
            "pub2.pem",
        ],
    )
    .ok();
    let p8_new = String::from_utf8(dir.read("AuthKey_NEW.p8")).unwrap();
    team.site.secret(p8_new.lines().nth(1).unwrap());
    let replaced = team.server.send(
        "PUT",
        &format!("/v1/orgs/{}/credentials/{key_id}", team.org),
        Some(&owner.token),
        &[("if-match", "\"1\"")],
        Some(&serde_json::json!({ "type": "apple-push-key", "p8": p8_new,
                                  "key_id": "ABC123DEFG", "team_id": "A1B2C3D4E5" })),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let after = team
        .run(&dev, &["ios", "apns-token", "--app", APP, "--json"])
        .json();
    assert_eq!(after["cached"], false, "{after}");
    verify_jwt(dir, after["token"].as_str().unwrap(), "pub2.pem");

    // A viewer is refused; an app without a push key gets the reason.
    let err = team
        .run(&viewer, &["ios", "apns-token", "--app", APP])
        .fails_with(1);
    assert!(
        err.contains("this needs the developer role or higher; you are viewer"),
        "{err}"
    );
    let err = team
        .run(&dev, &["ios", "apns-token", "--app", "bare"])
        .fails_with(1);
    assert!(err.contains("app bare has no push key"), "{err}");
    let err = team
        .run(
            &dev,
            &[
                "ios",
                "apns-token",
                "--app",
                APP,
                "--bundle-id",
                "com.acme.other",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains(&format!(
            "bundle id com.acme.other of app {APP} has no push key; these have one: {PKG}"
        )),
        "{err}"
    );
    // --app and --push-key do not go together.
    let err = team
        .run(
            &dev,
            &[
                "ios",
                "apns-token",
                "--app",
                APP,
                "--push-key",
                "AuthKey_NEW.p8",
            ],
        )
        .fails_with(2);
    assert!(err.contains("cannot be used with"), "{err}");

    // Each token handed out is audited, cached or not, with the key id.
    let client = team.server.client(&owner.token);
    let audit = team
        .server
        .audit(&client, &team.org.parse().expect("an org id"));
    let issued: Vec<(bool, String)> = audit
        .iter()
        .filter(|r| r.action == "apns-token.issue")
        .map(|r| {
            let detail: Value = serde_json::from_str(&r.detail).unwrap();
            assert_eq!(detail["key_id"], "ABC123DEFG", "{r:?}");
            (detail["cached"].as_bool().unwrap(), r.target.clone())
        })
        .collect();
    assert_eq!(
        issued.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        // Newest first: after the replace, cached after fresh, fresh, cached, first.
        vec![false, true, false, true, false],
        "{audit:?}"
    );
    assert!(issued.iter().all(|(_, t)| *t == key_id));
}

#[test]
fn apns_token_on_sqlite() {
    apns_token_flow(Backend::Sqlite);
}

#[test]
fn apns_token_on_postgres() {
    apns_token_flow(Backend::Postgres);
}

fn play_signing_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;
    team.run(owner, &["app", "create", APP]).ok();
    let created = team
        .run(
            owner,
            &[
                "credentials",
                "android",
                "build-set",
                "create",
                "release",
                "--generate",
                "--app",
                APP,
                "--application-id",
                PKG,
                "--json",
            ],
        )
        .json();
    let old = created["keystore"]["id"].as_str().unwrap().to_owned();
    let old_sha256 = created["keystore"]["metadata"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let dev = team.member("dev@acme.test", "developer");
    let admin = team.member("admin@acme.test", "admin");
    let opt_in = [
        "credentials",
        "android",
        "opt-in-play-signing",
        "--app",
        APP,
        "--application-id",
        PKG,
    ];
    let with = |extra: &[&'static str]| {
        let mut v = opt_in.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let before = dir.listing();

    // A developer is refused (the export needs the admin role); nothing is written.
    let err = team.run(&dev, &with(&["--yes"])).fails_with(1);
    assert_eq!(
        err.lines().last().unwrap(),
        "error: this needs the admin role or higher; you are developer",
        "{err}"
    );
    assert_eq!(dir.listing(), before);
    // The API refuses a developer too.
    let refused = team.server.post(
        &format!(
            "/v1/orgs/{}/apps/{APP}/android/{PKG}/play-app-signing",
            team.org
        ),
        Some(&dev.token),
        &serde_json::json!({}),
    );
    refused.problem(403, "a developer's opt-in");
    // Off a terminal, --yes is needed.
    team.run(&admin, &opt_in).fails_with(2);
    assert_eq!(dir.listing(), before);

    let out = team.run(&admin, &with(&["--yes"])).ok();
    let backup = format!("{APP}-{PKG}-app-signing-key.p12");
    let password = format!("{APP}-{PKG}-app-signing-key.password");
    let pem = format!("{APP}-{PKG}-upload-certificate.pem");
    assert!(
        out.contains(&format!("written to {backup} (mode 0600)")),
        "{out}"
    );
    assert!(out.contains("not PEPK's encrypted file"), "{out}");
    assert_eq!(mode(&dir.path(&backup)), 0o600);
    assert_eq!(mode(&dir.path(&password)), 0o600);
    team.site.secret(
        String::from_utf8(dir.read(&password))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );

    // The backup is the old key, keytool lists it with its password.
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                &backup,
                "-storepass:file",
                &password,
            ],
        )
        .ok();
    let prints = keytool_fingerprints(&listing);
    assert_eq!(prints.len(), 1, "{listing}");
    assert_eq!(prints[0].2, old_sha256, "{listing}");

    // The new upload key is the default build set; the old key is kept and marked.
    let app = team
        .run(
            &admin,
            &["credentials", "android", "show", "--app", APP, "--json"],
        )
        .json();
    let sets = app["build_sets"].as_array().unwrap();
    let default: Vec<_> = sets.iter().filter(|s| s["is_default"] == true).collect();
    assert_eq!(default.len(), 1, "{app}");
    assert_eq!(default[0]["name"], "upload", "{app}");
    let new = default[0]["keystore_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(
        sets.iter()
            .any(|s| s["name"] == "release" && s["keystore_id"] == old.as_str()),
        "{app}"
    );
    assert_eq!(
        app["play_app_signing"][0]["app_signing_keystore_id"],
        old.as_str(),
        "{app}"
    );
    assert_eq!(
        app["play_app_signing"][0]["upload_keystore_id"],
        new.as_str(),
        "{app}"
    );
    let shown = team
        .run(&admin, &["credentials", "android", "show", "--app", APP])
        .ok();
    assert!(
        shown.contains(&format!(
            "keystore {old} is the app-signing key, held by Google; keep it"
        )),
        "{shown}"
    );
    let client = team.server.client(&owner.token);
    let org = team.org.parse().expect("an org id");
    let impact = team.server.ok(
        "the old key's impact",
        client.impact(&org, &old.parse().unwrap()),
    );
    assert!(
        impact
            .used_by
            .iter()
            .any(|u| u.contains("app-signing key, held by Google (Play App Signing)")),
        "{impact:?}"
    );

    // The upload certificate PEM is keytool's -exportcert -rfc of the new key.
    let alias = app["build_sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "upload")
        .and_then(|s| s["keystore"]["metadata"]["alias"].as_str())
        .unwrap()
        .to_owned();
    team.run(
        &admin,
        &[
            "credentials",
            "export",
            &new,
            "--out",
            "new.p12",
            "--password-out",
            "new.pass",
        ],
    )
    .ok();
    dir.tool(
        "keytool",
        &[
            "-exportcert",
            "-rfc",
            "-keystore",
            "new.p12",
            "-storepass:file",
            "new.pass",
            "-alias",
            &alias,
            "-file",
            "keytool.pem",
        ],
    )
    .ok();
    assert_eq!(dir.read(&pem), dir.read("keytool.pem"));

    // A second opt-in is refused, naming when; the server says so too (409).
    let listing_after = dir.listing();
    let err = team.run(&admin, &with(&["--yes"])).fails_with(1);
    assert!(
        err.contains(&format!(
            "{PKG} of app {APP} was opted in to Play App Signing on "
        )) && err.contains(&format!("Google holds keystore {old}")),
        "{err}"
    );
    assert_eq!(dir.listing(), listing_after);
    let again = team.server.post(
        &format!(
            "/v1/orgs/{}/apps/{APP}/android/{PKG}/play-app-signing",
            team.org
        ),
        Some(&admin.token),
        &serde_json::json!({}),
    );
    let problem = again.problem(409, "a second opt-in");
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/play-app-signing-done"),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{PKG} was opted in to Play App Signing on ")),
        "{problem}"
    );
}

#[test]
fn play_signing_on_sqlite() {
    play_signing_flow(Backend::Sqlite);
}

#[test]
fn play_signing_on_postgres() {
    play_signing_flow(Backend::Postgres);
}
