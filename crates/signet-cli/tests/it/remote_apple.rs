//! The Apple side through App Store Connect (issue 12), against the simulator of
//! signet-asc-sim: `ios setup` from nothing to a build pair that `ios check` passes and
//! `ipa sign` signs with, nothing created the second time, the certificate limit off a
//! terminal and through a pseudo-terminal, `ios doctor` after a revocation, devices and
//! certificates; every request the server sent checked against Apple's schemas, none
//! carrying a private key, and the App Store Connect key in no log and no answer.

use std::time::Duration;

use expectrl::{Expect, session::OsSession as Session};
use serde_json::Value;
use signet_asc_sim::{LIMIT_DETAIL, Sim, SimConfig, new_api_key};

use crate::{
    remote::{Person, Team},
    serve::Backend,
    util::Dir,
};

const KEY_ID: &str = "ABC123DEFG";
const ISSUER: &str = "57246542-96fe-1a63-e053-0824d011072a";
const BUNDLE: &str = "com.acme.app";

/// A team whose server talks to a simulated App Store Connect, an app `acme` and the ASC
/// key in the `asc-api-key` slot of com.acme.app.
struct Apple {
    sim: Sim,
    team: Team,
}

impl Apple {
    fn new(limit: usize) -> Apple {
        let p8 = new_api_key();
        let mut config = SimConfig::new(&p8, KEY_ID, ISSUER);
        config.distribution_limit = limit;
        let sim = Sim::start(config);
        let team = Team::new_with(Backend::Sqlite, &["--asc-url", &sim.url()]);
        team.site.pem_secret(&p8);
        let owner = &team.owner;
        team.run(owner, &["app", "create", "acme"]).ok();
        team.site.dir.write("AuthKey_ABC123DEFG.p8", &p8);
        let key = team
            .run(
                owner,
                &[
                    "credentials",
                    "upload",
                    "asc-key",
                    "AuthKey_ABC123DEFG.p8",
                    "--issuer-id",
                    ISSUER,
                    "--json",
                ],
            )
            .json();
        let id = key["id"].as_str().expect("credential id").to_owned();
        team.run(
            owner,
            &[
                "credentials",
                "ios",
                "slot",
                "set",
                "--app",
                "acme",
                "--bundle-id",
                BUNDLE,
                "asc-api-key",
                "--credential",
                &id,
            ],
        )
        .ok();
        Apple { sim, team }
    }

    fn setup(&self, person: &Person, distribution: &str) -> crate::util::Run {
        self.team.run(
            person,
            &[
                "ios",
                "setup",
                "--app",
                "acme",
                "--bundle-id",
                BUNDLE,
                "--distribution",
                distribution,
            ],
        )
    }

    /// What every test ends with: the simulator saw only valid bodies, no private key, and
    /// no secret reached the server's log.
    fn finish(&self) {
        assert_eq!(self.sim.schema_failures(), Vec::<String>::new());
        assert_eq!(self.sim.key_leaks(), Vec::<String>::new());
        assert_eq!(self.sim.auth_refusals(), Vec::<String>::new());
        self.team.site.assert_no_secrets_in_logs();
    }
}

