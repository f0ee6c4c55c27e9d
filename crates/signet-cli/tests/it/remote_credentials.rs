//! `signet credentials list|show|upload|delete|restore|export|expiring` against a served
//! Acme (SQLite and PostgreSQL): a keytool-made JKS and a signet-made PKCS#12 uploaded,
//! listed and shown with keytool's fingerprints, refused uploads that store nothing,
//! deletes that need --yes off a terminal, restore, exports an admin may make (read back by
//! keytool) and a developer may not, the expiring report, and one upload of each Apple
//! type with the files `ios.rs` makes with OpenSSL.

use serde_json::{Value, json};

use crate::{
    ios::{ProfileSpec, apns_key, apple_identity, apple_issues_cer, profile_from},
    remote::Team,
    serve::{Backend, b64, mode},
    util::keytool_fingerprints,
};

/// The line of a table that starts with `id`.
fn row(table: &str, id: &str) -> String {
    table
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no row for {id} in:\n{table}"))
        .to_owned()
}

/// The value of the `label:` line of aligned fields.
fn field(text: &str, label: &str) -> String {
    let prefix = format!("{label}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
        .trim()
        .to_owned()
}

/// The id a human upload prints first: `Uploaded cred_… (name).`
fn uploaded_id(out: &str) -> String {
    out.strip_prefix("Uploaded ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("not an upload's output:\n{out}"))
        .to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| c["id"].as_str().expect("an id").to_owned())
        .collect()
}

fn assert_no_secret(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "a secret ({}…) is in:\n{text}", &s[..8]);
    }
}

/// The first 8 pairs of a fingerprint.
fn short(fingerprint: &str) -> String {
    fingerprint.split(':').take(8).collect::<Vec<_>>().join(":")
}

