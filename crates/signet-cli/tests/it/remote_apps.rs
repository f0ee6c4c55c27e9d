//! The per-app commands (`signet credentials android|ios …`: build sets, build pairs,
//! slots) and the team commands (`signet robot`, `member`, `audit`) against a served Acme,
//! on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::{
    ios::{ProfileSpec, apns_key, apple_identity, apple_identity_of, profile_from},
    remote::{Person, Team},
    serve::{Backend, b64, id_of},
    util::keytool_fingerprints,
};

const APP: &str = "acme-app";
const PKG: &str = "com.acme.app";

/// `signet credentials android build-set …` for acme-app's com.acme.app, as `person`.
fn build_set(team: &Team, person: &Person, args: &[&str]) -> crate::util::Run {
    let mut full = vec!["credentials", "android", "build-set"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--app", APP, "--application-id", PKG]);
    team.run(person, &full)
}

/// The build sets of com.acme.app as `build-set list --json` prints them, by name.
fn sets(team: &Team) -> Vec<Value> {
    let v = build_set(team, &team.owner, &["list", "--json"]).json();
    v.as_array().expect("a list").clone()
}

fn set_named<'a>(sets: &'a [Value], name: &str) -> &'a Value {
    sets.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no set {name} in {sets:?}"))
}

fn credentials_count(team: &Team) -> usize {
    let owner = team.server.client(&team.owner.token);
    let org = team.org.parse().expect("an organization id");
    team.server.credentials(&owner, &org).len()
}