#[test]
fn setup_from_nothing_then_check_sign_and_nothing_created_the_second_time() {
    let apple = Apple::new(2);
    let (team, owner) = (&apple.team, &apple.team.owner);

    let run = apple.setup(owner, "app-store");
    let out = run.ok();
    assert!(
        out.contains(&format!("Created bundle id: {BUNDLE}")),
        "{out}"
    );
    assert!(out.contains("Created certificate: "), "{out}");
    assert!(out.contains("Created profile: "), "{out}");
    assert!(
        out.contains("Set build pair: com.acme.app app-store"),
        "{out}"
    );
    assert!(out.contains("3 thing(s) created at Apple."), "{out}");
    // 4.: no push key, and how to get one.
    let err = run.stderr();
    assert!(
        err.contains(
            "note: com.acme.app has no push key, and the App Store Connect API cannot create one"
        ) && err.contains("signet credentials upload push-key"),
        "{err}"
    );
    assert_eq!(apple.sim.posts(), 3);

    // Run twice: nothing is created at Apple.
    let again = apple.setup(owner, "app-store").ok();
    assert!(again.contains("Reused bundle id"), "{again}");
    assert!(again.contains("Reused certificate"), "{again}");
    assert!(again.contains("Reused profile"), "{again}");
    assert!(again.contains("Unchanged build pair"), "{again}");
    assert!(again.contains("Nothing was created at Apple."), "{again}");
    assert_eq!(apple.sim.posts(), 3);

    // The pair, fetched as a CI build does, passes `ios check` (only the Apple root warns:
    // the simulator's CA signed the profile) and signs an IPA.
    team.run(
        owner,
        &[
            "build-credentials",
            "fetch",
            "--app",
            "acme",
            "--platform",
            "ios",
            "--bundle-id",
            BUNDLE,
            "--out-dir",
            "ci",
            "--json",
        ],
    )
    .ok();
    let creds: Value =
        serde_json::from_slice(&std::fs::read(team.site.dir.path("ci/credentials.json")).unwrap())
            .unwrap();
    let password = creds["ios"]["distributionCertificate"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    team.site.secret(&password);
    let dir = Dir::new();
    std::fs::copy(
        team.site.dir.path("ci/credentials/ios/dist-cert.p12"),
        dir.path("dist.p12"),
    )
    .unwrap();
    std::fs::copy(
        team.site
            .dir
            .path("ci/credentials/ios/profile.mobileprovision"),
        dir.path("profile.mobileprovision"),
    )
    .unwrap();
    let pass = format!("pass:{password}");
    let check = dir.signet(&[
        "ios",
        "check",
        "--p12",
        "dist.p12",
        "--p12-pass",
        &pass,
        "--profile",
        "profile.mobileprovision",
        "--bundle-id",
        BUNDLE,
        "--distribution",
        "app-store",
        "--json",
    ]);
    let v: Value =
        serde_json::from_str(&check.stdout()).unwrap_or_else(|e| panic!("{e}: {}", check.stderr()));
    let not_passed: Vec<(String, String)> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass")
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        not_passed,
        vec![("profile-signer".to_owned(), "warn".to_owned())],
        "{v}"
    );
    assert_eq!(check.code(), 0, "{v}");

    crate::ios::build_ipa(&dir, "app.ipa");
    dir.signet(&[
        "ipa",
        "sign",
        "app.ipa",
        "--out",
        "signed.ipa",
        "--p12",
        "dist.p12",
        "--p12-pass",
        &pass,
        "--profile",
        "profile.mobileprovision",
    ])
    .ok();
    dir.signet(&["ipa", "verify", "signed.ipa"]).ok();

    // The ASC key never left the server: not in any answer the CLI printed.
    let shown = team.run(owner, &["credentials", "list", "--json"]).ok();
    team.site.assert_no_secrets_in("credentials list", &shown);
    team.site
        .assert_no_secrets_in("setup", &format!("{out}{err}{again}"));
    apple.finish();
}