fn keystores(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;

    // Off a terminal, `signet credentials` without an action asks nothing: exit 2.
    let err = team.run(owner, &["credentials"]).fails_with(2);
    assert_eq!(
        err,
        "error: `signet credentials` without an action is a menu for a terminal; off one, name \
         the action (`signet credentials list|show|upload|delete|…`, see --help) and its flags \
         (--app, -p/--platform, …)\n"
    );
    let with_flags = team
        .run(
            owner,
            &["credentials", "-p", "android", "--app", "acme-app"],
        )
        .fails_with(2);
    assert_eq!(with_flags, err);

    // A credential that is not there is named.
    let missing = "cred_000000000000000000000000";
    let err = team
        .run(owner, &["credentials", "show", missing])
        .fails_with(1);
    assert_eq!(
        err,
        format!(
            "error: credential {missing} is not in this organization (or was destroyed after \
             its restore window): no such resource\n"
        )
    );

    // A JKS made by keytool, its key password apart from the store password.
    let store_pw = team.site.password("jks-store");
    let key_pw = team.site.password("jks-key");
    dir.tool(
        "keytool",
        &[
            "-genkeypair",
            "-keystore",
            "kt.jks",
            "-storetype",
            "JKS",
            "-storepass",
            &store_pw,
            "-keypass",
            &key_pw,
            "-alias",
            "upload",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-dname",
            "CN=Keytool Made, O=Acme, C=US",
            "-validity",
            "12000",
            "-noprompt",
        ],
    )
    .ok();
    let jks = dir.read("kt.jks");
    let jks_b64 = b64(&jks);
    team.site.secret(&jks_b64);
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "kt.jks",
                "-storepass",
                &store_pw,
            ],
        )
        .ok();
    let [(alias, kt_sha1, kt_sha256)] = keytool_fingerprints(&listing)
        .try_into()
        .expect("one entry");
    assert_eq!(alias, "upload");

    // A PKCS#12 made by signet, valid for 10 days only.
    let p12_pw = team.site.password("p12-store");
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "short.p12",
        "--store-pass",
        &format!("pass:{p12_pw}"),
        "--alias",
        "short",
        "--key-alg",
        "ec",
        "--validity-days",
        "10",
    ])
    .ok();
    let p12_b64 = b64(&dir.read("short.p12"));
    team.site.secret(&p12_b64);
    let secrets = [
        store_pw.as_str(),
        key_pw.as_str(),
        p12_pw.as_str(),
        jks_b64.as_str(),
        p12_b64.as_str(),
    ];

    // A wrong store password: refused here with `keystore inspect`'s message and hint, and
    // nothing is stored.
    let inspect = dir
        .signet(&[
            "keystore",
            "inspect",
            "kt.jks",
            "--store-pass",
            "pass:not-the-password",
        ])
        .fails_with(1);
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "keystore",
                "kt.jks",
                "--store-pass",
                "pass:not-the-password",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: kt.jks: keystore password is incorrect (or the keystore was modified since it \
         was written)\nhint: check the store password, --store-pass or --ks-pass (keytool \
         reports this as \"Keystore was tampered with, or password was incorrect\")\n"
    );
    assert_eq!(err, inspect);
    // The key password is checked here too.
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "keystore",
                "kt.jks",
                "--store-pass",
                &format!("pass:{store_pw}"),
            ],
        )
        .fails_with(1);
    assert!(
        err.starts_with("error: kt.jks: key password is incorrect for alias `upload`\n"),
        "{err}"
    );
    // A refusal only the server makes (a PKCS#12 has one password): its detail, with the
    // flag it is about.
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "keystore",
                "short.p12",
                "--store-pass",
                &format!("pass:{p12_pw}"),
                "--key-pass",
                "pass:another-password",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: the server refused the upload (--key-pass): invalid `key_password`: a PKCS#12 \
         keystore has one password: leave key_password out, or give the store password\n"
    );
    let none = team.run(owner, &["credentials", "list", "--json"]).json();
    assert_eq!(none, json!([]), "a refused upload stored something");
    let empty = team.run(owner, &["credentials", "list"]).ok();
    assert_eq!(
        empty,
        "No credentials yet: upload one with `signet credentials upload <type> …`.\n"
    );

    // Both uploaded.
    let out = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "keystore",
                "kt.jks",
                "--store-pass",
                &format!("pass:{store_pw}"),
                "--key-pass",
                &format!("pass:{key_pw}"),
                "--name",
                "Keytool JKS",
                "--json",
            ],
        )
        .ok();
    assert_no_secret(&out, &secrets);
    let v: Value = serde_json::from_str(&out).expect("upload --json is JSON");
    let jks_id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v["type"], "android-keystore", "{v}");
    assert_eq!(v["name"], "Keytool JKS", "{v}");
    assert_eq!(v["metadata"]["keystore_type"], "jks", "{v}");
    assert_eq!(v["metadata"]["sha1"], kt_sha1.as_str(), "{v}");
    assert_eq!(v["metadata"]["sha256"], kt_sha256.as_str(), "{v}");
    let out = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "keystore",
                "short.p12",
                "--store-pass",
                &format!("pass:{p12_pw}"),
            ],
        )
        .ok();
    assert_no_secret(&out, &secrets);
    let p12_id = uploaded_id(&out);
    assert_eq!(field(&out, "Keystore type"), "PKCS12");
    assert!(
        out.contains("\nwarning: the certificate expires on ")
            && out.contains(", before 2033-10-22: Google Play requires keys valid until then\n"),
        "{out}"
    );

    // An app whose release build set signs with the JKS.
    team.run(owner, &["app", "create", "acme-app"]).ok();
    team.api(
        "PUT",
        &format!(
            "/v1/orgs/{}/apps/acme-app/android/com.acme.app/build-sets/release",
            team.org
        ),
        &json!({ "keystore_id": jks_id, "default": true }),
    );

    // The table: kind, name, short SHA-256 (keytool's), expiry in days (marked under 30),
    // what uses it.
    let table = team.run(owner, &["credentials", "list"]).ok();
    assert!(
        table.starts_with("ID  ")
            && table
                .lines()
                .next()
                .unwrap()
                .ends_with("EXPIRES IN  USED BY"),
        "{table}"
    );
    let jks_row = row(&table, &jks_id);
    for cell in [
        "android-keystore",
        "Keytool JKS",
        &short(&kt_sha256),
        "11999 days",
        "acme-app / android com.acme.app / build set release (default)",
    ] {
        assert!(jks_row.contains(cell), "{cell} not in {jks_row}");
    }
    let p12_row = row(&table, &p12_id);
    assert!(p12_row.contains("⚠ 9 days"), "{p12_row}");
    assert!(p12_row.ends_with("  -"), "{p12_row}");
    assert_no_secret(&table, &secrets);
    // --json parses, holds no secret, says what uses each.
    let out = team.run(owner, &["credentials", "list", "--json"]).ok();
    assert_no_secret(&out, &secrets);
    let list: Value = serde_json::from_str(&out).expect("list --json is JSON");
    let mut listed = ids(&list);
    listed.sort();
    let mut both = vec![jks_id.clone(), p12_id.clone()];
    both.sort();
    assert_eq!(listed, both);
    let jks_item = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == jks_id.as_str())
        .unwrap();
    assert_eq!(
        jks_item["used_by"],
        json!(["acme-app / android com.acme.app / build set release (default)"])
    );
    // Filters: what the app uses; a type.
    let app_list = team
        .run(
            owner,
            &["credentials", "list", "--app", "acme-app", "--json"],
        )
        .json();
    assert_eq!(ids(&app_list), vec![jks_id.clone()]);
    let typed = team
        .run(owner, &["credentials", "list", "--type", "dist-cert"])
        .ok();
    assert_eq!(typed, "No apple-distribution-certificate credentials.\n");

    // show: every derived field, keytool's fingerprints, what uses it.
    let shown = team.run(owner, &["credentials", "show", &jks_id]).ok();
    for (label, value) in [
        ("Id", jks_id.as_str()),
        ("Keystore type", "JKS"),
        ("Alias", "upload"),
        ("Owner", "CN=Keytool Made, O=Acme, C=US"),
        ("Public key", "RSA 2048 bits"),
        ("SHA1", &kt_sha1),
        ("SHA256", &kt_sha256),
        ("Debug key", "no"),
    ] {
        assert_eq!(field(&shown, label), value, "{shown}");
    }
    assert!(
        shown.contains("\nUsed by:\n  app acme-app / android com.acme.app / build set release\n"),
        "{shown}"
    );
    assert_no_secret(&shown, &secrets);
    let run = team.run(owner, &["credentials", "show", &jks_id, "--json"]);
    assert_no_secret(&run.stdout(), &secrets);
    let v = run.json();
    assert_eq!(v["credential"]["metadata"]["sha256"], kt_sha256.as_str());
    assert_eq!(
        v["impact"]["used_by"],
        json!(["app acme-app / android com.acme.app / build set release"])
    );
    assert_eq!(v["versions"], json!([]));

    // expiring: the 10-day keystore, not the other.
    let report = team.run(owner, &["credentials", "expiring"]).ok();
    assert!(row(&report, &p12_id).contains("⚠ 9 days"), "{report}");
    assert!(!report.contains(&jks_id), "{report}");
    let run = team.run(
        owner,
        &["credentials", "expiring", "--days", "30", "--json"],
    );
    assert_no_secret(&run.stdout(), &secrets);
    let v = run.json();
    assert_eq!(ids(&v), vec![p12_id.clone()]);

    // delete: the impact first; off a terminal without --yes, exit 2 and nothing deleted.
    let run = team.run(owner, &["credentials", "delete", &jks_id]);
    let err = run.fails_with(2);
    assert_eq!(
        err,
        format!(
            "error: Delete android-keystore {jks_id} (Keytool JKS): pass --yes to confirm \
             (standard input is not a terminal)\n"
        )
    );
    assert_eq!(
        run.stdout(),
        format!(
            "Deleting android-keystore {jks_id} (Keytool JKS):\n  builds using it can no \
             longer be signed; if it is an app's upload or app-signing key and no copy exists, \
             that app can never be updated.\n  A keystore must be identical to the one used \
             for the app's earlier uploads to Google Play.\nUsed by:\n  app acme-app / android \
             com.acme.app / build set release\nNothing is revoked at Apple or Google. It stays \
             restorable for 30 days.\n"
        )
    );
    assert_eq!(
        ids(&team.run(owner, &["credentials", "list", "--json"]).json()).len(),
        2
    );

    // Export: an admin's equals what was uploaded, and keytool reads it with the password
    // file; a developer's is refused with the server's reason, naming the role.
    let admin = team.member("admin@acme.test", "admin");
    let dev = team.member("dev@acme.test", "developer");
    let err = team
        .run(
            &dev,
            &["credentials", "export", &jks_id, "--out", "dev.jks"],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: this needs the admin role or higher; you are developer\n"
    );
    assert!(!dir.exists("dev.jks"));
    let out = team
        .run(
            &admin,
            &[
                "credentials",
                "export",
                &jks_id,
                "--out",
                "out.jks",
                "--password-out",
                "out.pass",
            ],
        )
        .ok();
    assert_eq!(
        out,
        format!(
            "Wrote android-keystore {jks_id} (Keytool JKS) to out.jks (mode 0600).\nKey alias: \
             upload\nPassword written to out.pass (mode 0600): the store password on the first \
             line; the key password, which differs, on the second (use it as file:out.pass).\n"
        )
    );
    assert_eq!(dir.read("out.jks"), jks);
    assert_eq!(mode(&dir.path("out.jks")), 0o600);
    assert_eq!(mode(&dir.path("out.pass")), 0o600);
    assert_eq!(
        String::from_utf8(dir.read("out.pass")).unwrap(),
        format!("{store_pw}\n{key_pw}\n")
    );
    let listed = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "out.jks",
                "-storepass:file",
                "out.pass",
            ],
        )
        .ok();
    assert_eq!(
        keytool_fingerprints(&listed),
        vec![("upload".to_owned(), kt_sha1.clone(), kt_sha256.clone())]
    );
    // Without --show-secrets, --json holds no password; with it, it does.
    let out = team
        .run(
            &admin,
            &[
                "credentials",
                "export",
                &p12_id,
                "--out",
                "out.p12",
                "--json",
            ],
        )
        .ok();
    assert_no_secret(&out, &secrets);
    let v: Value = serde_json::from_str(&out).expect("export --json is JSON");
    assert_eq!(v["file"], "out.p12", "{v}");
    assert_eq!(v["key_alias"], "short", "{v}");
    let err = team
        .run(
            &admin,
            &["credentials", "export", &p12_id, "--out", "out.p12"],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: out.p12 already exists\nhint: pass --force to overwrite it, or choose another --out\n"
    );
    let v = team
        .run(
            &admin,
            &[
                "credentials",
                "export",
                &p12_id,
                "--out",
                "out.p12",
                "--force",
                "--show-secrets",
                "--json",
            ],
        )
        .json();
    assert_eq!(v["secrets"]["store_password"], p12_pw.as_str(), "{v}");

    // delete --yes, with a backup written first; then it is listed as deleted, and restored.
    let out = team
        .run(
            &admin,
            &[
                "credentials",
                "delete",
                &jks_id,
                "--yes",
                "--backup-to",
                "backup.jks",
            ],
        )
        .ok();
    assert!(
        out.contains(
            "\nBacked up to backup.jks (its passwords in backup.jks.password; both mode 0600).\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\nDeleted {jks_id} (Keytool JKS). An admin can restore it for 30 days (until "
        )) && out.ends_with(&format!(") with `signet credentials restore {jks_id}`.\n")),
        "{out}"
    );
    assert_eq!(dir.read("backup.jks"), jks);
    assert_eq!(mode(&dir.path("backup.jks")), 0o600);
    assert_eq!(
        ids(&team.run(owner, &["credentials", "list", "--json"]).json()),
        vec![p12_id.clone()]
    );
    let deleted = team.run(owner, &["credentials", "list", "--deleted"]).ok();
    let header = deleted.lines().next().unwrap();
    assert!(
        header.contains("  DELETED  ") && header.ends_with("  PURGED AFTER"),
        "{deleted}"
    );
    assert!(row(&deleted, &jks_id).contains("Keytool JKS"), "{deleted}");
    let v = team
        .run(owner, &["credentials", "list", "--deleted", "--json"])
        .json();
    let item = &v[0];
    assert_eq!(item["id"], jks_id.as_str());
    assert_eq!(
        item["purge_after"].as_i64().unwrap() - item["deleted_at"].as_i64().unwrap(),
        30 * 86_400_000
    );
    // Restoring is an admin's; a developer is told so.
    let err = team
        .run(&dev, &["credentials", "restore", &jks_id])
        .fails_with(1);
    assert_eq!(
        err,
        "error: this needs the admin role or higher; you are developer\n"
    );
    let out = team.run(&admin, &["credentials", "restore", &jks_id]).ok();
    assert_eq!(
        out,
        format!("Restored android-keystore {jks_id} (Keytool JKS).\n")
    );
    let mut listed = ids(&team.run(owner, &["credentials", "list", "--json"]).json());
    listed.sort();
    assert_eq!(listed, both);
    assert_eq!(
        team.run(owner, &["credentials", "list", "--deleted"]).ok(),
        "No deleted credentials (none waiting to be purged).\n"
    );
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn keystores_on_sqlite() {
    keystores(Backend::Sqlite);
}

