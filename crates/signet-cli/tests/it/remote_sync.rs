//! `signet credentials sync` and `signet build-credentials fetch` against a served Acme
//! (SQLite and PostgreSQL): keytool's keystores and Apple-like certificates and profiles,
//! eas-cli's own credentials.json reader on what `--to-local` and `fetch` write, the
//! server's export on what `--to-remote` uploaded, apksigner signing with what a robot
//! fetched, and the refusals (a wrong password, a missing bundle id, a viewer) with their
//! exact messages and nothing changed.

use std::path::Path;

use serde_json::{Value, json};

use crate::{
    eas_json::eas_read,
    ios::{ProfileSpec, apple_identity, profile_from},
    remote::{Person, Team},
    serve::{Backend, b64, mode, unb64},
    util::{Dir, Run},
};

const APP_ID: &str = "com.acme.app";

/// A keytool-made JKS in `dir`, its key password apart from the store password; returns
/// its bytes.
fn keytool_jks(dir: &Dir, name: &str, alias: &str, store_pass: &str, key_pass: &str) -> Vec<u8> {
    dir.tool(
        "keytool",
        &[
            "-genkeypair",
            "-keystore",
            name,
            "-storetype",
            "JKS",
            "-storepass",
            store_pass,
            "-keypass",
            key_pass,
            "-alias",
            alias,
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-dname",
            "CN=Acme Upload, O=Acme, C=US",
            "-validity",
            "12000",
            "-noprompt",
        ],
    )
    .ok();
    dir.read(name)
}

/// Acme's app `acme-app`; returns its id.
fn create_app(team: &Team) -> String {
    let v = team.api(
        "POST",
        &format!("/v1/orgs/{}/apps", team.org),
        &json!({ "slug": "acme-app" }),
    );
    v["id"].as_str().expect("app id").to_owned()
}

/// Uploads a credential as the owner; returns its id. Its secret parts are remembered.
fn upload(team: &Team, body: &Value) -> String {
    let v = team.api("POST", &format!("/v1/orgs/{}/credentials", team.org), body);
    v["id"].as_str().expect("credential id").to_owned()
}

fn upload_keystore(team: &Team, bytes: &[u8], store_pass: &str, key_pass: &str) -> String {
    let encoded = b64(bytes);
    team.site.secret(&encoded);
    upload(
        team,
        &json!({ "type": "android-keystore", "keystore": encoded, "store_password": store_pass,
                 "key_alias": "upload", "key_password": key_pass }),
    )
}

fn app_path(team: &Team, app: &str) -> String {
    format!("/v1/orgs/{}/apps/{app}", team.org)
}

/// The app's build sets and pairs, as the owner reads them.
fn app_state(team: &Team, app: &str) -> Value {
    team.server
        .get(&app_path(team, app), &team.owner.token)
        .expect(200, "app")
}

/// Ids of the organization's live credentials, sorted.
fn credential_ids(team: &Team) -> Vec<String> {
    let owner = team.server.client(&team.owner.token);
    let org = team.org.parse().expect("an organization id");
    let mut ids: Vec<String> = team
        .server
        .credentials(&owner, &org)
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    ids.sort();
    ids
}

/// The export of a credential's secret, as the owner (an admin) gets it.
fn export(team: &Team, id: &str) -> Value {
    team.server
        .get(
            &format!("/v1/orgs/{}/credentials/{id}/secret", team.org),
            &team.owner.token,
        )
        .expect(200, "export")
}

fn sync<S: AsRef<str>>(team: &Team, person: &Person, args: &[S]) -> Run {
    let mut full = vec![
        "credentials",
        "sync",
        "--app",
        "acme-app",
        "--project-dir",
        "project",
    ];
    full.extend(args.iter().map(AsRef::as_ref));
    team.run(person, &full)
}

fn assert_no_secret(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !text.contains(s),
            "a secret ({}…) is in:\n{text}",
            &s[..s.len().min(6)]
        );
    }
}

/// The single directory under `dir`.
/// The one backup in `dir` (beside the `.gitignore` that keeps backups out of git).
fn only_entry(dir: &Path) -> std::path::PathBuf {
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).expect("the backups' .gitignore"),
        "*\n"
    );
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != ".gitignore"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