#[test]
fn devices_join_ad_hoc_profiles_at_the_next_setup() {
    let apple = Apple::new(2);
    let (team, owner) = (&apple.team, &apple.team.owner);
    // No devices: an ad hoc profile cannot be made.
    let err = apple.setup(owner, "ad-hoc").fails_with(1);
    assert!(
        err.contains("no devices are registered with the team"),
        "{err}"
    );
    assert!(
        err.contains("hint: register a device with `signet ios device add"),
        "{err}"
    );

    let bad = team
        .run(
            owner,
            &[
                "ios", "device", "add", "--app", "acme", "--udid", "nope", "--name", "Bad",
            ],
        )
        .fails_with(1);
    assert!(
        bad.contains("invalid `udid`: a UDID is 40 hex digits"),
        "{bad}"
    );
    for (udid, name) in [
        ("00008101-000A1B2C3D4E5F60", "Jane's iPhone"),
        ("00008030-001122334455667A", "Test iPad"),
    ] {
        let out = team
            .run(
                owner,
                &[
                    "ios", "device", "add", "--app", "acme", "--udid", udid, "--name", name,
                ],
            )
            .ok();
        assert!(
            out.contains(&format!("Registered {name} ({udid})")),
            "{out}"
        );
    }
    let list = team
        .run(owner, &["ios", "device", "list", "--app", "acme", "--json"])
        .json();
    assert_eq!(list["devices"].as_array().unwrap().len(), 2, "{list}");

    // The app's entitlements name the capabilities to enable.
    team.site.dir.write(
        "App.entitlements",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>aps-environment</key><string>production</string>
<key>com.apple.developer.associated-domains</key><array><string>applinks:acme.test</string></array>
<key>get-task-allow</key><false/>
</dict></plist>"#,
    );
    let first = team
        .run(
            owner,
            &[
                "ios",
                "setup",
                "--app",
                "acme",
                "--bundle-id",
                BUNDLE,
                "--distribution",
                "ad-hoc",
                "--entitlements",
                "App.entitlements",
            ],
        )
        .ok();
    assert!(first.contains("2 devices"), "{first}");
    assert!(
        first.contains("Enabled capability: PUSH_NOTIFICATIONS on com.acme.app"),
        "{first}"
    );
    assert!(
        first.contains("Enabled capability: ASSOCIATED_DOMAINS on com.acme.app"),
        "{first}"
    );
    team.site.dir.write("bad.entitlements", "not a plist");
    let err = team
        .run(
            owner,
            &[
                "ios",
                "setup",
                "--app",
                "acme",
                "--bundle-id",
                BUNDLE,
                "--distribution",
                "ad-hoc",
                "--entitlements",
                "bad.entitlements",
            ],
        )
        .fails_with(1);
    assert!(
        err.starts_with("error: bad.entitlements: not a property list"),
        "{err}"
    );
    let posts = apple.sim.posts();
    assert!(apple.setup(owner, "ad-hoc").ok().contains("Reused profile"));
    assert_eq!(apple.sim.posts(), posts);

    // A new device: the next setup makes a profile that holds it.
    team.run(
        owner,
        &[
            "ios",
            "device",
            "add",
            "--app",
            "acme",
            "--udid",
            "00008030-00112233445566FF",
            "--name",
            "New",
        ],
    )
    .ok();
    let doctor = team
        .run(owner, &["ios", "doctor", "--app", "acme"])
        .fails_with(1);
    let report = team
        .run(owner, &["ios", "doctor", "--app", "acme"])
        .stdout();
    assert!(
        report.contains("profile-missing-devices"),
        "{report}\n{doctor}"
    );
    let again = apple.setup(owner, "ad-hoc").ok();
    assert!(
        again.contains("Created profile") && again.contains("3 devices"),
        "{again}"
    );
    assert!(again.contains("Reused certificate"), "{again}");
    team.run(owner, &["ios", "doctor", "--app", "acme"]).ok();
    apple.finish();
}

#[test]
fn certificate_limit_off_a_terminal_lists_and_revokes_nothing() {
    let apple = Apple::new(2);
    let owner = &apple.team.owner;
    let a = apple.sim.add_foreign_certificate();
    let b = apple.sim.add_foreign_certificate();
    let err = apple.setup(owner, "app-store").fails_with(1);
    assert!(err.contains(&format!("Apple: {LIMIT_DETAIL}")), "{err}");
    assert!(err.contains(&a) && err.contains(&b), "{err}");
    assert!(err.contains("SIGNET HOLDS KEY"), "{err}");
    assert!(err.contains("nothing was revoked"), "{err}");
    assert_eq!(apple.sim.certificates().len(), 2);
    // --yes does not revoke either.
    let run = apple.team.run(
        owner,
        &[
            "ios",
            "setup",
            "--app",
            "acme",
            "--bundle-id",
            BUNDLE,
            "--distribution",
            "app-store",
            "--yes",
        ],
    );
    run.fails_with(1);
    assert_eq!(apple.sim.certificates().len(), 2);
    apple.finish();
}

