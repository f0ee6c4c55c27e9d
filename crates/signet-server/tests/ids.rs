//! Ids the store could not have minted, in paths and bodies: each kind answers what an
//! id of nothing answers (404 in a path, 422 naming the field in a body), and nothing
//! else. The malformed values include another kind's real id, the mix-up the id types
//! exist to prevent.

mod fixtures;
mod world;

use serde_json::json;

use world::*;

/// A well-formed id of `prefix` that names nothing.
fn unknown(prefix: &str) -> String {
    format!("{prefix}_000000000000000000000000")
}

/// Values that cannot be ids of the kind whose real id is `real`: another kind's id, the
/// real one changed in case, cut short, made longer, or a slug.
fn malformed(real: &str, other_kind: &str) -> Vec<String> {
    vec![
        other_kind.to_owned(),
        real.to_uppercase(),
        real[..real.len() - 1].to_owned(),
        format!("{real}0"),
        "acme".to_owned(),
    ]
}

/// The 404 an id of nothing gets: status, problem type and detail.
fn assert_not_found(r: &Response, what: &str) {
    assert_eq!(r.status, 404, "{what}: {}", r.text);
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{what}"
    );
    assert_eq!(r.problem_type(), "not-found", "{what}: {}", r.text);
    assert_eq!(r.json()["detail"], "no such resource", "{what}: {}", r.text);
}

#[tokio::test]
async fn a_malformed_organization_id_is_404_for_users_and_robots() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    // The real one answers, so the 404s below are about the id.
    let r = call("GET", &w.base()).token(&w.owner).send(&w.app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut values = malformed(w.org.as_str(), w.app_a.id.as_str());
    values.push(unknown("org"));
    for value in values {
        let r = call("GET", &format!("/v1/orgs/{value}"))
            .token(&w.owner)
            .send(&w.app)
            .await;
        assert_not_found(&r, &value);
        let r = call("GET", &format!("/v1/orgs/{value}/apps/a"))
            .token(&robot)
            .send(&w.app)
            .await;
        assert_not_found(&r, &value);
    }
}

#[tokio::test]
async fn a_malformed_credential_id_is_404_on_every_credential_route() {
    let w = World::sqlite().await;
    let base = w.base();
    let fcm = json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" });
    let r = call("GET", &format!("{base}/credentials/{}", w.keystore_a))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut values = malformed(w.keystore_a.as_str(), w.app_a.id.as_str());
    values.push(w.org.to_string());
    values.push(unknown("cred"));
    for value in values {
        let path = format!("{base}/credentials/{value}");
        let paths = [
            "",
            "/impact",
            "/secret",
            "/versions",
            "/versions/1/secret",
            "/versions/1/restore",
            "/restore",
        ]
        .map(|tail| format!("{path}{tail}"));
        let calls = [
            call("GET", &paths[0]),
            call("GET", &paths[1]),
            call("GET", &paths[2]),
            call("GET", &paths[3]),
            call("GET", &paths[4]),
            call("POST", &paths[5]).if_match(1),
            call("POST", &paths[6]),
            call("DELETE", &path),
            call("PATCH", &path)
                .if_match(1)
                .body(json!({ "name": "renamed" })),
            call("PUT", &path).if_match(1).body(fcm.clone()),
        ];
        for c in calls {
            let what = format!("{} {}", c.method, c.path);
            let r = c.token(&w.admin).send(&w.app).await;
            assert_not_found(&r, &what);
        }
    }
    // Nothing was changed on the way.
    let r = call("GET", &format!("{base}/credentials/{}", w.keystore_a))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.json()["version"], 1, "{}", r.text);
}

/// The store checks a new name before it looks the credential up; an id that cannot be
/// one keeps that order.
#[tokio::test]
async fn a_rename_with_a_bad_name_is_422_whatever_the_id() {
    let w = World::sqlite().await;
    for value in [unknown("cred"), w.app_a.id.to_string()] {
        let r = call("PATCH", &format!("{}/credentials/{value}", w.base()))
            .token(&w.developer)
            .if_match(1)
            .body(json!({ "name": "" }))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 422, "{value}: {}", r.text);
        assert_eq!(r.json()["field"], "name", "{value}: {}", r.text);
        assert_eq!(r.json()["reason"], "1 to 200 printable characters");
    }
}

