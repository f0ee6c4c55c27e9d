//! Behaviours of the API one test each, with the exact answer: uploads of the types the
//! other suites do not upload (Google service-account keys, App Store Connect keys), the
//! type and team checks of app slots, deleting an organization, the expiring report,
//! the protocol answers (413, 415) and `X-Request-Id`. The router in process, on SQLite,
//! and on PostgreSQL at 127.0.0.1:5432 where the test reads the database itself
//! (`SIGNET_TEST_POSTGRES_URL` overrides; these tests fail without it).

mod fixtures;
mod world;

use serde_json::{Value, json};
use signet_formats::KeyAlgorithm;

use fixtures::{postgres_url, private_key_pem, service_account_json};
use world::*;

const TEAM: &str = "A1B2C3D4E5";
const OTHER_TEAM: &str = "Z9Y8X7W6V5";
const ISSUER: &str = "57246542-96fe-1a63-e053-0824d011072a";

/// A 422 naming `field`, with `reason`.
fn assert_invalid(r: &Response, field: &str, reason: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem_type(), "invalid", "{}", r.text);
    assert_eq!(r.json()["field"], field, "{}", r.text);
    assert_eq!(r.json()["reason"], reason, "{}", r.text);
}

impl World {
    async fn post_credential(&self, body: Value) -> Response {
        call("POST", &format!("{}/credentials", self.base()))
            .token(&self.developer)
            .body(body)
            .send(&self.app)
            .await
    }