fn build_sets_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    team.run(owner, &["app", "create", APP]).ok();
    let listing_before = team.site.dir.listing();

    // A build set with a keystore generated for it on the server, listed as the default.
    let created = build_set(&team, owner, &["create", "release", "--generate", "--json"]).json();
    assert_eq!(created["build_set"]["name"], "release", "{created}");
    assert_eq!(created["build_set"]["is_default"], true, "{created}");
    assert_eq!(created["generated"], true, "{created}");
    assert_eq!(created["keystore"]["type"], "android-keystore", "{created}");
    let ks1 = id_of(&created["keystore"]);
    // Nothing was written here.
    assert_eq!(team.site.dir.listing(), listing_before);

    // The keystore on the server is a PKCS#12 keytool reads, with the alias the server shows,
    // and its password appears neither in the output nor in the logs.
    let export = team
        .server
        .get(
            &format!("/v1/orgs/{}/credentials/{ks1}/secret", team.org),
            &owner.token,
        )
        .expect(200, "export the generated keystore");
    let password = export["secret"]["store_password"]
        .as_str()
        .unwrap()
        .to_owned();
    let keystore_b64 = export["secret"]["keystore"].as_str().unwrap().to_owned();
    team.site.secret(&password);
    team.site.secret(&keystore_b64);
    assert!(!created.to_string().contains(&password), "{created}");
    assert!(
        !created.to_string().contains(&keystore_b64[..40]),
        "{created}"
    );
    team.site
        .dir
        .write("exported.p12", crate::serve::unb64(&keystore_b64));
    let listing = team
        .site
        .dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                "exported.p12",
                "-storetype",
                "PKCS12",
                "-storepass",
                &password,
            ],
        )
        .ok();
    let fingerprints = keytool_fingerprints(&listing);
    assert_eq!(fingerprints.len(), 1, "{listing}");
    let (alias, _, sha256) = &fingerprints[0];
    assert_eq!(
        created["keystore"]["metadata"]["alias"],
        alias.as_str(),
        "{created}"
    );
    assert!(
        listing.contains("Owner: CN=Android Upload Key"),
        "{listing}"
    );
    let short: String = sha256.split(':').take(8).collect::<Vec<_>>().join(":");

    // The table: the default marker, the short SHA-256, expiry in days.
    let table = build_set(&team, owner, &["list"]).ok();
    let row = table
        .lines()
        .find(|l| l.contains("release"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.starts_with(&format!("{PKG}    release    yes      {ks1}  {short}  ")),
        "{table}"
    );
    assert!(row.ends_with(" days"), "{table}");

    // A second set, from a keystore uploaded through the API: not the default.
    let second = team.site.keystores(1, "second").remove(0);
    let ks2 = id_of(&team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &serde_json::to_value(second.upload()).expect("an upload as JSON"),
    ));
    let out = build_set(&team, owner, &["create", "beta", "--keystore", &ks2]).ok();
    assert_eq!(
        out,
        format!(
            "Created build set `beta` of {PKG}, signing with keystore {ks2} (EC 256, SHA-256 {}).\n",
            set_named(&sets(&team), "beta")["keystore"]["metadata"]["sha256"]
                .as_str()
                .unwrap()
                .split(':')
                .take(8)
                .collect::<Vec<_>>()
                .join(":")
        )
    );
    let err = build_set(&team, owner, &["create", "beta", "--keystore", &ks1]).fails_with(1);
    assert!(
        err.contains(&format!(
            "error: {PKG} already has a build set `beta` (keystore {ks2})"
        )),
        "{err}"
    );

    // Default, rename.
    let out = build_set(&team, owner, &["default", "beta"]).ok();
    assert_eq!(
        out,
        format!("Build set `beta` is now the default of {PKG} (builds that name no set use it).\n")
    );
    let all = sets(&team);
    assert_eq!(set_named(&all, "beta")["is_default"], true);
    assert_eq!(set_named(&all, "release")["is_default"], false);
    build_set(&team, owner, &["rename", "beta", "staging"]).ok();
    let all = sets(&team);
    assert_eq!(set_named(&all, "staging")["is_default"], true);
    assert!(all.iter().all(|s| s["name"] != "beta"), "{all:?}");
    let err = build_set(&team, owner, &["rename", "beta", "other"]).fails_with(1);
    assert!(
        err.contains(&format!(
            "error: no build set `beta` for {PKG} of app {APP}; it has: release, staging"
        )),
        "{err}"
    );

    // Swapping the keystore shows the impact and, off a terminal, needs --yes.
    let run = build_set(&team, owner, &["swap", "release", "--keystore", &ks2]);
    let err = run.fails_with(2);
    assert!(
        err.contains(&format!(
            "Build set `release` of {PKG} signs with keystore {ks1} (RSA 2048, SHA-256 {short})."
        )),
        "{err}"
    );
    assert!(
        err.contains("Play rejects updates signed with an upload key it does not know"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "error: Swap the keystore of build set `release` of {PKG}: pass --yes to confirm \
             (standard input is not a terminal)"
        )),
        "{err}"
    );
    assert_eq!(
        set_named(&sets(&team), "release")["keystore_id"],
        ks1.as_str()
    );
    build_set(
        &team,
        owner,
        &["swap", "release", "--keystore", &ks2, "--yes"],
    )
    .ok();
    let release = set_named(&sets(&team), "release").clone();
    assert_eq!(release["keystore_id"], ks2.as_str());
    assert_eq!(release["keystore"]["id"], ks2.as_str());

    // Deleting: the default goes last (the server's rule); off a terminal, --yes.
    let err = build_set(&team, owner, &["delete", "staging", "--yes"]).fails_with(1);
    assert!(
        err.contains("error: this is the default build set; make another one the default first"),
        "{err}"
    );
    let err = build_set(&team, owner, &["delete", "release"]).fails_with(2);
    assert!(
        err.contains(&format!(
            "Builds of {PKG} that name build set `release` will fail. Keystore {ks2} stays"
        )),
        "{err}"
    );
    assert_eq!(sets(&team).len(), 2);
    build_set(&team, owner, &["delete", "release", "--yes"]).ok();
    let all = sets(&team);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["name"], "staging");

    // A viewer can list, not change; the server's message names the role. Nothing is
    // uploaded for a refused --generate.
    let viewer = team.member("viewer@acme.test", "viewer");
    build_set(&team, &viewer, &["list"]).ok();
    let before = credentials_count(&team);
    for args in [
        &["create", "v1", "--keystore", ks1.as_str()][..],
        &["create", "v2", "--generate"][..],
        &["default", "staging"][..],
    ] {
        let err = build_set(&team, &viewer, args).fails_with(1);
        assert!(
            err.contains("error: this needs the developer role or higher; you are viewer"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(credentials_count(&team), before);
    // A subject that is no distinguished name is a usage error, before anything is made.
    let err = build_set(
        &team,
        owner,
        &["create", "v3", "--generate", "--dname", "bogus"],
    )
    .fails_with(2);
    assert!(
        err.contains("error: --dname: invalid distinguished name: unknown attribute `bogus`"),
        "{err}"
    );
    assert_eq!(credentials_count(&team), before);

    // Slots: an FCM key assigned, shown, cleared (with --yes off a terminal).
    let server_key = format!("AAAA{}", "k".repeat(100));
    team.site.secret(&server_key);
    let fcm = id_of(&team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &json!({ "type": "fcm-legacy-key", "server_key": server_key }),
    ));
    let slot = |person: &Person, args: &[&str]| {
        let mut full = vec!["credentials", "android", "slot"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--app", APP, "--application-id", PKG]);
        team.run(person, &full)
    };
    let out = slot(owner, &["set", "fcm-key", "--credential", &fcm]).ok();
    assert_eq!(out, format!("fcm-key of {PKG} is now {fcm}.\n"));
    let shown = team
        .run(owner, &["credentials", "android", "show", "--app", APP])
        .ok();
    assert!(
        shown.contains(&format!("{PKG}    fcm-key  {fcm}  AAAA…kkkk  -")),
        "{shown}"
    );
    let show_json = team
        .run(
            owner,
            &["credentials", "android", "show", "--app", APP, "--json"],
        )
        .json();
    assert_eq!(show_json["slots"][0]["credential"]["id"], fcm.as_str());
    assert_eq!(show_json["build_sets"][0]["name"], "staging");
    assert!(!show_json.to_string().contains(&server_key));
    let err = slot(owner, &["clear", "fcm-key"]).fails_with(2);
    assert!(
        err.contains(&format!(
            "Without it, push notifications to {PKG} sent with the FCM legacy server key stop."
        )),
        "{err}"
    );
    slot(owner, &["clear", "fcm-key", "--yes"]).ok();
    let err = slot(owner, &["clear", "fcm-key", "--yes"]).fails_with(1);
    assert!(
        err.contains(&format!("error: fcm-key of {PKG} in app {APP} is empty")),
        "{err}"
    );
    // A credential of the wrong type is refused by the server, naming the field.
    let err = slot(owner, &["set", "fcm-key", "--credential", &ks2]).fails_with(1);
    assert!(err.contains("error: invalid `credential_id`"), "{err}");

    // The audit log holds what was done.
    let audit = team.run(owner, &["audit", "--all", "--json"]).json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for action in [
        "credential.create",
        "build-set.put",
        "build-set.rename",
        "build-set.delete",
        "app-link.set",
        "app-link.remove",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    assert!(!audit.to_string().contains(&password));
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn build_sets_on_sqlite() {
    build_sets_flow(Backend::Sqlite);
}

#[test]
fn build_sets_on_postgres() {
    build_sets_flow(Backend::Postgres);
}

fn ios_pairs_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    let dir = &team.site.dir;
    team.run(owner, &["app", "create", APP]).ok();
    // A distribution identity, and another the bad profile allows instead.
    apple_identity(dir, false, "dist.p12");
    apple_identity_of(dir, false, "other.p12", "other", "Apple Distribution", "4");
    let profile = |cert_pem: &str, out: &str| {
        profile_from(
            dir,
            &ProfileSpec {
                cert_pem,
                team: "A1B2C3D4E5",
                app_id: "com.acme.*",
                expires: "2099-01-01T00:00:00Z",
                devices: false,
                get_task_allow: false,
                aps: true,
            },
            out,
        );
        b64(&dir.read(out))
    };
    let good = profile("dist.pem", "good.mobileprovision");
    let bad = profile("other.pem", "bad.mobileprovision");
    let creds = format!("/v1/orgs/{}/credentials", team.org);
    let p12 = b64(&dir.read("dist.p12"));
    team.site.secret(&p12);
    let cert = id_of(&team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-distribution-certificate", "p12": p12, "password": "p12-pass" }),
    ));
    let good = id_of(&team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-provisioning-profile", "profile": good }),
    ));
    let bad = id_of(&team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-provisioning-profile", "profile": bad }),
    ));
    let pair = |args: &[&str]| {
        let mut full = vec!["credentials", "ios", "build-pair"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--app", APP, "--bundle-id", PKG]);
        team.run(owner, &full)
    };
    let set = |profile: &str| {
        pair(&[
            "set",
            "--distribution",
            "app-store",
            "--certificate",
            &cert,
            "--profile",
            profile,
        ])
    };

    // A profile that does not allow the certificate: refused, the rule named.
    let err = set(&bad).fails_with(1);
    assert!(
        err.contains(
            "error: invalid `profile_id`: the profile does not allow this certificate (not \
             among its DeveloperCertificates)"
        ),
        "{err}"
    );
    // A distribution type the profile is not for.
    let err = pair(&[
        "set",
        "--distribution",
        "ad-hoc",
        "--certificate",
        &cert,
        "--profile",
        &good,
    ])
    .fails_with(1);
    assert!(
        err.contains(
            "error: invalid `profile_id`: the profile is for app-store builds, not ad-hoc"
        ),
        "{err}"
    );
    assert_eq!(pair(&["list", "--json"]).json(), json!([]));

    let out = set(&good).ok();
    assert_eq!(
        out,
        format!("app-store builds of {PKG} now sign with certificate {cert} and profile {good}.\n")
    );
    // Setting it again replaces the pair under the version read.
    let out = set(&good).ok();
    assert!(
        out.ends_with(&format!("(was certificate {cert}, profile {good}).\n")),
        "{out}"
    );
    let listed = pair(&["list", "--json"]).json();
    assert_eq!(listed[0]["version"], 2, "{listed}");
    assert_eq!(listed[0]["certificate"]["id"], cert.as_str(), "{listed}");
    assert_eq!(listed[0]["profile"]["id"], good.as_str(), "{listed}");
    assert!(!listed.to_string().contains(&p12[..40]));
    // The table shows the certificate's SHA-1 as openssl computes it, cut to 8 pairs.
    let sha1 = dir
        .tool(
            "openssl",
            &["x509", "-in", "dist.pem", "-noout", "-fingerprint", "-sha1"],
        )
        .ok();
    let sha1 = sha1.trim().rsplit('=').next().unwrap();
    let short: String = sha1.split(':').take(8).collect::<Vec<_>>().join(":");
    let table = pair(&["list"]).ok();
    assert!(
        table.contains(&format!("{PKG}  app-store     {cert}  {short}  ")),
        "{table}"
    );

    // The push key slot, in the overview.
    apns_key(dir, "AuthKey_ABC123DEFG.p8");
    let p8 = String::from_utf8(dir.read("AuthKey_ABC123DEFG.p8")).unwrap();
    team.site.secret(&p8);
    let key = id_of(&team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-push-key", "p8": p8, "key_id": "ABC123DEFG", "team_id": "A1B2C3D4E5" }),
    ));
    team.run(
        owner,
        &[
            "credentials",
            "ios",
            "slot",
            "set",
            "push-key",
            "--credential",
            &key,
            "--app",
            APP,
            "--bundle-id",
            PKG,
        ],
    )
    .ok();
    let shown = team
        .run(owner, &["credentials", "ios", "show", "--app", APP])
        .ok();
    assert!(
        shown.contains(&format!(
            "{PKG}  push-key  {key}  key ABC123DEFG (team A1B2C3D4E5)"
        )),
        "{shown}"
    );

    // Removing the pair: impact, --yes off a terminal.
    let err = pair(&["delete", "--distribution", "app-store"]).fails_with(2);
    assert!(
        err.contains(&format!(
            "app-store builds of {PKG} will have no credentials. Certificate {cert} and \
             profile {good} stay on the server."
        )),
        "{err}"
    );
    pair(&["delete", "--distribution", "app-store", "--yes"]).ok();
    assert_eq!(pair(&["list", "--json"]).json(), json!([]));
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn ios_pairs_on_sqlite() {
    ios_pairs_flow(Backend::Sqlite);
}

#[test]
fn ios_pairs_on_postgres() {
    ios_pairs_flow(Backend::Postgres);
}

/// The token a `robot create` printed: the line that is one.
fn printed_token(out: &str) -> String {
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("sgr_")).collect();
    assert_eq!(lines.len(), 1, "{out}");
    lines[0].to_owned()
}