#[test]
fn certificate_limit_on_a_terminal_revokes_the_chosen_one_after_its_impact() {
    let apple = Apple::new(1);
    let team = &apple.team;
    let foreign = apple.sim.add_foreign_certificate();
    let mut cmd = team.command(&team.owner);
    cmd.args([
        "ios",
        "setup",
        "--app",
        "acme",
        "--bundle-id",
        BUNDLE,
        "--distribution",
        "app-store",
    ])
    .env("TERM", "xterm-256color");
    let mut s = Session::spawn(cmd).expect("spawn signet in a pseudo-terminal");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    let listed = expect(&mut s, "Revoke which certificate to make room?");
    assert!(
        listed.contains(&foreign) && listed.contains(LIMIT_DETAIL),
        "{listed}"
    );
    // The first item is the foreign certificate; the default is "Cancel".
    s.send("\x1b[A").unwrap();
    s.send("\r").unwrap();
    let impact = expect(&mut s, &format!("Revoke {foreign} at Apple"));
    assert!(
        impact.contains("profiles that allow it become invalid"),
        "{impact}"
    );
    assert!(
        impact.contains("apps already in the App Store are not affected"),
        "{impact}"
    );
    assert!(impact.contains("signet does not hold its key"), "{impact}");
    s.send("y").unwrap();
    let done = expect(&mut s, "is ready for app-store builds");
    assert!(
        done.contains(&format!("Revoked {foreign} at Apple.")),
        "{done}"
    );
    s.expect(expectrl::Eof).expect("setup ends");
    let certs = apple.sim.certificates();
    assert_eq!(certs.len(), 1);
    assert_ne!(certs[0].0, foreign);
    apple.finish();
}

#[test]
fn the_credentials_menu_sets_up_with_apple() {
    let apple = Apple::new(2);
    let team = &apple.team;
    let mut cmd = team.command(&team.owner);
    cmd.args(["credentials", "-p", "ios", "--app", "acme"])
        .env("TERM", "xterm-256color");
    let mut s = Session::spawn(cmd).expect("spawn signet in a pseudo-terminal");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    expect(&mut s, "Select bundle id");
    s.send("\r").unwrap(); // com.acme.app, which has the key's slot
    expect(&mut s, "What do you want to do?");
    s.send("\r").unwrap(); // Build Credentials
    expect(&mut s, "No build credentials yet for com.acme.app.");
    expect(&mut s, "Set up with Apple");
    s.send("\r").unwrap();
    expect(&mut s, "Distribution type");
    s.send("\r").unwrap(); // app-store
    let done = expect(&mut s, "is ready for app-store builds");
    assert!(done.contains("Created certificate"), "{done}");
    expect(&mut s, "Exit");
    for _ in 0..4 {
        s.send("\x1b[B").unwrap();
    }
    s.send("\r").unwrap();
    s.expect(expectrl::Eof).expect("the menu ends");
    assert_eq!(apple.sim.posts(), 3);
    apple.finish();
}

fn expect(session: &mut Session, text: &str) -> String {
    match session.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("waiting for {text:?}: {e}"),
    }
}