    /// Uploads through the API; the new credential's record.
    async fn create(&self, body: Value) -> Value {
        let r = self.post_credential(body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()
    }

    async fn credential_count(&self) -> usize {
        let r = call("GET", &format!("{}/credentials?limit=500", self.base()))
            .token(&self.owner)
            .send(&self.app)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["items"].as_array().unwrap().len()
    }

    async fn audit(&self) -> Vec<Value> {
        let r = call("GET", &format!("{}/audit?limit=500", self.base()))
            .token(&self.owner)
            .send(&self.app)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["items"].as_array().unwrap().clone()
    }
}

/// Another organization on the same store: its id and its owner's session.
async fn another_org(w: &World) -> (String, String) {
    let s = &w.state.store;
    let email = format!("other-{}@example.com", fixtures::random_hex());
    let (_, org) = s
        .create_user(&actor(), &email, PASSWORD, Some("Other"))
        .await
        .unwrap();
    let (_, _, token) = s.login(&actor(), &email, PASSWORD).await.unwrap();
    (org.unwrap().id.to_string(), token.to_string())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn push_key(key_id: &str, team: &str) -> Value {
    json!({ "type": "apple-push-key", "p8": private_key_pem(KeyAlgorithm::EcP256),
            "key_id": key_id, "team_id": team })
}

fn asc_key(key_id: &str, team: &str) -> Value {
    json!({ "type": "asc-api-key", "p8": private_key_pem(KeyAlgorithm::EcP256),
            "key_id": key_id, "issuer_id": ISSUER, "team_id": team,
            "roles": ["APP_MANAGER"] })
}

// ---------------------------------------------------------------------------------------
// Uploads: Google service-account keys and App Store Connect keys.

#[tokio::test]
async fn a_service_account_key_shows_what_its_file_says() {
    let w = World::sqlite().await;
    let file = service_account_json("acme-push", "4f1c0a9e2b7d4c1e8a3f5b6d7e8f9a0b1c2d3e4f");
    let v = w
        .create(json!({ "type": "google-service-account-key", "json": file }))
        .await;
    assert_eq!(v["type"], "google-service-account-key");
    assert_eq!(v["name"], "signer@acme-push.iam.gserviceaccount.com");
    assert_eq!(
        v["metadata"],
        json!({ "project_id": "acme-push",
                "client_email": "signer@acme-push.iam.gserviceaccount.com",
                "private_key_id": "4f1c0a9e2b7d4c1e8a3f5b6d7e8f9a0b1c2d3e4f" })
    );
    assert!(v["expires_at"].is_null(), "{v}");
    assert!(!v.to_string().contains("PRIVATE KEY"), "{v}");
    // The file comes back as it was uploaded.
    let r = call(
        "GET",
        &format!("{}/credentials/{}/secret", w.base(), id(&v)),
    )
    .token(&w.admin)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["secret"]["json"], file.as_str());
}

#[tokio::test]
async fn a_bad_service_account_key_is_refused_naming_the_reason() {
    let w = World::sqlite().await;
    let good: Value = serde_json::from_str(&service_account_json("acme", "k1")).unwrap();
    let with = |name: &str, value: Value| {
        let mut file = good.clone();
        file[name] = value;
        file.to_string()
    };
    let without = |name: &str| {
        let mut file = good.clone();
        file.as_object_mut().unwrap().remove(name);
        file.to_string()
    };
    let cases = [
        (
            "{ not json".to_owned(),
            "not JSON: key must be a string at line 1 column 3",
        ),
        (
            with("type", json!("authorized_user")),
            "`type` is not `service_account`",
        ),
        (
            without("client_email"),
            "the key file has no `client_email`",
        ),
        (without("project_id"), "the key file has no `project_id`"),
        (
            with("private_key", json!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")),
            "`private_key` is not one PEM PRIVATE KEY",
        ),
    ];
    for (file, reason) in cases {
        let r = w
            .post_credential(json!({ "type": "google-service-account-key", "json": file }))
            .await;
        assert_invalid(&r, "json", reason);
    }
    assert_eq!(w.credential_count().await, 2, "only the world's keystores");
}

#[tokio::test]
async fn an_asc_api_key_shows_its_ids_team_and_roles() {
    let w = World::sqlite().await;
    let v = w.create(asc_key("ASCKEY0001", TEAM)).await;
    assert_eq!(v["type"], "asc-api-key");
    assert_eq!(v["name"], "App Store Connect key ASCKEY0001");
    assert_eq!(v["apple_team"], TEAM);
    assert_eq!(
        v["metadata"],
        json!({ "key_id": "ASCKEY0001", "issuer_id": ISSUER, "team_id": TEAM,
                "roles": ["APP_MANAGER"] })
    );
    assert!(!v.to_string().contains("PRIVATE KEY"), "{v}");
    // Named by the uploader, and without a team.
    let mut body = asc_key("ASCKEY0002", TEAM);
    body.as_object_mut().unwrap().remove("team_id");
    body["name"] = json!("CI submissions");
    let v = w.create(body).await;
    assert_eq!(v["name"], "CI submissions");
    assert!(v["apple_team"].is_null(), "{v}");
    assert!(v["metadata"]["team_id"].is_null(), "{v}");
}

#[tokio::test]
async fn a_bad_asc_api_key_is_refused_naming_the_field() {
    let w = World::sqlite().await;
    let with = |name: &str, value: Value| {
        let mut body = asc_key("ASCKEY0001", TEAM);
        body[name] = value;
        body
    };
    let cases = [
        (
            with("issuer_id", json!("57246542-96fe-1a63-e053-0824d011072")),
            "issuer_id",
            "not a UUID (App Store Connect's issuer id)",
        ),
        (
            with("issuer_id", json!("57246542x96fe-1a63-e053-0824d011072a")),
            "issuer_id",
            "not a UUID (App Store Connect's issuer id)",
        ),
        (
            with("key_id", json!("asckey0001")),
            "key_id",
            "key id `asckey0001` is not an Apple id (10 upper-case letters and digits)",
        ),
        (
            with("team_id", json!("TEAM")),
            "team_id",
            "team id `TEAM` is not an Apple id (10 upper-case letters and digits)",
        ),
        (
            with("p8", json!(private_key_pem(KeyAlgorithm::Rsa2048))),
            "p8",
            "invalid private key: APNs keys are EC P-256, this is Rsa2048",
        ),
    ];
    for (body, field, reason) in cases {
        let r = w.post_credential(body).await;
        assert_invalid(&r, field, reason);
    }
    assert_eq!(w.credential_count().await, 2, "only the world's keystores");
}

// ---------------------------------------------------------------------------------------
// Slots: each takes one type of credential, and Apple keys of the app's team only.

#[tokio::test]
async fn each_slot_refuses_a_credential_of_another_type() {
    let w = World::sqlite().await;
    let fcm = w
        .create(json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" }))
        .await;
    let account = w
        .create(json!({ "type": "google-service-account-key",
                        "json": service_account_json("acme", "k1") }))
        .await;
    let team = w
        .create(json!({ "type": "apple-team", "team_id": TEAM, "team_name": "Acme Inc" }))
        .await;
    let push = w.create(push_key("PUSHKEY001", TEAM)).await;
    let asc = w.create(asc_key("ASCKEY0001", TEAM)).await;
    let slots = [
        ("android/com.acme.app/fcm-key", "fcm-legacy-key", &fcm),
        (
            "android/com.acme.app/google-service-account-fcm",
            "google-service-account-key",
            &account,
        ),
        (
            "android/com.acme.app/google-service-account-submissions",
            "google-service-account-key",
            &account,
        ),
        ("ios/com.acme.app/apple-team", "apple-team", &team),
        ("ios/com.acme.app/push-key", "apple-push-key", &push),
        ("ios/com.acme.app/asc-api-key", "asc-api-key", &asc),
    ];
    let slot = |s: &str| format!("{}/apps/a/slots/{s}", w.base());
    for (path, kind, right) in slots {
        // A keystore, and the right type of another slot, are refused.
        let wrong_ones = [
            (w.keystore_a.to_string(), "android-keystore"),
            if kind == "fcm-legacy-key" {
                (id(&push), "apple-push-key")
            } else {
                (id(&fcm), "fcm-legacy-key")
            },
        ];
        for (wrong, wrong_kind) in wrong_ones {
            let r = call("PUT", &slot(path))
                .token(&w.developer)
                .body(json!({ "credential_id": wrong }))
                .send(&w.app)
                .await;
            assert_invalid(
                &r,
                "credential_id",
                &format!("`{wrong}` is a {wrong_kind}, not a {kind}"),
            );
        }
        let r = call("PUT", &slot(path))
            .token(&w.developer)
            .body(json!({ "credential_id": id(right) }))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json()["credential_id"], id(right).as_str(), "{path}");
    }
    // A slot of the other platform does not exist.
    let r = call("PUT", &slot("ios/com.acme.app/fcm-key"))
        .token(&w.developer)
        .body(json!({ "credential_id": id(&fcm) }))
        .send(&w.app)
        .await;
    assert_invalid(
        &r,
        "slot",
        "no slot `fcm-key` for ios; slots: apple-team, push-key, asc-api-key",
    );
    // What the app holds: exactly the six right assignments.
    let r = call("GET", &format!("{}/apps/a", w.base()))
        .token(&w.developer)
        .send(&w.app)
        .await;
    let mut links: Vec<(String, String)> = r.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                format!(
                    "{}/{}/{}",
                    l["platform"].as_str().unwrap(),
                    l["identifier"].as_str().unwrap(),
                    l["slot"].as_str().unwrap()
                ),
                l["credential_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    links.sort();
    let mut expected: Vec<(String, String)> = slots
        .iter()
        .map(|(path, _, right)| ((*path).to_owned(), id(right)))
        .collect();
    expected.sort();
    assert_eq!(links, expected);
}

#[tokio::test]
async fn apple_credentials_of_another_team_are_refused_for_the_apps_team() {
    let w = World::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    // The app's bundle belongs to the other team.
    let team = w
        .create(json!({ "type": "apple-team", "team_id": OTHER_TEAM }))
        .await;
    let slot = |s: &str| format!("{}/apps/a/slots/ios/com.acme.app/{s}", w.base());
    let r = call("PUT", &slot("apple-team"))
        .token(&w.developer)
        .body(json!({ "credential_id": id(&team) }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let wrong_team = format!("the key belongs to team {TEAM}, the app's team is {OTHER_TEAM}");
    for (name, body) in [
        ("push-key", push_key("PUSHKEY001", TEAM)),
        ("asc-api-key", asc_key("ASCKEY0001", TEAM)),
    ] {
        let key = w.create(body).await;
        let r = call("PUT", &slot(name))
            .token(&w.developer)
            .body(json!({ "credential_id": id(&key) }))
            .send(&w.app)
            .await;
        assert_invalid(&r, "credential_id", &wrong_team);
    }
    // The certificate of a build pair too (the pair is otherwise right: same team,
    // profile allowing the certificate, bundle id and kind).
    let cert = w
        .create(json!({ "type": "apple-distribution-certificate",
                        "p12": fixtures::b64(&apple.p12), "password": P12_PASS }))
        .await;
    let profile = w
        .create(json!({ "type": "apple-provisioning-profile",
                        "profile": fixtures::b64(&apple.profile) }))
        .await;
    let pair = format!("{}/apps/a/ios/com.acme.app/build-pairs/app-store", w.base());
    let r = call("PUT", &pair)
        .token(&w.developer)
        .body(json!({ "certificate_id": id(&cert), "profile_id": id(&profile) }))
        .send(&w.app)
        .await;
    assert_invalid(
        &r,
        "certificate_id",
        &format!("the certificate belongs to team {TEAM}, the app's team is {OTHER_TEAM}"),
    );
    // Keys of the app's team are taken; on another bundle (no team) so is the pair.
    let key = w.create(push_key("PUSHKEY002", OTHER_TEAM)).await;
    let r = call("PUT", &slot("push-key"))
        .token(&w.developer)
        .body(json!({ "credential_id": id(&key) }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        "PUT",
        &format!(
            "{}/apps/a/ios/com.acme.other/build-pairs/app-store",
            w.base()
        ),
    )
    .token(&w.developer)
    .body(json!({ "certificate_id": id(&cert), "profile_id": id(&profile) }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Only what was allowed is assigned.
    let r = call("GET", &format!("{}/apps/a", w.base()))
        .token(&w.developer)
        .send(&w.app)
        .await;
    let app = r.json();
    let slots: Vec<&str> = app["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slot"].as_str().unwrap())
        .collect();
    assert_eq!(slots, ["apple-team", "push-key"], "{app}");
    assert_eq!(app["links"][1]["credential_id"], id(&key).as_str());
    let pairs = app["build_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "{app}");
    assert_eq!(pairs[0]["bundle_id"], "com.acme.other", "{app}");
}

// ---------------------------------------------------------------------------------------
// Deleting an organization.

#[tokio::test]
async fn only_the_owner_deletes_an_organization() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    let (_, other_owner) = another_org(&w).await;
    for (who, token, status) in [
        ("admin", &w.admin, 403),
        ("developer", &w.developer, 403),
        ("robot", &robot, 403),
        ("owner of another organization", &other_owner, 404),
    ] {
        let r = call("DELETE", &w.base()).token(token).send(&w.app).await;
        assert_eq!(r.status, status, "{who}: {}", r.text);
        let expected = if status == 403 {
            "forbidden"
        } else {
            "not-found"
        };
        assert_eq!(r.problem_type(), expected, "{who}");
    }
    let r = call("GET", &w.base()).token(&w.admin).send(&w.app).await;
    assert_eq!(r.status, 200, "still there: {}", r.text);
    let r = call("DELETE", &w.base()).token(&w.owner).send(&w.app).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call("GET", &w.base()).token(&w.owner).send(&w.app).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

/// Everything in the organization goes (read in the database itself), its members keep
/// their accounts, its robots stop working, another organization is untouched, and the
/// deletion is audited with who did it.
#[tokio::test]
async fn deleting_an_organization_removes_everything_in_it() {
    use sqlx::Connection as _;
    let url = postgres_url().await;
    let store = signet_store::Store::open(&url, signet_store::Keyring::generate("k1").unwrap())
        .await
        .unwrap();
    let w = World::new(store).await;
    // Another organization, with a keystore in an app's build set and a robot.
    let (other_org, other_owner) = another_org(&w).await;
    let other_base = format!("/v1/orgs/{other_org}");
    let r = call("POST", &format!("{other_base}/credentials"))
        .token(&other_owner)
        .body(keystore_upload("other"))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let other_keystore = id(&r.json());
    let r = call("POST", &format!("{other_base}/apps"))
        .token(&other_owner)
        .body(json!({ "slug": "x" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(
        "PUT",
        &format!("{other_base}/apps/x/android/com.other.x/build-sets/release"),
    )
    .token(&other_owner)
    .body(json!({ "keystore_id": other_keystore }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call("POST", &format!("{other_base}/robots"))
        .token(&other_owner)
        .body(json!({ "name": "ci", "role": "developer" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Something in every table that holds the organization's rows.
    let robot = w.robot_for_a().await;
    let fcm = w
        .create(json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" }))
        .await;
    let r = call(
        "PUT",
        &format!("{}/apps/a/slots/android/com.acme.app/fcm-key", w.base()),
    )
    .token(&w.developer)
    .body(json!({ "credential_id": id(&fcm) }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call("PUT", &format!("{}/credentials/{}", w.base(), w.keystore_b))
        .token(&w.developer)
        .body(keystore_upload("b2"))
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "a kept version: {}", r.text);
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    let cert = w
        .create(json!({ "type": "apple-distribution-certificate",
                        "p12": fixtures::b64(&apple.p12), "password": P12_PASS }))
        .await;
    let profile = w
        .create(json!({ "type": "apple-provisioning-profile",
                        "profile": fixtures::b64(&apple.profile) }))
        .await;
    let r = call(
        "PUT",
        &format!("{}/apps/a/ios/com.acme.app/build-pairs/app-store", w.base()),
    )
    .token(&w.developer)
    .body(json!({ "certificate_id": id(&cert), "profile_id": id(&profile) }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let tables = [
        "app_links",
        "ios_build_pairs",
        "android_build_sets",
        "credential_versions",
        "credentials",
        "apps",
        "tokens",
        "memberships",
    ];
    let count = async |db: &mut sqlx::PgConnection, table: &str, org: &str| -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1"))
            .bind(org)
            .fetch_one(db)
            .await
            .unwrap()
    };
    let mut others_before = Vec::new();
    for table in tables {
        assert!(
            count(&mut db, table, w.org.as_str()).await > 0,
            "{table} holds rows"
        );
        others_before.push(count(&mut db, table, &other_org).await);
    }
    let me = call("GET", "/v1/me").token(&w.owner).send(&w.app).await;
    let owner_id = me.json()["user"]["id"].as_str().unwrap().to_owned();
    let fetch = format!(
        "{}/apps/a/build-credentials?platform=android&application_id=com.acme.app",
        w.base()
    );
    let r = call("GET", &fetch).token(&robot).send(&w.app).await;
    assert_eq!(r.status, 200, "the robot works before: {}", r.text);

    let r = call("DELETE", &w.base())
        .token(&w.owner)
        .header("x-request-id", "delete-acme-1")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    for table in tables {
        assert_eq!(count(&mut db, table, w.org.as_str()).await, 0, "{table}");
    }
    let orgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE id = $1")
        .bind(w.org.as_str())
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(orgs, 0);
    let mut others_after = Vec::new();
    for table in tables {
        others_after.push(count(&mut db, table, &other_org).await);
    }
    assert_eq!(
        others_after, others_before,
        "the other organization is untouched"
    );
    // The deletion is audited outside the organization (whose log went with it), naming
    // who, from where and the request.
    let (actor, ip, request_id): (String, String, String) = sqlx::query_as(
        "SELECT actor, ip, request_id FROM audit WHERE action = 'org.delete' AND target = $1 \
         AND org_id IS NULL",
    )
    .bind(w.org.as_str())
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(actor, format!("user:{owner_id}"));
    assert_eq!(ip, "192.0.2.1");
    assert_eq!(request_id, "delete-acme-1");
    // Members keep their accounts and sessions; robots of the organization are gone.
    let r = call("GET", "/v1/me").token(&w.admin).send(&w.app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call("GET", &fetch).token(&robot).send(&w.app).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // The other organization's secrets still open.
    let r = call(
        "GET",
        &format!("{other_base}/credentials/{other_keystore}/secret"),
    )
    .token(&other_owner)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["secret"]["store_password"], STORE_PASS);
    db.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// The expiring report.

fn keystore_for_days(alias: &str, days: u32) -> Value {
    json!({ "type": "android-keystore",
            "keystore": fixtures::b64(&fixtures::keystore_valid_for(alias, STORE_PASS, KEY_PASS, days)),
            "store_password": STORE_PASS, "key_password": KEY_PASS, "name": alias })
}

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Credentials that stop working within the days asked, soonest first, with when: not
/// later ones, not those that never expire, not deleted ones.
#[tokio::test]
async fn the_expiring_report_lists_what_expires_within_the_days_asked() {
    let w = World::sqlite().await;
    let before = now_ms();
    let in_20 = w.create(keystore_for_days("in-20", 20)).await;
    let in_5 = w.create(keystore_for_days("in-5", 5)).await;
    let in_40 = w.create(keystore_for_days("in-40", 40)).await;
    let deleted = w.create(keystore_for_days("in-10-deleted", 10)).await;
    w.create(json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" }))
        .await;
    let r = call(
        "DELETE",
        &format!("{}/credentials/{}", w.base(), id(&deleted)),
    )
    .token(&w.admin)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = now_ms();

    let report = async |days: &str| -> Vec<(String, i64)> {
        let r = call("GET", &format!("{}/expiring{days}", w.base()))
            .token(&w.developer)
            .send(&w.app)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json()["next_cursor"].is_null(), "{}", r.text);
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["expires_at"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let within_30 = report("?days=30").await;
    let names: Vec<&str> = within_30.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["in-5", "in-20"]);
    // Days left as the certificates say (to the second they were made).
    for ((_, expires_at), days) in within_30.iter().zip([5, 20]) {
        assert!(
            (before + days * DAY_MS - 1000..=after + days * DAY_MS).contains(expires_at),
            "{expires_at} is {days} days from now"
        );
    }
    assert_eq!(within_30[0].1, in_5["expires_at"].as_i64().unwrap());
    assert_eq!(within_30[1].1, in_20["expires_at"].as_i64().unwrap());
    // Thirty days when not asked.
    assert_eq!(report("").await, within_30);
    let names: Vec<String> = report("?days=60")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["in-5", "in-20", "in-40"]);
    assert_eq!(in_40["name"], "in-40");
    // Nothing has expired yet.
    assert_eq!(report("?days=0").await, []);
    for days in ["-1", "3651", "soon"] {
        let r = call("GET", &format!("{}/expiring?days={days}", w.base()))
            .token(&w.developer)
            .send(&w.app)
            .await;
        assert_invalid(&r, "days", "a number from 0 to 3650");
    }
}

/// Pages of the report chain through every expiring credential once, in order, even
/// when several expire at the same millisecond.
#[tokio::test]
async fn the_expiring_report_pages_in_order() {
    let w = World::sqlite().await;
    let keystore = fixtures::keystore_valid_for("same", STORE_PASS, KEY_PASS, 7);
    let same = json!({ "type": "android-keystore", "keystore": fixtures::b64(&keystore),
                       "store_password": STORE_PASS, "key_password": KEY_PASS });
    for _ in 0..3 {
        w.create(same.clone()).await;
    }
    for days in [3, 9, 12] {
        w.create(keystore_for_days(&format!("in-{days}"), days))
            .await;
    }
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let r = call(
            "GET",
            &format!("{}/expiring?days=30&limit=2{cursor}", w.base()),
        )
        .token(&w.developer)
        .send(&w.app)
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let v = r.json();
        let items = v["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 2, "{v}");
        seen.extend(
            items
                .iter()
                .map(|c| (c["expires_at"].as_i64().unwrap(), id(c))),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "soonest first, ties by id");
    sorted.dedup();
    assert_eq!(sorted.len(), 6, "each once");
    assert_eq!(seen[1].0, seen[2].0, "the three copies expire together");
    let r = call("GET", &format!("{}/expiring?cursor=soon:cred_x", w.base()))
        .token(&w.developer)
        .send(&w.app)
        .await;
    assert_invalid(&r, "cursor", "not a cursor of this list");
}

/// The expiring report refuses a cursor it did not hand out (one without `:`, a time that
/// is no number, an id that is no credential's) instead of starting over at the first
/// page; the cursors it hands out still page.
#[tokio::test]
async fn the_expiring_report_refuses_a_cursor_it_did_not_hand_out() {
    let w = World::sqlite().await;
    for days in [3, 9, 12] {
        w.create(keystore_for_days(&format!("in-{days}"), days))
            .await;
    }
    let page = async |cursor: &str| {
        call(
            "GET",
            &format!("{}/expiring?days=30&limit=2{cursor}", w.base()),
        )
        .token(&w.developer)
        .send(&w.app)
        .await
    };
    let first = page("").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let next = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let (time, id) = next.split_once(':').unwrap();
    let second = page(&format!("&cursor={next}")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.json()["items"].as_array().unwrap().len(), 1);
    for bad in [
        id.to_owned(),
        time.to_owned(),
        "soon".to_owned(),
        format!("soon:{id}"),
        format!("{time}:"),
        format!("{time}:{}", w.app_a.id),
        format!("{time}:{}", id.to_uppercase()),
    ] {
        let r = page(&format!("&cursor={bad}")).await;
        assert_invalid(&r, "cursor", "not a cursor of this list");
    }
}

/// The credentials list refuses a cursor that is no credential id (another kind's id, the
/// expiring report's form, a word) instead of reading it as a place in the list.
#[tokio::test]
async fn the_credentials_list_refuses_a_cursor_it_did_not_hand_out() {
    let w = World::sqlite().await;
    w.create(json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" }))
        .await;
    let list = async |cursor: &str| {
        call("GET", &format!("{}/credentials?limit=2{cursor}", w.base()))
            .token(&w.developer)
            .send(&w.app)
            .await
    };
    let first = list("").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let next = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let second = list(&format!("&cursor={next}")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.json()["items"].as_array().unwrap().len(), 1);
    for bad in [
        w.app_a.id.to_string(),
        format!("1700000000000:{next}"),
        next.to_uppercase(),
        next[..next.len() - 1].to_owned(),
        "zzz".to_owned(),
    ] {
        let r = list(&format!("&cursor={bad}")).await;
        assert_invalid(&r, "cursor", "not a cursor of this list");
    }
}

#[tokio::test]
async fn the_apps_list_and_the_audit_log_refuse_a_cursor_they_did_not_hand_out() {
    let w = World::sqlite().await;
    for slug in ["extra-one", "extra-two"] {
        let r = call("POST", &format!("{}/apps", w.base()))
            .token(&w.developer)
            .body(json!({ "slug": slug }))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for (route, token) in [("apps", &w.developer), ("audit", &w.owner)] {
        let list = async |cursor: &str| {
            call("GET", &format!("{}/{route}?limit=1{cursor}", w.base()))
                .token(token)
                .send(&w.app)
                .await
        };
        let first = list("").await;
        assert_eq!(first.status, 200, "{route}: {}", first.text);
        let next = first.json()["next_cursor"].as_str().unwrap().to_owned();
        let second = list(&format!("&cursor={next}")).await;
        assert_eq!(second.status, 200, "{route}: {}", second.text);
        assert_ne!(
            second.json()["items"][0],
            first.json()["items"][0],
            "{route} pages on"
        );
        for bad in [
            "~".to_owned(),
            next.to_uppercase(),
            next[..next.len() - 1].to_owned(),
            format!("{next}0"),
            "zzz".to_owned(),
        ] {
            let r = list(&format!("&cursor={bad}")).await;
            assert_invalid(&r, "cursor", "not a cursor of this list");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Protocol answers.

#[tokio::test]
async fn a_body_over_4_mib_is_413_and_stores_nothing() {
    let w = World::sqlite().await;
    let body = json!({ "type": "fcm-legacy-key", "server_key": "k".repeat(4 * 1024 * 1024) });
    let r = w.post_credential(body).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.problem_type(), "too-large");
    assert_eq!(
        r.json()["detail"],
        "the body is larger than this request accepts"
    );
    // Just under the limit is read (and refused for what it is).
    let body = json!({ "type": "fcm-legacy-key", "server_key": "k".repeat(4 * 1024 * 1024 - 64) });
    let r = w.post_credential(body).await;
    assert_invalid(&r, "server_key", "at most 1024 bytes");
    assert_eq!(w.credential_count().await, 2);
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let w = World::sqlite().await;
    let body = json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" })
        .to_string()
        .into_bytes();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = call("POST", &format!("{}/credentials", w.base()))
            .token(&w.developer)
            .raw_body(content_type, body.clone())
            .send(&w.app)
            .await;
        assert_eq!(r.status, 415, "{content_type:?}: {}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.problem_type(), "unsupported-media-type");
        assert_eq!(r.json()["detail"], "send Content-Type: application/json");
    }
    assert_eq!(w.credential_count().await, 2);
    // The same bytes declared as JSON are taken.
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .raw_body(Some("application/json"), body)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

// ---------------------------------------------------------------------------------------
// X-Request-Id.

fn is_generated_id(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[tokio::test]
async fn a_clients_request_id_is_echoed_and_audited() {
    let w = World::sqlite().await;
    let sent = format!("ci-run_42-{}", "x".repeat(54));
    assert_eq!(sent.len(), 64);
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .header("x-request-id", &sent)
        .body(json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmServerKeyQwertyuiopZZZZ" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.headers["x-request-id"], sent.as_str());
    let created = id(&r.json());
    let audit = w.audit().await;
    let record = audit
        .iter()
        .find(|a| a["action"] == "credential.create" && a["target"] == created.as_str())
        .unwrap();
    assert_eq!(record["request_id"], sent.as_str());
}

/// An id that is empty, too long or holds anything but letters, digits, `-` and `_` is
/// replaced by one of the server's, which the response and the audit record carry; the
/// client's never appears.
#[tokio::test]
async fn a_hostile_request_id_is_replaced() {
    let w = World::sqlite().await;
    let hostile = [
        String::new(),
        "a".repeat(65),
        "two words".to_owned(),
        "<script>alert(1)</script>".to_owned(),
        "id\"},{\"forged\":\"1".to_owned(),
        "ünïcode".to_owned(),
        "a;b=c".to_owned(),
    ];
    let mut generated = Vec::new();
    for (n, sent) in hostile.iter().enumerate() {
        let r = call("POST", &format!("{}/credentials", w.base()))
            .token(&w.developer)
            .header("x-request-id", sent)
            .body(json!({ "type": "fcm-legacy-key",
                          "server_key": format!("AAAAfcmServerKeyQwertyuiop{n:04}") }))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 201, "{sent:?}: {}", r.text);
        let echoed = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(
            is_generated_id(&echoed),
            "{sent:?} answered with {echoed:?}"
        );
        assert!(
            !r.text.contains(sent.as_str()) || sent.is_empty(),
            "{}",
            r.text
        );
        generated.push((id(&r.json()), echoed));
    }
    let audit = w.audit().await;
    for (created, echoed) in &generated {
        let record = audit
            .iter()
            .find(|a| a["action"] == "credential.create" && a["target"] == created.as_str())
            .unwrap();
        assert_eq!(record["request_id"], echoed.as_str(), "{record}");
    }
    let mut ids: Vec<&str> = generated.iter().map(|(_, e)| e.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), hostile.len(), "a new id each time");
    // Without one, the server makes one too.
    let r = call("GET", "/v1/me").token(&w.owner).send(&w.app).await;
    assert!(is_generated_id(r.headers["x-request-id"].to_str().unwrap()));
}

#[tokio::test]
async fn a_pkcs12_keystore_with_another_key_password_is_refused() {
    let w = World::sqlite().await;
    let entry = signet_formats::generate::key_entry(
        "upload",
        signet_formats::KeyAlgorithm::EcP256,
        &signet_formats::DistinguishedName::parse("CN=Acme Upload").unwrap(),
        3650,
    )
    .unwrap();
    let p12 = signet_formats::write(
        &[entry],
        &[],
        &signet_formats::WriteOptions {
            kind: signet_formats::KeystoreType::Pkcs12,
            store_password: signet_formats::Password::new("p12-store-pass"),
            key_password: None,
            pkcs12_encryption: signet_formats::Pkcs12Encryption::Modern,
        },
    )
    .unwrap();
    let before = w.credential_count().await;
    let r = w
        .post_credential(
            json!({ "type": "android-keystore", "keystore": fixtures::b64(&p12),
                                 "store_password": "p12-store-pass",
                                 "key_password": "KEYPWSECRET" }),
        )
        .await;
    assert_invalid(
        &r,
        "key_password",
        "a PKCS#12 keystore has one password: leave key_password out, or give the store password",
    );
    assert!(!r.text.contains("KEYPWSECRET"), "{}", r.text);
    assert_eq!(w.credential_count().await, before, "nothing stored");
    // The store password as the key password is what PKCS#12 means: accepted.
    w.create(
        json!({ "type": "android-keystore", "keystore": fixtures::b64(&p12),
                     "store_password": "p12-store-pass", "key_password": "p12-store-pass" }),
    )
    .await;
}

/// `GET …/credentials/{id}/impact` as a developer.
async fn impact(w: &World, c: &Value) -> Value {
    let url = format!("{}/credentials/{}/impact", w.base(), id(c));
    let r = call("GET", &url).token(&w.developer).send(&w.app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// SPEC §1's impact of deleting each Apple credential, phrase by phrase from the contract
/// (not from signet's own text): a certificate takes its profiles and the builds using them
/// down at build time and spares apps in production; a push key cuts push at run time; a
/// profile fails the next build only; and removal never revokes at Apple.
#[tokio::test]
async fn the_impact_of_each_apple_credential_says_what_the_contract_says() {
    let w = World::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    let cert = w
        .create(json!({ "type": "apple-distribution-certificate",
                        "p12": fixtures::b64(&apple.p12), "password": P12_PASS }))
        .await;
    let profile = w
        .create(json!({ "type": "apple-provisioning-profile",
                        "profile": fixtures::b64(&apple.profile) }))
        .await;
    let key = w.create(push_key("KEYIMPACT1", TEAM)).await;
    let words = |v: &Value| v["summary"].as_str().unwrap_or_default().to_lowercase();
    let c = impact(&w, &cert).await;
    let s = words(&c);
    for phrase in [
        "provisioning profiles",
        "build time",
        "production are not affected",
    ] {
        assert!(
            s.contains(phrase),
            "certificate: `{phrase}` missing from {c}"
        );
    }
    assert!(
        c["affected_credentials"][0]
            .as_str()
            .is_some_and(|a| a.starts_with(id(&profile).as_str())),
        "the profile allowing the certificate is affected: {c}"
    );
    let s = words(&impact(&w, &key).await);
    for phrase in ["loses push", "run time"] {
        assert!(s.contains(phrase), "push key: `{phrase}` missing from {s}");
    }
    let s = words(&impact(&w, &profile).await);
    assert!(s.contains("next build"), "profile: {s}");
    assert!(
        !s.contains("run time"),
        "a profile does not stop installed apps: {s}"
    );
    for c in [&cert, &key, &profile] {
        assert!(
            words(&impact(&w, c).await).contains("does not revoke it at apple"),
            "SPEC: removing never revokes at Apple"
        );
    }
}
