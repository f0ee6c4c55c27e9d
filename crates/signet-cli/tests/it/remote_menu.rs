//! `signet credentials` as a menu on a terminal, driven through a pseudo-terminal: "Set up
//! a new keystore", and "Delete your keystore" (impact shown, backup written, the name
//! typed to confirm). Off a terminal the same command prompts nothing and exits 2.

use std::time::Duration;

use expectrl::{Expect, session::OsSession as Session};

use crate::{
    remote::{Person, Team},
    serve::Backend,
};

const DOWN: &str = "\x1b[B";

fn menu(team: &Team, person: &Person, args: &[&str]) -> Session {
    let mut cmd = team.command(person);
    cmd.args(args).env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("spawn signet in a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

fn expect(session: &mut Session, text: &str) -> String {
    match session.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("waiting for {text:?}: {e}"),
    }
}

/// Moves down `n` items and chooses.
fn choose(session: &mut Session, n: usize) {
    for _ in 0..n {
        session.send(DOWN).unwrap();
    }
    session.send("\r").unwrap();
}

fn set_up_and_delete(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    team.run(owner, &["app", "create", "acme-app"]).ok();

    // Off a terminal: exit 2, naming what to pass, and nothing asked.
    let err = team.run(owner, &["credentials"]).fails_with(2);
    assert!(
        err.contains("error: `signet credentials` without an action is a menu for a terminal"),
        "{err}"
    );

    // Set up a new keystore.
    let mut s = menu(
        &team,
        owner,
        &["credentials", "-p", "android", "--app", "acme-app"],
    );
    expect(&mut s, "Select application id");
    choose(&mut s, 0); // "Another application id…", the only choice
    expect(&mut s, "The application id");
    s.send("com.acme.app\r").unwrap();
    expect(&mut s, "What do you want to do?");
    choose(&mut s, 0); // Keystore
    expect(&mut s, "No keystore yet for this application id.");
    expect(&mut s, "Set up a new keystore");
    choose(&mut s, 0);
    expect(&mut s, "Name of the build set");
    s.send("\r").unwrap(); // "release"
    expect(&mut s, "Generate a new Android Keystore");
    choose(&mut s, 0);
    let done = expect(&mut s, "Go back");
    assert!(done.contains("stored on the server"), "{done}");
    assert!(
        done.contains("build set release, the default of com.acme.app"),
        "{done}"
    );
    choose(&mut s, 4); // Go back
    expect(&mut s, "Exit");
    choose(&mut s, 3);
    s.expect(expectrl::Eof).expect("the menu ends");

    let app = team.api(
        "GET",
        &format!("/v1/orgs/{}/apps/acme-app", team.org),
        &serde_json::Value::Null,
    );
    let keystore_id = app["build_sets"][0]["keystore_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app["build_sets"][0]["name"], "release", "{app}");
    assert_eq!(app["build_sets"][0]["is_default"], true, "{app}");
    let credential = team.api(
        "GET",
        &format!("/v1/orgs/{}/credentials/{keystore_id}", team.org),
        &serde_json::Value::Null,
    );
    let name = credential["name"].as_str().unwrap().to_owned();

    // Delete it: the impact first, a backup offered, then the name typed. A wrong name
    // changes nothing (and writes no backup: it is written once the deletion is confirmed).
    for (typed, deleted) in [("not the name", false), (name.as_str(), true)] {
        let mut s = menu(
            &team,
            owner,
            &["credentials", "-p", "android", "--app", "acme-app"],
        );
        expect(&mut s, "Select application id");
        choose(&mut s, 0); // com.acme.app
        expect(&mut s, "What do you want to do?");
        choose(&mut s, 0);
        expect(&mut s, "Delete your keystore");
        choose(&mut s, 3);
        expect(&mut s, "Select build set");
        choose(&mut s, 0);
        let impact = expect(&mut s, "Back the keystore up to a file before deleting it?");
        assert!(impact.contains("build set release"), "{impact}");
        assert!(
            impact.contains("A keystore must be identical to the one used for the app's earlier uploads to Google Play."),
            "{impact}"
        );
        assert!(
            impact.contains("Nothing is revoked at Apple or Google."),
            "{impact}"
        );
        s.send("y").unwrap();
        expect(&mut s, "Backup file");
        let backup = format!("backup-{deleted}.p12");
        s.send(format!("{backup}\r")).unwrap();
        expect(&mut s, "to delete it");
        s.send(format!("{typed}\r")).unwrap();
        let path = team.site.dir.path(&backup);
        if deleted {
            expect(&mut s, "Backed up to");
            expect(&mut s, "Deleted");
            // Back in the keystore menu: the build set's keystore shows as deleted.
            let table = expect(&mut s, "Go back");
            assert!(table.contains("(deleted)"), "{table}");
            choose(&mut s, 4);
            expect(&mut s, "Exit");
            choose(&mut s, 3);
            assert_eq!(crate::serve::mode(&path), 0o600);
            let listing = team.site.dir.tool(
                "keytool",
                &[
                    "-list",
                    "-keystore",
                    &backup,
                    "-storepass:file",
                    &format!("{backup}.password"),
                ],
            );
            assert!(listing.ok().contains("PrivateKeyEntry"));
        } else {
            expect(&mut s, "cancelled; nothing was changed");
            assert!(!path.exists());
        }
        s.expect(expectrl::Eof).expect("the menu ends");
        let record = team.api(
            "GET",
            &format!("/v1/orgs/{}/credentials/{keystore_id}", team.org),
            &serde_json::Value::Null,
        );
        assert_eq!(record.get("deleted_at").is_some(), deleted, "{record}");
    }
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn menu_on_sqlite() {
    set_up_and_delete(Backend::Sqlite);
}

#[test]
fn menu_on_postgres() {
    set_up_and_delete(Backend::Postgres);
}