#[test]
fn a_revoked_certificate_makes_doctor_report_and_fix_repair() {
    let apple = Apple::new(2);
    let (team, owner) = (&apple.team, &apple.team.owner);
    apple.setup(owner, "app-store").ok();
    team.run(owner, &["ios", "doctor", "--app", "acme"]).ok();
    let (cert_id, _, _) = apple.sim.certificates().remove(0);

    // Listed with signet holding its key and what uses it.
    let list = team
        .run(owner, &["ios", "certificate", "list", "--app", "acme"])
        .ok();
    assert!(
        list.contains(&cert_id) && list.contains("yes (cred_"),
        "{list}"
    );
    assert!(
        list.contains("app acme / ios com.acme.app / app-store builds"),
        "{list}"
    );

    // Revoking needs --yes off a terminal, and the admin role.
    let err = team
        .run(
            owner,
            &["ios", "certificate", "revoke", &cert_id, "--app", "acme"],
        )
        .fails_with(2);
    assert!(err.contains("pass --yes to confirm"), "{err}");
    assert!(
        err.contains("profiles that allow it become invalid"),
        "{err}"
    );
    let dev = team.member("dev@acme.test", "developer");
    let err = team
        .run(
            &dev,
            &[
                "ios",
                "certificate",
                "revoke",
                &cert_id,
                "--app",
                "acme",
                "--yes",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains("this needs the admin role or higher; you are developer"),
        "{err}"
    );
    assert_eq!(apple.sim.certificates().len(), 1);
    team.run(
        owner,
        &[
            "ios",
            "certificate",
            "revoke",
            &cert_id,
            "--app",
            "acme",
            "--yes",
        ],
    )
    .ok();
    assert!(apple.sim.certificates().is_empty());
    assert_eq!(apple.sim.profiles()[0].2, "INVALID");

    let report = team.run(owner, &["ios", "doctor", "--app", "acme"]);
    let err = report.fails_with(1);
    let out = report.stdout();
    assert!(out.contains("FAIL  com.acme.app app-store"), "{out}");
    assert!(out.contains("certificate-not-listed"), "{out}");
    assert!(out.contains("profile-invalid"), "{out}");
    assert!(err.contains("--fix"), "{err}");
    // signet's own limit (one per team by default) holds the revoked one. A developer may
    // not delete it: the fix stops at the limit, naming it, and deletes nothing.
    let refused = team
        .run(&dev, &["ios", "doctor", "--app", "acme", "--fix"])
        .fails_with(1);
    assert!(
        refused.starts_with(
            "error: limit reached: at most 1 distribution certificates per Apple team \
             (team A1B2C3D4E5); held by cred_"
        ),
        "{refused}"
    );
    let still = team.run(owner, &["credentials", "list", "--json"]).json();
    assert!(
        still
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "apple-distribution-certificate"
                || c["type"] == "apple-distribution-certificate"),
        "nothing deleted: {still}"
    );
    // An admin (here the owner) repairs it.
    let fixed = team
        .run(owner, &["ios", "doctor", "--app", "acme", "--fix"])
        .ok();
    assert!(fixed.contains("fixed: created certificate"), "{fixed}");
    // signet's own limit (one per team by default) held the revoked one: it is deleted,
    // restorable, and says so.
    assert!(fixed.contains("fixed: deleted certificate"), "{fixed}");
    assert!(fixed.contains("Apple no longer lists it"), "{fixed}");
    assert!(fixed.contains("fixed: created profile"), "{fixed}");
    team.run(owner, &["ios", "doctor", "--app", "acme"]).ok();
    apple.finish();
}

#[test]
fn robots_of_another_app_and_viewers_are_refused() {
    let apple = Apple::new(2);
    let team = &apple.team;
    let other = team
        .run(&team.owner, &["app", "create", "other", "--json"])
        .json();
    let other_id = other["id"].as_str().unwrap().to_owned();
    let robot = team.robot("developer", Some(&[other_id.as_str()]));
    let nobody = team.nobody();
    let run = team.run_with(
        &nobody,
        &[
            "ios",
            "setup",
            "--app",
            "acme",
            "--bundle-id",
            BUNDLE,
            "--distribution",
            "app-store",
        ],
        &[
            ("SIGNET_SERVER", team.url.as_str()),
            ("SIGNET_TOKEN", robot.as_str()),
        ],
    );
    let err = run.fails_with(1);
    assert!(err.contains("error:"), "{err}");
    assert_eq!(apple.sim.log().len(), 0, "nothing reached Apple");
    let viewer = team.member("viewer@acme.test", "viewer");
    let err = apple.setup(&viewer, "app-store").fails_with(1);
    assert!(
        err.contains("this needs the developer role or higher; you are viewer"),
        "{err}"
    );
    assert_eq!(apple.sim.log().len(), 0, "nothing reached Apple");
    // An app without a key says how to add one.
    let err = team
        .run(
            &team.owner,
            &[
                "ios",
                "setup",
                "--app",
                "other",
                "--bundle-id",
                "com.acme.other",
                "--distribution",
                "app-store",
            ],
        )
        .fails_with(1);
    assert!(
        err.contains("no App Store Connect API key in the `asc-api-key` slot of com.acme.other"),
        "{err}"
    );
    assert!(
        err.contains("hint: upload the team's App Store Connect API key"),
        "{err}"
    );
    apple.finish();
}

#[test]
fn serve_refuses_an_asc_url_that_is_not_http() {
    let dir = Dir::new();
    let err = dir
        .signet(&[
            "serve",
            "--data-dir",
            "data",
            "--listen",
            "127.0.0.1:0",
            "--asc-url",
            "ftp://apple.example",
        ])
        .fails_with(1);
    assert_eq!(
        err,
        "error: SIGNET_ASC_URL (--asc-url) is not an http(s) URL: ftp://apple.example\n"
    );
    assert!(!dir.exists("data"), "nothing made before the check");
}