#[tokio::test]
async fn a_malformed_user_robot_or_session_id_is_404() {
    let w = World::sqlite().await;
    let me = call("GET", "/v1/me").token(&w.owner).send(&w.app).await;
    let user = me.json()["user"]["id"].as_str().unwrap().to_owned();
    let session = me.json()["token_id"].as_str().unwrap().to_owned();
    let robot = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci", "role": "viewer" }))
        .send(&w.app)
        .await;
    assert_eq!(robot.status, 201, "{}", robot.text);
    let robot = robot.json()["robot"]["id"].as_str().unwrap().to_owned();
    let kinds = [
        ("user", format!("{}/members", w.base()), user, "usr"),
        ("robot", format!("{}/robots", w.base()), robot, "tok"),
        ("session", "/v1/me/sessions".to_owned(), session, "tok"),
    ];
    for (kind, collection, real, prefix) in kinds {
        let mut values = malformed(&real, w.keystore_a.as_str());
        values.push(unknown(prefix));
        for value in values {
            let r = call("DELETE", &format!("{collection}/{value}"))
                .token(&w.owner)
                .send(&w.app)
                .await;
            assert_not_found(&r, &format!("{kind} {value}"));
        }
    }
    // The attempts revoked nothing.
    let r = call("GET", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert!(r.json()["items"][0]["revoked_at"].is_null(), "{}", r.text);
}

/// A 422 naming `field` with the answer an id of nothing gets.
fn assert_names_nothing(r: &Response, field: &str, value: &str, what: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem_type(), "invalid", "{}", r.text);
    assert_eq!(r.json()["field"], field, "{}", r.text);
    assert_eq!(
        r.json()["reason"],
        format!("no {what} `{value}` in this organization"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_malformed_id_in_a_body_is_refused_as_an_unknown_one() {
    let w = World::sqlite().await;
    let apps = format!("{}/apps/a", w.base());
    let mut values = malformed(w.keystore_a.as_str(), w.app_a.id.as_str());
    values.push(unknown("cred"));
    for value in &values {
        let r = call("PUT", &format!("{apps}/android/com.acme.new/build-sets/x"))
            .token(&w.developer)
            .body(json!({ "keystore_id": value }))
            .send(&w.app)
            .await;
        assert_names_nothing(&r, "keystore_id", value, "credential");
        let r = call(
            "PUT",
            &format!("{apps}/ios/com.acme.app/build-pairs/app-store"),
        )
        .token(&w.developer)
        .body(json!({ "certificate_id": value, "profile_id": value }))
        .send(&w.app)
        .await;
        assert_names_nothing(&r, "certificate_id", value, "credential");
        let r = call("PUT", &format!("{apps}/slots/android/com.acme.app/fcm-key"))
            .token(&w.developer)
            .body(json!({ "credential_id": value }))
            .send(&w.app)
            .await;
        assert_names_nothing(&r, "credential_id", value, "credential");
    }
    // An app: the first that names nothing is the one named, in order.
    let mut values = malformed(w.app_a.id.as_str(), w.keystore_a.as_str());
    values.push(unknown("app"));
    for value in &values {
        let body = json!({ "name": "ci", "role": "viewer",
                           "app_ids": [w.app_a.id, value, unknown("app")] });
        let r = call("POST", &format!("{}/robots", w.base()))
            .token(&w.admin)
            .body(body)
            .send(&w.app)
            .await;
        assert_names_nothing(&r, "app_ids", value, "app");
    }
    // The store's earlier checks keep their order: a bad name is named first.
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "", "role": "viewer", "app_ids": ["nope"] }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "name", "{}", r.text);
    // And a well-formed body still works.
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci", "role": "viewer", "app_ids": [w.app_a.id] }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json()["robot"]["app_ids"],
        json!([w.app_a.id.as_str()]),
        "{}",
        r.text
    );
}