fn team_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    team.run(owner, &["app", "create", "app-a"]).ok();
    team.run(owner, &["app", "create", "app-b"]).ok();

    // A developer robot limited to app-a: its token is printed once.
    let out = team
        .run(
            owner,
            &[
                "robot",
                "create",
                "--role",
                "developer",
                "--app",
                "app-a",
                "--name",
                "ci-a",
            ],
        )
        .ok();
    let token = printed_token(&out);
    team.site.secret(&token);
    assert_eq!(out.matches(&token).count(), 1, "{out}");
    assert!(
        out.starts_with("Created robot tok_") && out.contains("`ci-a`: developer, apps app-a."),
        "{out}"
    );
    // With --json, the token is in the JSON (asked for), once.
    let created = team
        .run(owner, &["robot", "create", "--role", "viewer", "--json"])
        .json();
    let viewer_token = created["token"].as_str().unwrap().to_owned();
    team.site.secret(&viewer_token);
    assert!(viewer_token.starts_with("sgr_"), "{created}");
    assert_eq!(created["robot"]["role"], "viewer", "{created}");
    assert_eq!(created["robot"]["name"], "ci-viewer", "{created}");
    let expiring = team
        .run(
            owner,
            &[
                "robot",
                "create",
                "--role",
                "viewer",
                "--name",
                "short-lived",
                "--expires-in-days",
                "10",
                "--json",
            ],
        )
        .json();
    team.site.secret(expiring["token"].as_str().unwrap());
    let robot = &expiring["robot"];
    // Ten days after its creation (the two times are read a moment apart, the expiry in
    // whole seconds).
    let lifetime = robot["expires_at"].as_i64().unwrap() - robot["created_at"].as_i64().unwrap();
    assert!(
        (10 * 86_400_000 - 1_000..10 * 86_400_000 + 60_000).contains(&lifetime),
        "{expiring}"
    );
    let err = team
        .run(
            owner,
            &[
                "robot",
                "create",
                "--role",
                "viewer",
                "--expires-in-days",
                "0",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains("error: invalid `expires_in_days`: 1 to 3650"),
        "{err}"
    );

    // The robot works on its app and is refused another's.
    let nobody = team.nobody();
    let as_robot = |args: &[&str]| {
        team.run_with(
            &nobody,
            args,
            &[("SIGNET_SERVER", &team.url), ("SIGNET_TOKEN", &token)],
        )
    };
    let list = |app: &str| as_robot(&["credentials", "android", "build-set", "list", "--app", app]);
    assert!(list("app-a").ok().starts_with("No build sets yet"));
    let err = list("app-b").fails_with(1);
    assert!(
        err.contains("error: this robot token is not allowed to act on this app"),
        "{err}"
    );
    // On its app, it works with ids where it may not read the organization's credentials'
    // records: a set the owner made is listed by keystore id; it makes a set of its own
    // and swaps that set to the owner's keystore (assigned to its app, so allowed).
    let on_a = ["--app", "app-a", "--application-id", "com.acme.a"];
    let mut args = vec![
        "credentials",
        "android",
        "build-set",
        "create",
        "release",
        "--generate",
        "--json",
    ];
    args.extend_from_slice(&on_a);
    let owners = team.run(owner, &args).json();
    let owners_keystore = owners["build_set"]["keystore_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut args = vec!["credentials", "android", "build-set", "list"];
    args.extend_from_slice(&on_a);
    let table = as_robot(&args).ok();
    assert_eq!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [
            "com.acme.a",
            "release",
            "yes",
            owners_keystore.as_str(),
            "-",
            "-"
        ],
        "{table}"
    );
    let mut args = vec![
        "credentials",
        "android",
        "build-set",
        "create",
        "ci",
        "--generate",
    ];
    args.extend_from_slice(&on_a);
    assert!(
        as_robot(&args)
            .ok()
            .starts_with("Created build set `ci` of com.acme.a, signing with a new keystore cred_")
    );
    let mut args = vec![
        "credentials",
        "android",
        "build-set",
        "swap",
        "ci",
        "--keystore",
        &owners_keystore,
        "--yes",
    ];
    args.extend_from_slice(&on_a);
    let run = as_robot(&args);
    run.ok();
    assert!(
        run.stderr().contains(&format!(
            "After the swap, its builds sign with keystore {owners_keystore}.\n"
        )),
        "{}",
        run.stderr()
    );

    // Listed without their tokens.
    let robots = team.run(owner, &["robot", "list", "--json"]).json();
    assert_eq!(robots.as_array().unwrap().len(), 3, "{robots}");
    assert!(!robots.to_string().contains(&token) && !robots.to_string().contains(&viewer_token));
    let robot_id = robots
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ci-a")
        .map(id_of)
        .unwrap();
    let table = team.run(owner, &["robot", "list"]).ok();
    // Cells by row: id, name, role, apps, created (3 words), last used (3, or "never"),
    // status.
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {table}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // Used (by the listing above), live.
    let used = row("ci-a");
    assert_eq!(
        used[..4],
        [robot_id.as_str(), "ci-a", "developer", "app-a"],
        "{table}"
    );
    assert_eq!(used[9..], ["UTC", "active"], "{table}");
    assert_eq!(row("ci-viewer")[2..4], ["viewer", "all"], "{table}");
    assert_eq!(row("ci-viewer")[7..], ["never", "active"], "{table}");
    assert_eq!(
        row("short-lived")[7..10],
        ["never", "expires", "in"],
        "{table}"
    );

    // Revoking: off a terminal only with --yes; then the token gets 401 and the hint.
    let err = team
        .run(owner, &["robot", "revoke", &robot_id])
        .fails_with(2);
    assert!(
        err.contains(&format!(
            "Every job using the token of robot {robot_id} `ci-a` (developer) gets 401 from now on."
        )),
        "{err}"
    );
    // Still working.
    assert!(list("app-a").ok().contains("release"));
    team.run(owner, &["robot", "revoke", &robot_id, "--yes"])
        .ok();
    let err = list("app-a").fails_with(1);
    assert!(
        err.contains(
            "error: a valid bearer token is required (Authorization: Bearer sgu_… or sgr_…)\n\
             hint: the session expired or was revoked: log in again with `signet login`"
        ),
        "{err}"
    );
    let table = team.run(owner, &["robot", "list"]).ok();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&robot_id) && l.ends_with("revoked")),
        "{table}"
    );

    // Members: add, set-role, remove; the owner rules are the server's.
    let dev_password = team.site.password("dev");
    team.site
        .create_user("data", "dev@acme.test", &dev_password, None);
    let out = team
        .run(
            owner,
            &["member", "add", "dev@acme.test", "--role", "developer"],
        )
        .ok();
    assert_eq!(out, "Added dev@acme.test as developer.\n");
    let err = team
        .run(
            owner,
            &["member", "add", "dev@acme.test", "--role", "admin"],
        )
        .fails_with(1);
    assert!(
        err.contains("error: dev@acme.test is already a member (developer)"),
        "{err}"
    );
    let err = team
        .run(
            owner,
            &["member", "add", "ghost@acme.test", "--role", "viewer"],
        )
        .fails_with(1);
    assert!(
        err.contains("error: invalid `email`: no user has this e-mail; create the user first"),
        "{err}"
    );
    let out = team
        .run(
            owner,
            &["member", "set-role", "dev@acme.test", "--role", "admin"],
        )
        .ok();
    assert_eq!(out, "dev@acme.test is now admin (was developer).\n");
    let dev = team.login("dev@acme.test", &dev_password);
    // An admin cannot touch the owner role.
    let err = team
        .run(
            &dev,
            &["member", "set-role", "owner@acme.test", "--role", "viewer"],
        )
        .fails_with(1);
    assert!(
        err.contains("error: only an owner can grant or take the owner role"),
        "{err}"
    );
    let err = team
        .run(&dev, &["member", "remove", "owner@acme.test", "--yes"])
        .fails_with(1);
    assert!(
        err.contains("error: only an owner can remove an owner"),
        "{err}"
    );
    // The last owner stays.
    let err = team
        .run(
            owner,
            &["member", "set-role", "owner@acme.test", "--role", "admin"],
        )
        .fails_with(1);
    assert!(
        err.contains(
            "error: an organization keeps at least one owner; make someone else owner first"
        ),
        "{err}"
    );
    // A demotion that revokes the member's robots says which, and asks.
    let made = team
        .run(
            &dev,
            &[
                "robot",
                "create",
                "--role",
                "admin",
                "--name",
                "dev-admin",
                "--json",
            ],
        )
        .json();
    team.site.secret(made["token"].as_str().unwrap());
    let dev_robot = id_of(&made["robot"]);
    let err = team
        .run(
            owner,
            &["member", "set-role", "dev@acme.test", "--role", "developer"],
        )
        .fails_with(2);
    assert!(
        err.contains(&format!(
            "Robots dev@acme.test made with a role above developer are revoked: {dev_robot} `dev-admin`."
        )),
        "{err}"
    );
    team.run(
        owner,
        &[
            "member",
            "set-role",
            "dev@acme.test",
            "--role",
            "developer",
            "--yes",
        ],
    )
    .ok();
    let robots = team.run(owner, &["robot", "list", "--json"]).json();
    let revoked = robots
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == dev_robot.as_str())
        .unwrap();
    assert!(revoked["revoked_at"].is_i64(), "{robots}");
    let err = team
        .run(owner, &["member", "remove", "dev@acme.test"])
        .fails_with(2);
    assert!(
        err.contains("dev@acme.test (developer) loses access to this organization."),
        "{err}"
    );
    team.run(owner, &["member", "remove", "dev@acme.test", "--yes"])
        .ok();
    let members = team.run(owner, &["member", "list", "--json"]).json();
    let emails: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["owner@acme.test"]);

    // The audit log lists all of it, newest first, with e-mails for users.
    let audit = team.run(owner, &["audit", "--all", "--json"]).json();
    let records = audit.as_array().unwrap();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for action in [
        "robot.create",
        "robot.revoke",
        "member.set",
        "member.remove",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    assert_eq!(actions[0], "member.remove", "{actions:?}");
    for secret in [&token, &viewer_token] {
        assert!(!audit.to_string().contains(secret.as_str()));
    }
    let two = team.run(owner, &["audit", "--limit", "2", "--json"]).json();
    assert_eq!(two.as_array().unwrap().len(), 2, "{two}");
    assert_eq!(two[0], records[0]);
    let table = team.run(owner, &["audit", "--limit", "1"]).ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["TIME", "ACTOR", "ACTION", "TARGET", "IP"],
        "{table}"
    );
    assert!(
        lines[1].contains("owner@acme.test  member.remove  usr_"),
        "{table}"
    );
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn team_on_sqlite() {
    team_flow(Backend::Sqlite);
}

#[test]
fn team_on_postgres() {
    team_flow(Backend::Postgres);
}