#[test]
fn keystores_on_postgres() {
    keystores(Backend::Postgres);
}

fn apple_and_google(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;
    let upload = |args: &[&str]| -> Value {
        let mut full = vec!["credentials", "upload"];
        full.extend_from_slice(args);
        full.push("--json");
        team.run(owner, &full).json()
    };

    // The team first (an upload naming a team would make it implicitly).
    let v = upload(&[
        "apple-team",
        "--team-id",
        "A1B2C3D4E5",
        "--team-name",
        "Acme Inc",
        "--team-type",
        "company",
    ]);
    assert_eq!(v["type"], "apple-team", "{v}");
    assert_eq!(v["metadata"]["team_name"], "Acme Inc", "{v}");
    let team_id = v["id"].as_str().unwrap().to_owned();
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "apple-team",
                "--team-id",
                "A1B2C3D4E5",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        format!("error: already exists: Apple team A1B2C3D4E5 ({team_id})\n")
    );

    // A distribution certificate as a .p12 (OpenSSL's), its SHA-1 OpenSSL's.
    apple_identity(dir, false, "dist.p12");
    team.site.secret(&b64(&dir.read("dist.p12")));
    let v = upload(&[
        "dist-cert",
        "--p12",
        "dist.p12",
        "--p12-pass",
        "pass:p12-pass",
        "--team-id",
        "A1B2C3D4E5",
    ]);
    let cert_id = v["id"].as_str().unwrap().to_owned();
    let cert_name = v["name"].as_str().unwrap().to_owned();
    assert_eq!(v["type"], "apple-distribution-certificate", "{v}");
    assert_eq!(v["apple_team"], "A1B2C3D4E5", "{v}");
    assert_eq!(v["metadata"]["kind"], "distribution", "{v}");
    let openssl = dir
        .tool(
            "openssl",
            &["x509", "-in", "dist.pem", "-noout", "-fingerprint", "-sha1"],
        )
        .ok();
    let sha1 = openssl
        .trim()
        .strip_prefix("sha1 Fingerprint=")
        .expect("openssl's fingerprint line");
    assert_eq!(v["metadata"]["sha1"], sha1, "{v}");

    // A profile allowing it.
    profile_from(
        dir,
        &ProfileSpec {
            cert_pem: "dist.pem",
            team: "A1B2C3D4E5",
            app_id: "com.acme.app",
            expires: "2099-01-01T00:00:00Z",
            devices: false,
            get_task_allow: false,
            aps: true,
        },
        "acme.mobileprovision",
    );
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "profile",
                "acme.mobileprovision",
                "--bundle-id",
                "com.other.app",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: the server refused the upload (--bundle-id): invalid `bundle_id`: the profile \
         is for `com.acme.app`, which does not match `com.other.app`\n"
    );
    let out = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "profile",
                "acme.mobileprovision",
                "--bundle-id",
                "com.acme.app",
            ],
        )
        .ok();
    let profile_id = uploaded_id(&out);
    assert_eq!(field(&out, "Kind"), "app-store");
    assert_eq!(field(&out, "Bundle id"), "com.acme.app");
    assert_eq!(field(&out, "Devices"), "0");
    assert_eq!(
        field(&out, "Entitlements"),
        "aps-environment=production, get-task-allow=false"
    );
    assert_eq!(
        field(&out, "Certificates allowed"),
        format!("SHA1 {}", short(sha1))
    );
    assert!(
        field(&out, "Expires").starts_with("2099-01-01 00:00:00 UTC (in "),
        "{out}"
    );

    // An APNs key, its id from Apple's file name; an App Store Connect key.
    apns_key(dir, "AuthKey_ABC123DEFG.p8");
    let push_pem = String::from_utf8(dir.read("AuthKey_ABC123DEFG.p8")).unwrap();
    let v = upload(&[
        "push-key",
        "AuthKey_ABC123DEFG.p8",
        "--team-id",
        "A1B2C3D4E5",
    ]);
    assert_eq!(v["type"], "apple-push-key", "{v}");
    assert_eq!(v["metadata"]["key_id"], "ABC123DEFG", "{v}");
    let push_id = v["id"].as_str().unwrap().to_owned();
    apns_key(dir, "asc.p8");
    let asc_pem = String::from_utf8(dir.read("asc.p8")).unwrap();
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "asc-key",
                "asc.p8",
                "--key-id",
                "ASC1234567",
                "--issuer-id",
                "not-a-uuid",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: the server refused the upload (--issuer-id): invalid `issuer_id`: not a UUID \
         (App Store Connect's issuer id)\n"
    );
    let v = upload(&[
        "asc-key",
        "asc.p8",
        "--key-id",
        "ASC1234567",
        "--issuer-id",
        "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
        "--role",
        "APP_MANAGER",
        "--name",
        "CI key",
    ]);
    assert_eq!(v["type"], "asc-api-key", "{v}");
    assert_eq!(v["name"], "CI key", "{v}");
    assert_eq!(v["metadata"]["roles"], json!(["APP_MANAGER"]), "{v}");

    // A Google service account key and an FCM server key.
    dir.tool(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "sa.pem",
        ],
    )
    .ok();
    let sa_pem = String::from_utf8(dir.read("sa.pem")).unwrap();
    let sa = json!({
        "type": "service_account", "project_id": "acme-prod", "private_key_id": "0123456789abcdef",
        "private_key": sa_pem, "client_email": "ci@acme-prod.iam.gserviceaccount.com",
    });
    dir.write("sa.json", sa.to_string());
    let v = upload(&["service-account", "sa.json"]);
    assert_eq!(v["type"], "google-service-account-key", "{v}");
    assert_eq!(v["metadata"]["project_id"], "acme-prod", "{v}");
    let fcm = team.site.password("AAAAfcm-server-key");
    let v = upload(&["fcm-key", "--server-key", &format!("pass:{fcm}")]);
    assert_eq!(v["metadata"]["first4"], "AAAA", "{v}");

    let mut secrets: Vec<String> = vec!["p12-pass".into(), fcm.clone(), b64(&dir.read("dist.p12"))];
    for pem in [&push_pem, &asc_pem, &sa_pem] {
        secrets.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
        team.site.secret(pem);
    }
    team.site.secret(&fcm);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let out = team.run(owner, &["credentials", "list", "--json"]).ok();
    assert_no_secret(&out, &secrets);
    assert_eq!(ids(&serde_json::from_str(&out).unwrap()).len(), 7);
    let table = team.run(owner, &["credentials", "list"]).ok();
    assert_no_secret(&table, &secrets);
    let cert_row = row(&table, &cert_id);
    assert!(cert_row.contains("A1B2C3D4E5"), "{cert_row}");
    assert!(cert_row.contains(&short(sha1)), "{cert_row}");
    assert!(row(&table, &push_id).contains("key ABC123DEFG"), "{table}");

    // A second distribution certificate for the team, as key and .cer: one is the limit,
    // and the server's reason is shown. A key the .cer was not issued for is refused here.
    dir.signet(&["ios", "csr", "--key-out", "req.key", "--csr-out", "req.csr"])
        .ok();
    apple_issues_cer(dir, "req.csr", "issued.cer");
    team.site
        .secret(&String::from_utf8(dir.read("req.key")).unwrap());
    let err = team
        .run(
            owner,
            &[
                "credentials",
                "upload",
                "dist-cert",
                "--key",
                "asc.p8",
                "--cer",
                "issued.cer",
            ],
        )
        .fails_with(1);
    assert_eq!(
        err,
        "error: issued.cer was not issued for the key in asc.p8: use the key the certificate \
         request was made with\n"
    );
    let parts = [
        "credentials",
        "upload",
        "dist-cert",
        "--key",
        "req.key",
        "--cer",
        "issued.cer",
        "--json",
    ];
    let err = team.run(owner, &parts).fails_with(1);
    assert_eq!(
        err,
        format!(
            "error: limit reached: at most 1 distribution certificates per Apple team (team \
             A1B2C3D4E5); held by {cert_id} ({cert_name})\n"
        )
    );
    // Deleting the first names the profile it breaks, and frees the slot.
    let out = team
        .run(owner, &["credentials", "delete", &cert_id, "--yes"])
        .ok();
    assert!(
        out.contains(
            "\n  its provisioning profiles and the builds that use them stop working at build \
             time; apps already in production are not affected.\n"
        ) && out.contains(&format!("\nAlso affected:\n  {profile_id} (check)\n"))
            && out.contains("\nNothing is revoked at Apple or Google."),
        "{out}"
    );
    let v = team.run(owner, &parts).json();
    let made_id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["metadata"]["kind"], "distribution", "{v}");

    // Exports: the profile and the .p8 as uploaded; the .p12 the server made from the key
    // and .cer opens in keytool with the password it wrote.
    let admin = &team.owner;
    team.run(
        admin,
        &[
            "credentials",
            "export",
            &profile_id,
            "--out",
            "p.mobileprovision",
        ],
    )
    .ok();
    assert_eq!(
        dir.read("p.mobileprovision"),
        dir.read("acme.mobileprovision")
    );
    let out = team
        .run(
            admin,
            &["credentials", "export", &push_id, "--out", "push.p8"],
        )
        .ok();
    assert_eq!(
        out,
        format!(
            "Wrote apple-push-key {push_id} (APNs key ABC123DEFG) to push.p8 (mode 0600).\n\
             Key id:  ABC123DEFG\nTeam id: A1B2C3D4E5\n"
        )
    );
    assert_eq!(String::from_utf8(dir.read("push.p8")).unwrap(), push_pem);
    let out = team
        .run(
            admin,
            &["credentials", "export", &made_id, "--out", "made.p12"],
        )
        .ok();
    assert!(
        out.ends_with(
            "The password is not shown: pass --password-out FILE to write it to a file (mode \
             0600), or --show-secrets to print it.\n"
        ),
        "{out}"
    );
    team.run(
        admin,
        &[
            "credentials",
            "export",
            &made_id,
            "--out",
            "made.p12",
            "--force",
            "--password-out",
            "made.pass",
        ],
    )
    .ok();
    team.site
        .secret(String::from_utf8(dir.read("made.pass")).unwrap().trim());
    let listing = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-keystore",
                "made.p12",
                "-storetype",
                "PKCS12",
                "-storepass:file",
                "made.pass",
            ],
        )
        .ok();
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");
    let err = team
        .run(
            admin,
            &["credentials", "export", &team_id, "--out", "team.txt"],
        )
        .fails_with(2);
    assert_eq!(
        err,
        "error: an apple-team holds no file or secret to export; `signet credentials show` shows it\n"
    );
    assert!(!dir.exists("team.txt"));
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn apple_and_google_on_sqlite() {
    apple_and_google(Backend::Sqlite);
}

#[test]
fn apple_and_google_on_postgres() {
    apple_and_google(Backend::Postgres);
}