fn android_round_trip(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let app = create_app(&team);
    let site = &team.site.dir;
    let (store1, key1) = (team.site.password("store1"), team.site.password("key1"));
    let jks1 = keytool_jks(site, "v1.jks", "upload", &store1, &key1);
    let ks1 = upload_keystore(&team, &jks1, &store1, &key1);
    team.api(
        "PUT",
        &format!(
            "{}/android/{APP_ID}/build-sets/release",
            app_path(&team, &app)
        ),
        &json!({ "keystore_id": ks1 }),
    );

    // A project in a git work tree, with a credentials.json of its own keys.
    let project = site.path("project");
    std::fs::create_dir_all(&project).unwrap();
    site.tool("git", &["init", "-q", "project"]).ok();
    std::fs::write(
        project.join("credentials.json"),
        r#"{"experimental": {"note": "kept"}}"#,
    )
    .unwrap();

    // --to-local: the server's keystore at eas-cli's path, read back by eas-cli itself.
    let run = sync(&team, owner, &["--to-local"]);
    let out = run.ok();
    assert!(
        out.contains("Wrote project/credentials/android/keystore.jks\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "android {APP_ID} / build set release: android-keystore {ks1} ("
        )),
        "{out}"
    );
    assert!(
        run.stderr().contains(
            "warning: project/credentials/android/keystore.jks, project/credentials.json are not \
             ignored by git: add them to .gitignore"
        ),
        "{}",
        run.stderr()
    );
    assert_no_secret(&(out.clone() + &run.stderr()), &[&store1, &key1]);
    let keystore_file = project.join("credentials/android/keystore.jks");
    assert_eq!(std::fs::read(&keystore_file).unwrap(), jks1);
    assert_eq!(mode(&keystore_file), 0o600);
    assert_eq!(mode(&project.join("credentials.json")), 0o600);
    assert_eq!(mode(&project.join("credentials/android")), 0o700);
    let written: Value =
        serde_json::from_slice(&std::fs::read(project.join("credentials.json")).unwrap()).unwrap();
    assert_eq!(written["experimental"]["note"], "kept", "{written}");
    assert_eq!(
        eas_read(&project, &["android"]).unwrap(),
        json!({"keystore": {
            "keystore": b64(&jks1),
            "keystorePassword": store1,
            "keyAlias": "upload",
            "keyPassword": key1,
        }})
    );

    // Ignored by git: no warning. Again: nothing differs.
    std::fs::write(
        project.join(".gitignore"),
        "credentials.json\ncredentials/\ncredentials-backup/\n",
    )
    .unwrap();
    let run = sync(&team, owner, &["--to-local"]);
    assert!(
        run.ok()
            .contains("Unchanged project/credentials/android/keystore.jks\n")
    );
    assert!(!run.stderr().contains("warning"), "{}", run.stderr());

    // A local file that differs is not replaced without --yes (off a terminal: exit 2).
    std::fs::write(&keystore_file, b"local edits").unwrap();
    let err = sync(&team, owner, &["--to-local"]).fails_with(2);
    assert_eq!(
        err,
        "These local files differ from the server's build credentials:\n  \
         project/credentials/android/keystore.jks (keystore)\nerror: replace them with the server's: \
         pass --yes to confirm (standard input is not a terminal)\n"
    );
    assert_eq!(std::fs::read(&keystore_file).unwrap(), b"local edits");
    let report = sync(&team, owner, &["--to-local", "--yes", "--json"]).json();
    assert_eq!(
        report["written"],
        json!(["project/credentials/android/keystore.jks"])
    );
    assert_no_secret(&report.to_string(), &[&store1, &key1, &b64(&jks1)[..40]]);
    assert_eq!(std::fs::read(&keystore_file).unwrap(), jks1);

    // A new keystore locally, with credentials.json updated (a wrong password first).
    let (store2, key2) = (team.site.password("store2"), team.site.password("key2"));
    let jks2 = keytool_jks(site, "v2.jks", "upload", &store2, &key2);
    team.site.secret(&b64(&jks2));
    std::fs::write(&keystore_file, &jks2).unwrap();
    let local_json = |store: &str| {
        let mut v = written.clone();
        v["android"]["keystore"]["keystorePassword"] = json!(store);
        v["android"]["keystore"]["keyPassword"] = json!(key2);
        std::fs::write(project.join("credentials.json"), v.to_string()).unwrap();
    };
    let before = credential_ids(&team);
    local_json("not the password");
    let err = sync(&team, owner, &["--to-remote", "--yes"]).fails_with(1);
    assert_eq!(
        err,
        "error: project/credentials.json: android.keystore.keystorePassword \
         (credentials/android/keystore.jks): keystore password is incorrect (or the keystore \
         was modified since it was written); nothing was changed on the server\n"
    );
    assert_eq!(credential_ids(&team), before);
    assert_eq!(
        app_state(&team, &app)["build_sets"][0]["keystore_id"],
        ks1.as_str()
    );

    // Replacing needs --yes; nothing changes without it.
    local_json(&store2);
    let err = sync(&team, owner, &["--to-remote"]).fails_with(2);
    assert!(
        err.starts_with(&format!(
            "These build credentials on the server would be replaced by project/credentials.json's:\n  \
             android {APP_ID} / build set release: keystore {ks1}, to be replaced by \
             credentials/android/keystore.jks ("
        )),
        "{err}"
    );
    assert!(
        err.ends_with(
            "error: replace them (the old ones are backed up first): pass --yes to confirm \
             (standard input is not a terminal)\n"
        ),
        "{err}"
    );
    assert_eq!(credential_ids(&team), before);
    assert!(!project.join("credentials-backup").exists());

    // A name the server would refuse is refused before anything is uploaded.
    let err = sync(
        &team,
        owner,
        &["--to-remote", "--yes", "--application-id", "bad..id"],
    )
    .fails_with(1);
    assert_eq!(
        err,
        "error: invalid `application_id`: `bad..id` is not an application or bundle \
         identifier; nothing was changed on the server\n"
    );
    assert_eq!(credential_ids(&team), before);

    // A developer can: the backup is read with the build-credentials fetch, not the
    // export (admin).
    let dev = team.member("dev@acme.test", "developer");
    let run = sync(&team, &dev, &["--to-remote", "--yes", "--json"]);
    let report = run.json();
    assert_no_secret(&report.to_string(), &[&store1, &key1, &store2, &key2]);
    let ks2 = report["uploaded"][0]["id"]
        .as_str()
        .expect("uploaded")
        .to_owned();
    assert_eq!(
        report["uploaded"][0]["type"], "android-keystore",
        "{report}"
    );
    assert_eq!(
        report["changed"],
        json!([{ "place": format!("android {APP_ID} / build set release"),
                 "from": [ks1], "to": [ks2] }])
    );
    // The server's export is the new keystore; the build set uses it.
    let exported = export(&team, &ks2);
    assert_eq!(
        unb64(exported["secret"]["keystore"].as_str().unwrap()),
        jks2
    );
    assert_eq!(exported["secret"]["store_password"], store2.as_str());
    assert_eq!(exported["secret"]["key_password"], key2.as_str());
    assert_eq!(
        app_state(&team, &app)["build_sets"][0]["keystore_id"],
        ks2.as_str()
    );
    // The old one was backed up first, as a project eas-cli reads.
    let backup = only_entry(&project.join("credentials-backup"));
    assert_eq!(
        report["backup"],
        format!(
            "project/credentials-backup/{}",
            backup.file_name().unwrap().to_string_lossy()
        )
    );
    let backed_up = backup.join("credentials/android/keystore.jks");
    assert_eq!(std::fs::read(&backed_up).unwrap(), jks1);
    assert_eq!(mode(&backed_up), 0o600);
    assert_eq!(mode(&backup), 0o700);
    assert_eq!(
        eas_read(&backup, &["android"]).unwrap()["keystore"],
        json!({ "keystore": b64(&jks1), "keystorePassword": store1, "keyAlias": "upload",
                "keyPassword": key1 })
    );
    // In sync now: nothing to do, nothing uploaded.
    let out = sync(&team, owner, &["--to-remote"]).ok();
    assert!(
        out.contains(&format!(
            "android {APP_ID} / build set release: unchanged\n"
        )),
        "{out}"
    );
    assert!(out.contains("Nothing to change"), "{out}");
    assert_eq!(credential_ids(&team).len(), before.len() + 1);
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn android_round_trip_on_sqlite() {
    android_round_trip(Backend::Sqlite);
}

#[test]
fn android_round_trip_on_postgres() {
    android_round_trip(Backend::Postgres);
}

/// An app-store profile for `bundle_id` allowing the certificate of `dist.pem`.
fn profile(fixtures: &Dir, bundle_id: &str, expires: &str, out: &str) -> Vec<u8> {
    profile_from(
        fixtures,
        &ProfileSpec {
            cert_pem: "dist.pem",
            team: "A1B2C3D4E5",
            app_id: bundle_id,
            expires,
            devices: false,
            get_task_allow: false,
            aps: false,
        },
        out,
    );
    fixtures.read(out)
}

fn ios_targets(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let app = create_app(&team);
    let widget_id = "com.acme.app.widget";
    // One certificate, two profiles.
    let fixtures = Dir::new();
    apple_identity(&fixtures, false, "dist.p12");
    let p12 = fixtures.read("dist.p12");
    team.site.secret(&b64(&p12));
    team.site.secret("p12-pass");
    let app_profile = profile(
        &fixtures,
        APP_ID,
        "2099-01-01T00:00:00Z",
        "app.mobileprovision",
    );
    let widget_profile = profile(
        &fixtures,
        widget_id,
        "2098-01-01T00:00:00Z",
        "widget.mobileprovision",
    );
    let cert = upload(
        &team,
        &json!({ "type": "apple-distribution-certificate", "p12": b64(&p12), "password": "p12-pass" }),
    );
    let mut pairs = Vec::new();
    for (bundle, bytes) in [(APP_ID, &app_profile), (widget_id, &widget_profile)] {
        let id = upload(
            &team,
            &json!({ "type": "apple-provisioning-profile", "profile": b64(bytes), "bundle_id": bundle }),
        );
        team.api(
            "PUT",
            &format!(
                "{}/ios/{bundle}/build-pairs/app-store",
                app_path(&team, &app)
            ),
            &json!({ "certificate_id": cert, "profile_id": id }),
        );
        pairs.push(id);
    }
    let site = &team.site.dir;
    let project = site.path("project");
    let targets = [
        "--platform",
        "ios",
        "--target",
        &format!("App={APP_ID}"),
        "--target",
        &format!("Widget={widget_id}"),
    ];
    let with = |more: &[&'static str]| -> Vec<String> {
        targets
            .iter()
            .map(|s| (*s).to_owned())
            .chain(more.iter().map(|s| (*s).to_owned()))
            .collect()
    };

    // --to-local writes the map keyed by target, each file prefixed, read by eas-cli.
    let out = sync(&team, owner, &with(&["--to-local"])).ok();
    for f in [
        "project/credentials/ios/App-profile.mobileprovision",
        "project/credentials/ios/App-dist-cert.p12",
        "project/credentials/ios/Widget-profile.mobileprovision",
        "project/credentials/ios/Widget-dist-cert.p12",
        "project/credentials.json",
    ] {
        assert!(out.contains(&format!("Wrote {f}\n")), "{f}: {out}");
    }
    let expected = |app: &[u8], widget: &[u8]| {
        json!({
            "App": { "provisioningProfile": b64(app),
                     "distributionCertificate": { "certificateP12": b64(&p12), "certificatePassword": "p12-pass" } },
            "Widget": { "provisioningProfile": b64(widget),
                        "distributionCertificate": { "certificateP12": b64(&p12), "certificatePassword": "p12-pass" } },
        })
    };
    assert_eq!(
        eas_read(&project, &["ios", "App", "Widget"]).unwrap(),
        expected(&app_profile, &widget_profile)
    );

    // A target credentials.json names needs its bundle id.
    let err = sync(
        &team,
        owner,
        &[
            "--to-remote",
            "--platform",
            "ios",
            "--target",
            &format!("App={APP_ID}"),
        ],
    )
    .fails_with(2);
    assert_eq!(
        err,
        "error: credentials.json's iOS target `Widget` has no bundle id: give it with --target \
         Widget=BUNDLE_ID\n"
    );

    // Refused locally, before any change: a wrong .p12 password; a profile of another
    // distribution type.
    let before = credential_ids(&team);
    let json_file = project.join("credentials.json");
    let good_json = std::fs::read(&json_file).unwrap();
    let mut bad: Value = serde_json::from_slice(&good_json).unwrap();
    bad["ios"]["Widget"]["distributionCertificate"]["password"] = json!("wrong");
    std::fs::write(&json_file, bad.to_string()).unwrap();
    let err = sync(&team, owner, &with(&["--to-remote", "--yes"])).fails_with(1);
    assert_eq!(
        err,
        "error: project/credentials.json: ios.Widget.distributionCertificate.password \
         (credentials/ios/Widget-dist-cert.p12): .p12 password is incorrect; nothing was \
         changed on the server\n"
    );
    std::fs::write(&json_file, &good_json).unwrap();
    let err = sync(
        &team,
        owner,
        &with(&["--to-remote", "--yes", "--distribution", "ad-hoc"]),
    )
    .fails_with(1);
    assert_eq!(
        err,
        "error: project/credentials.json: ios.App.provisioningProfilePath \
         (credentials/ios/App-profile.mobileprovision, for com.acme.app ad-hoc builds): the \
         profile is for app-store builds, not ad-hoc; nothing was changed on the server\n"
    );
    assert_eq!(credential_ids(&team), before);

    // --to-remote of what the server has: nothing to change.
    let out = sync(&team, owner, &with(&["--to-remote"])).ok();
    assert!(
        out.contains(&format!(
            "ios {widget_id} / app-store (target Widget): unchanged\n"
        )),
        "{out}"
    );
    assert!(out.contains("Nothing to change"), "{out}");
    assert_eq!(credential_ids(&team), before);

    // A new Widget profile: uploaded and paired with the same certificate (not uploaded
    // again); the old pair backed up.
    let widget2 = profile(
        &fixtures,
        widget_id,
        "2097-01-01T00:00:00Z",
        "widget2.mobileprovision",
    );
    std::fs::write(
        project.join("credentials/ios/Widget-profile.mobileprovision"),
        &widget2,
    )
    .unwrap();
    let report = sync(&team, owner, &with(&["--to-remote", "--yes", "--json"])).json();
    assert_eq!(report["uploaded"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["uploaded"][0]["type"], "apple-provisioning-profile");
    let new_profile = report["uploaded"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        report["changed"],
        json!([{ "place": format!("ios {widget_id} / app-store (target Widget)"),
                 "from": [cert, pairs[1]], "to": [cert, new_profile] }])
    );
    assert_eq!(
        report["unchanged"],
        json!([format!("ios {APP_ID} / app-store (target App)")])
    );
    let exported = export(&team, &new_profile);
    assert_eq!(
        unb64(exported["secret"]["profile"].as_str().unwrap()),
        widget2
    );
    let backup = only_entry(&project.join("credentials-backup"));
    assert_eq!(
        std::fs::read(backup.join("credentials/ios/profile.mobileprovision")).unwrap(),
        widget_profile
    );
    assert_eq!(
        std::fs::read(backup.join("credentials/ios/dist-cert.p12")).unwrap(),
        p12
    );
    // And back to local: the same files eas-cli read before, with the new profile.
    sync(&team, owner, &with(&["--to-local"])).ok();
    assert_eq!(
        eas_read(&project, &["ios", "App", "Widget"]).unwrap(),
        expected(&app_profile, &widget2)
    );

    // CI fetches one target's pair into a directory of its own, in the single-target
    // form eas-cli reads as the application target's.
    let fetched = team
        .run(
            owner,
            &[
                "build-credentials",
                "fetch",
                "--app",
                "acme-app",
                "--platform",
                "ios",
                "--bundle-id",
                widget_id,
                "--out-dir",
                "ci",
                "--json",
            ],
        )
        .json();
    assert_eq!(
        fetched["files"],
        json!([
            "ci/credentials/ios/profile.mobileprovision",
            "ci/credentials/ios/dist-cert.p12",
            "ci/credentials.json"
        ])
    );
    assert!(!fetched.to_string().contains("p12-pass"), "{fetched}");
    assert_eq!(
        eas_read(&site.path("ci"), &["ios", "App"]).unwrap()["App"],
        expected(&app_profile, &widget2)["Widget"]
    );

    // All or nothing: the Widget's app is linked to another Apple team, so its pair is
    // refused after the App's was changed; the App's is pointed back and the uploads
    // deleted.
    let other_team = upload(
        &team,
        &json!({ "type": "apple-team", "team_id": "Z9Y8X7W6V5" }),
    );
    team.api(
        "PUT",
        &format!("{}/slots/ios/{widget_id}/apple-team", app_path(&team, &app)),
        &json!({ "credential_id": other_team }),
    );
    let state = app_state(&team, &app);
    let before = credential_ids(&team);
    let app2 = profile(
        &fixtures,
        APP_ID,
        "2096-01-01T00:00:00Z",
        "app2.mobileprovision",
    );
    let widget3 = profile(
        &fixtures,
        widget_id,
        "2095-01-01T00:00:00Z",
        "widget3.mobileprovision",
    );
    std::fs::write(
        project.join("credentials/ios/App-profile.mobileprovision"),
        &app2,
    )
    .unwrap();
    std::fs::write(
        project.join("credentials/ios/Widget-profile.mobileprovision"),
        &widget3,
    )
    .unwrap();
    let run = sync(&team, owner, &with(&["--to-remote", "--yes"]));
    let err = run.fails_with(1);
    let app_pair = state["build_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["bundle_id"] == APP_ID)
        .unwrap()
        .clone();
    let undo_block = format!(
        "A step failed; undoing the changes made before it:\n  undone: point ios {APP_ID} / \
         app-store back at {cert} + {}\n  undone: delete the uploaded apple-provisioning-profile ",
        app_pair["profile_id"].as_str().unwrap()
    );
    assert!(err.contains(&undo_block), "{err}");
    assert!(
        err.ends_with(&format!(
            "error: ios {widget_id} / app-store (target Widget): invalid `certificate_id`: the \
             certificate belongs to team A1B2C3D4E5, the app's team is Z9Y8X7W6V5; every change \
             was undone\n"
        )),
        "{err}"
    );
    assert!(!err.contains("NOT undone"), "{err}");
    // The server is as it was: the same pairs (versions moved on), the same live credentials.
    let after = app_state(&team, &app);
    for (old, new) in state["build_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["build_pairs"].as_array().unwrap())
    {
        assert_eq!(old["certificate_id"], new["certificate_id"]);
        assert_eq!(old["profile_id"], new["profile_id"]);
    }
    assert_eq!(credential_ids(&team), before);
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn ios_targets_on_sqlite() {
    ios_targets(Backend::Sqlite);
}

#[test]
fn ios_targets_on_postgres() {
    ios_targets(Backend::Postgres);
}

fn robot_fetch(backend: Backend) {
    let team = Team::new(backend);
    let app = create_app(&team);
    let site = &team.site.dir;
    let (store, key) = (team.site.password("store"), team.site.password("key"));
    let jks = keytool_jks(site, "upload.jks", "upload", &store, &key);
    let ks = upload_keystore(&team, &jks, &store, &key);
    team.api(
        "PUT",
        &format!(
            "{}/android/{APP_ID}/build-sets/release",
            app_path(&team, &app)
        ),
        &json!({ "keystore_id": ks }),
    );
    let nobody = team.nobody();
    let as_robot = |token: &str, args: &[&str]| {
        let mut full = vec![
            "build-credentials",
            "fetch",
            "--app",
            "acme-app",
            "--platform",
            "android",
        ];
        full.extend_from_slice(args);
        team.run_with(
            &nobody,
            &full,
            &[
                ("SIGNET_SERVER", team.url.as_str()),
                ("SIGNET_TOKEN", token),
            ],
        )
    };
    let secrets = [store.as_str(), key.as_str(), &b64(&jks)[..40]];

    // A viewer robot cannot fetch; nothing is written.
    let viewer = team.robot("viewer", Some(&[app.as_str()]));
    let err = as_robot(&viewer, &["--out-dir", "ci"]).fails_with(1);
    assert_eq!(
        err,
        "error: this needs the developer role or higher; you are viewer\n"
    );
    assert!(!site.exists("ci"));

    // A developer robot of the app fetches into a new directory.
    let robot = team.robot("developer", Some(&[app.as_str()]));

    // A credentials.json in the out dir (it may come with the repository) cannot send the
    // keystore outside it: nothing is written.
    std::fs::create_dir_all(site.path("hostile")).expect("a project dir");
    site.write(
        "hostile/credentials.json",
        br#"{"android":{"keystore":{"keystorePath":"../escaped.jks","keystorePassword":"x","keyAlias":"x","keyPassword":"x"}}}"#,
    );
    let err = as_robot(
        &robot,
        &["--application-id", APP_ID, "--out-dir", "hostile"],
    )
    .fails_with(2);
    assert_eq!(
        err,
        "error: credentials.json names `../escaped.jks` for the keystore: signet writes \
         credentials only inside the project directory (a relative path without `..`); change \
         the path\n"
    );
    assert!(!site.exists("escaped.jks"));

    let run = as_robot(
        &robot,
        &["--application-id", APP_ID, "--out-dir", "ci", "--json"],
    );
    let v = run.json();
    assert_no_secret(&(run.stdout() + &run.stderr()), &secrets);
    assert_no_secret(&run.stdout(), &[&robot]);
    // Outside a git work tree, nothing is said about .gitignore.
    assert_eq!(run.stderr(), "");
    assert_eq!(
        v["files"],
        json!(["ci/credentials/android/keystore.jks", "ci/credentials.json"])
    );
    assert_eq!(v["build_set"], "release");
    assert_eq!(v["credentials"][0]["id"], ks.as_str());
    let ci = site.path("ci");
    assert_eq!(mode(&ci), 0o700);
    let keystore = ci.join("credentials/android/keystore.jks");
    assert_eq!(mode(&keystore), 0o600);
    assert_eq!(mode(&ci.join("credentials.json")), 0o600);
    assert_eq!(std::fs::read(&keystore).unwrap(), jks);
    assert_eq!(
        eas_read(&ci, &["android"]).unwrap()["keystore"]["keystorePassword"],
        store.as_str()
    );
    // The text form holds no secret either.
    let out = as_robot(&robot, &["--out-dir", "ci"]).ok();
    assert!(
        out.starts_with("Wrote ci/credentials/android/keystore.jks, ci/credentials.json\n"),
        "{out}"
    );
    assert_no_secret(&out, &secrets);

    // apksigner signs with what was fetched, and verifies the result.
    let json: Value =
        serde_json::from_slice(&std::fs::read(ci.join("credentials.json")).unwrap()).unwrap();
    let k = &json["android"]["keystore"];
    crate::apk::build_apk(site, "app.apk", 24);
    site.tool(
        "apksigner",
        &[
            "sign",
            "--ks",
            &format!("ci/{}", k["keystorePath"].as_str().unwrap()),
            "--ks-pass",
            &format!("pass:{}", k["keystorePassword"].as_str().unwrap()),
            "--ks-key-alias",
            k["keyAlias"].as_str().unwrap(),
            "--key-pass",
            &format!("pass:{}", k["keyPassword"].as_str().unwrap()),
            "--out",
            "signed.apk",
            "app.apk",
        ],
    )
    .ok();
    let verified = site
        .tool(
            "apksigner",
            &["verify", "--verbose", "--print-certs", "signed.apk"],
        )
        .ok();
    assert!(verified.starts_with("Verifies\n"), "{verified}");
    assert!(
        verified.contains("Signer #1 certificate DN: CN=Acme Upload, O=Acme, C=US"),
        "{verified}"
    );
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn robot_fetch_on_sqlite() {
    robot_fetch(Backend::Sqlite);
}

#[test]
fn robot_fetch_on_postgres() {
    robot_fetch(Backend::Postgres);
}
