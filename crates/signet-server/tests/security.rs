//! Regression tests for the attacks of the security review (issue "Close what an
//! independent security review of signet serve found"): each test replays one attack
//! against the router in process and asserts the exact refusal. SQLite, and PostgreSQL at
//! 127.0.0.1:5432 where the attack is about concurrency or replicas
//! (`SIGNET_TEST_POSTGRES_URL` overrides; these tests fail without it).

mod fixtures;
mod world;

use std::sync::Arc;

use serde_json::{Value, json};
use signet_server::AppState;
use signet_store::{Keyring, Store};

use fixtures::{postgres_url, random_hex, sqlite_store};
use world::*;

// ---------------------------------------------------------------------------------------
// 1. An app-scoped robot cannot reach another app's secrets through assignments.

#[tokio::test]
async fn scoped_robot_cannot_point_its_build_set_at_another_apps_keystore() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    let set = format!("{}/apps/a/android/com.acme.app/build-sets/stolen", w.base());
    let r = call("PUT", &set)
        .token(&robot)
        .body(json!({ "keystore_id": w.keystore_b }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), "forbidden");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("only credentials already assigned to one of them"),
        "{}",
        r.text
    );
    // Nothing was created: fetching that set is 404, and no fetch returns B's keystore.
    let fetch = format!(
        "{}/apps/a/build-credentials?platform=android&application_id=com.acme.app&name=stolen",
        w.base()
    );
    let r = call("GET", &fetch).token(&robot).send(&w.app).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Swapping the existing set's keystore is the same hole.
    let release = format!(
        "{}/apps/a/android/com.acme.app/build-sets/release",
        w.base()
    );
    let r = call("PUT", &release)
        .token(&robot)
        .body(json!({ "keystore_id": w.keystore_b }))
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // What is already its app's, it may use: a second set on A's keystore.
    let r = call(
        "PUT",
        &format!("{}/apps/a/android/com.acme.app/build-sets/second", w.base()),
    )
    .token(&robot)
    .body(json!({ "keystore_id": w.keystore_a }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // An unscoped developer may still assign any keystore of the organization.
    let r = call(
        "PUT",
        &format!("{}/apps/a/android/com.acme.app/build-sets/shared", w.base()),
    )
    .token(&w.developer)
    .body(json!({ "keystore_id": w.keystore_b }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn scoped_robot_may_assign_a_keystore_it_uploaded_itself() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&robot)
        .body(keystore_upload("mine"))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mine = r.json()["id"].as_str().unwrap().to_owned();
    let r = call(
        "PUT",
        &format!("{}/apps/a/android/com.acme.app/build-sets/mine", w.base()),
    )
    .token(&robot)
    .body(json!({ "keystore_id": mine }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Another robot of the same app did not upload it and it is assigned to A now, so
    // it may use it too; a robot of app B may not.
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci-b", "role": "developer", "app_ids": [w.app_b.id] }))
        .send(&w.app)
        .await;
    let robot_b = r.json()["token"].as_str().unwrap().to_owned();
    let r = call(
        "PUT",
        &format!("{}/apps/b/android/com.acme.app/build-sets/mine", w.base()),
    )
    .token(&robot_b)
    .body(json!({ "keystore_id": mine }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn scoped_robot_cannot_assign_another_apps_key_to_a_slot() {
    let w = World::sqlite().await;
    let s = &w.state.store;
    let fcm = upload(
        s,
        &w.org,
        json!({ "type": "fcm-legacy-key", "server_key": "AAAAfcmKeyOfAppB0123456789" }),
    )
    .await;
    s.set_link(
        &actor(),
        &w.org,
        &w.app_b,
        "android",
        "com.acme.app",
        "fcm-key",
        &fcm.clone().into(),
        &signet_store::Scope::Org,
    )
    .await
    .unwrap();
    let robot = w.robot_for_a().await;
    let r = call(
        "PUT",
        &format!("{}/apps/a/slots/android/com.acme.app/fcm-key", w.base()),
    )
    .token(&robot)
    .body(json!({ "credential_id": fcm }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), "forbidden");
    let app = s.app_credentials(&w.org, &w.app_a).await.unwrap();
    assert!(app.links.is_empty(), "nothing assigned: {:?}", app.links);
}

#[tokio::test]
async fn scoped_robot_cannot_pair_another_apps_certificate_and_profile() {
    let w = World::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    let s = &w.state.store;
    let cert = upload(
        s,
        &w.org,
        json!({ "type": "apple-distribution-certificate",
                "p12": fixtures::b64(&apple.p12), "password": P12_PASS }),
    )
    .await;
    let profile = upload(
        s,
        &w.org,
        json!({ "type": "apple-provisioning-profile", "profile": fixtures::b64(&apple.profile) }),
    )
    .await;
    s.put_build_pair(
        &actor(),
        &w.org,
        &w.app_b,
        "com.acme.b",
        "app-store",
        &cert.clone().into(),
        &profile.clone().into(),
        None,
        &signet_store::Scope::Org,
    )
    .await
    .unwrap();
    let robot = w.robot_for_a().await;
    let r = call(
        "PUT",
        &format!("{}/apps/a/ios/com.acme.a/build-pairs/app-store", w.base()),
    )
    .token(&robot)
    .body(json!({ "certificate_id": cert, "profile_id": profile }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = call(
        "GET",
        &format!(
            "{}/apps/a/build-credentials?platform=ios&bundle_id=com.acme.a&distribution=app-store",
            w.base()
        ),
    )
    .token(&robot)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 404, "no pair was made: {}", r.text);
}

#[tokio::test]
async fn scoped_robot_cannot_call_routes_outside_its_apps() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    for (method, path) in [
        ("GET", format!("{}/credentials", w.base())),
        (
            "GET",
            format!("{}/credentials/{}/secret", w.base(), w.keystore_b),
        ),
        ("GET", format!("{}/apps/b", w.base())),
        (
            "GET",
            format!(
                "{}/apps/b/build-credentials?platform=android&application_id=com.acme.app",
                w.base()
            ),
        ),
        ("GET", format!("{}/audit", w.base())),
    ] {
        let r = call(method, &path).token(&robot).send(&w.app).await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
    }
}

// ---------------------------------------------------------------------------------------
// 2. Login guesses are counted before the password is checked, per account and address
// and per account, in the database.

fn login(email: &str, password: &str) -> Value {
    json!({ "email": email, "password": password })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_check_at_most_the_budget_and_the_owner_still_logs_in() {
    let w = World::sqlite().await;
    let before = w.state.store.password_hashes();
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let app = w.app.clone();
            let body = login(&w.owner_email, &format!("wrong password {i}"));
            tokio::spawn(async move {
                call("POST", "/v1/auth/login")
                    .body(body)
                    .from("198.51.100.7")
                    .send(&app)
                    .await
            })
        })
        .collect();
    let (mut unauthorized, mut throttled) = (0, 0);
    for g in guesses {
        let r = g.await.unwrap();
        match r.status.as_u16() {
            401 => unauthorized += 1,
            429 => {
                assert_eq!(r.problem_type(), "too-many-logins");
                let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=60).contains(&wait), "{wait}");
                throttled += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    let checked = w.state.store.password_hashes() - before;
    let budget = signet_server::login_limit::PER_ADDRESS.attempts;
    assert_eq!(checked, u64::from(budget), "passwords checked");
    assert_eq!(unauthorized, budget, "401s");
    assert_eq!(throttled, 40 - budget, "429s");
    // Locked at that address even with the right password; from another, the owner
    // logs in.
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .from("198.51.100.7")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .from("203.0.113.9")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn guesses_from_many_addresses_spend_the_account_budget() {
    let w = World::sqlite().await;
    let per_account = signet_server::login_limit::PER_ACCOUNT.attempts;
    let per_address = signet_server::login_limit::PER_ADDRESS.attempts;
    let mut sent = 0;
    for address in 1.. {
        for _ in 0..per_address {
            if sent == per_account {
                break;
            }
            let r = call("POST", "/v1/auth/login")
                .body(login(&w.owner_email, "wrong password!!"))
                .from(&format!("198.51.100.{address}"))
                .send(&w.app)
                .await;
            assert_eq!(r.status, 401, "{}", r.text);
            sent += 1;
        }
        if sent == per_account {
            break;
        }
    }
    let before = w.state.store.password_hashes();
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .from("203.0.113.50")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.problem_type(), "too-many-logins");
    assert_eq!(
        w.state.store.password_hashes(),
        before,
        "no password checked"
    );
    // Another account is not affected.
    let other = format!("other-{}@example.com", random_hex());
    w.state
        .store
        .create_user(&actor(), &other, PASSWORD, None)
        .await
        .unwrap();
    let r = call("POST", "/v1/auth/login")
        .body(login(&other, PASSWORD))
        .from("203.0.113.50")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_login_budget() {
    let url = postgres_url().await;
    let first = Store::open(&url, Keyring::generate("k1").unwrap())
        .await
        .unwrap();
    let w = World::new(first).await;
    let second = Store::open(&url, Keyring::generate("k1").unwrap())
        .await
        .unwrap();
    let replica = signet_server::router(Arc::new(AppState::new(second, None)));
    let budget = signet_server::login_limit::PER_ADDRESS.attempts;
    for i in 0..budget {
        let app = if i % 2 == 0 { &w.app } else { &replica };
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, "wrong password!!"))
            .send(app)
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
    }
    for app in [&w.app, &replica] {
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, PASSWORD))
            .send(app)
            .await;
        assert_eq!(r.status, 429, "{}", r.text);
    }
}

#[tokio::test]
async fn a_successful_login_clears_its_addresses_count() {
    let w = World::sqlite().await;
    let budget = signet_server::login_limit::PER_ADDRESS.attempts;
    for _ in 0..budget - 1 {
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, "wrong password!!"))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 401);
    }
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for _ in 0..budget {
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, "wrong password!!"))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 401, "a fresh budget after a success: {}", r.text);
    }
}

// ---------------------------------------------------------------------------------------
// 3 and 7. Hashing is bounded; the setup token is checked first; lengths are bounded
// before use.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_beyond_the_hashing_queue_get_503() {
    let w = World::sqlite().await;
    let before = w.state.store.password_hashes();
    let logins: Vec<_> = (0..60)
        .map(|i| {
            let app = w.app.clone();
            tokio::spawn(async move {
                call("POST", "/v1/auth/login")
                    .body(login(
                        &format!("nobody-{i}-{}@example.com", random_hex()),
                        "some password",
                    ))
                    .from(&format!("198.51.100.{}", i + 1))
                    .send(&app)
                    .await
            })
        })
        .collect();
    let (mut unauthorized, mut busy) = (0u64, 0u64);
    for l in logins {
        let r = l.await.unwrap();
        match r.status.as_u16() {
            401 => unauthorized += 1,
            503 => {
                assert_eq!(r.problem_type(), "busy");
                assert_eq!(r.headers["retry-after"], "1");
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert!(busy > 0, "60 logins at once overflow the queue");
    assert_eq!(
        w.state.store.password_hashes() - before,
        unauthorized,
        "a 503 checked no password"
    );
}

#[tokio::test]
async fn setup_token_check_precedes_the_password_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    store.issue_setup_token(None).await.unwrap();
    let state = Arc::new(AppState::new(store, None));
    let app = signet_server::router(Arc::clone(&state));
    let wrong = signet_store::secrets::mint(signet_store::secrets::TokenKind::Setup).unwrap();
    let r = call("POST", "/v1/setup")
        .body(
            json!({ "setup_token": wrong.as_str(), "email": "first@example.com",
                      "password": PASSWORD, "org": "Acme" }),
        )
        .send(&app)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(state.store.password_hashes(), 0, "no Argon2 run");
}

#[tokio::test]
async fn setup_closes_once_a_user_exists() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let signet_store::SetupToken::Issued(token) = store.issue_setup_token(None).await.unwrap()
    else {
        panic!("a fresh store issues a setup token");
    };
    // `signet admin create-user` makes the first user instead.
    store
        .create_user(&actor(), "admin@example.com", PASSWORD, Some("Acme"))
        .await
        .unwrap();
    let state = Arc::new(AppState::new(store, None));
    let app = signet_server::router(Arc::clone(&state));
    let hashes = state.store.password_hashes();
    let r = call("POST", "/v1/setup")
        .body(
            json!({ "setup_token": token.as_str(), "email": "second@example.com",
                      "password": PASSWORD, "org": "Evil" }),
        )
        .send(&app)
        .await;
    assert_eq!(r.status, 410, "{}", r.text);
    assert_eq!(r.problem_type(), "setup-closed");
    assert_eq!(state.store.user_count().await.unwrap(), 1);
    assert_eq!(state.store.password_hashes(), hashes, "no Argon2 run");
    assert!(matches!(
        state.store.issue_setup_token(Some(&token)).await.unwrap(),
        signet_store::SetupToken::NotNeeded
    ));
}

#[tokio::test]
async fn oversized_strings_are_refused_before_use() {
    let w = World::sqlite().await;
    let before = w.state.store.password_hashes();
    let long_email = format!("{}@example.com", "a".repeat(4000));
    let r = call("POST", "/v1/auth/login")
        .body(login(&long_email, PASSWORD))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "email");
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, &"p".repeat(5000)))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "password");
    assert_eq!(w.state.store.password_hashes(), before);
    let long_id = "x".repeat(300);
    let r = call("GET", &format!("{}/credentials/{long_id}", w.base()))
        .token(&w.owner)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Upload fields: refused by name, nothing echoed, nothing stored.
    let before = w
        .state
        .store
        .credentials(&w.org, None, false, &signet_store::PageRequest::default())
        .await
        .unwrap()
        .items
        .len();
    let mut body = keystore_upload("long");
    body["store_password"] = json!("s".repeat(5000));
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .body(body)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "store_password");
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .body(json!({ "type": "t".repeat(5000) }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "type");
    assert!(
        r.text.len() < 1000,
        "the value is not echoed: {} bytes",
        r.text.len()
    );
    let after = w
        .state
        .store
        .credentials(&w.org, None, false, &signet_store::PageRequest::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(before, after);
    let long_cursor = "c".repeat(300);
    let r = call(
        "GET",
        &format!("{}/credentials?cursor={long_cursor}", w.base()),
    )
    .token(&w.owner)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "cursor");
}

// ---------------------------------------------------------------------------------------
// 4. Replacing a secret keeps the previous one.

#[tokio::test]
async fn a_replaced_keystore_stays_restorable_and_exportable() {
    let w = World::sqlite().await;
    let path = format!("{}/credentials/{}", w.base(), w.keystore_a);
    let original = call("GET", &format!("{path}/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await
        .json()["secret"]
        .clone();
    // A developer replaces the keystore.
    let r = call("PUT", &path)
        .token(&w.developer)
        .body(keystore_upload("replacement"))
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call("GET", &format!("{path}/versions"))
        .token(&w.developer)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["version"], 1);
    assert!(
        items[0]["replaced_by"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );
    assert!(!r.text.contains(STORE_PASS), "metadata only");
    // The developer cannot export it; an admin can, and gets the original back.
    let r = call("GET", &format!("{path}/versions/1/secret"))
        .token(&w.developer)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403);
    let r = call("GET", &format!("{path}/versions/1/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["secret"], original);
    // Restore it: live again as version 3, and the replacement is kept in turn.
    let r = call("POST", &format!("{path}/versions/1/restore"))
        .token(&w.admin)
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 412, "a stale If-Match: {}", r.text);
    let r = call("POST", &format!("{path}/versions/1/restore"))
        .token(&w.admin)
        .if_match(2)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["version"], 3);
    let r = call("GET", &format!("{path}/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.json()["secret"], original);
    let r = call("GET", &format!("{path}/versions"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    let versions: Vec<i64> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2]);
}

#[tokio::test]
async fn previous_versions_are_destroyed_after_the_restore_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await.with_limits(signet_store::Limits {
        restore_window: std::time::Duration::from_millis(1),
        ..signet_store::Limits::default()
    });
    let w = World::new(store).await;
    let path = format!("{}/credentials/{}", w.base(), w.keystore_a);
    let r = call("PUT", &path)
        .token(&w.developer)
        .body(keystore_upload("replacement"))
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Past the window, a version is gone before the hourly purge comes.
    let r = call("GET", &format!("{path}/versions/1/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = call("POST", &format!("{path}/versions/1/restore"))
        .token(&w.admin)
        .if_match(2)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    w.state.store.purge_deleted(&actor()).await.unwrap();
    let r = call("GET", &format!("{path}/versions"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.json()["items"], json!([]), "{}", r.text);
    let r = call("GET", &format!("{path}/versions/1/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404);
    let audit = w
        .state
        .store
        .audit_log(&w.org, &signet_store::PageRequest::default())
        .await
        .unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.action == "credential.destroy-version" && a.target == w.keystore_a.as_str()),
        "the destruction is audited"
    );
}

// ---------------------------------------------------------------------------------------
// 8. Every error is problem+json.

#[tokio::test]
async fn every_error_is_problem_json() {
    let w = World::sqlite().await;
    let base = w.base();
    let cases: Vec<(&str, String, u16)> = vec![
        ("GET", format!("{base}/credentials?limit=1&limit=2"), 400),
        (
            "GET",
            format!(
                "{base}/apps/a/build-credentials?platform=android&application_id=a.b&application_id=c.d"
            ),
            400,
        ),
        ("GET", format!("{base}/credentials/%FF"), 400),
        ("PATCH", "/v1/me".to_owned(), 405),
        ("GET", "/v1/nothing-here".to_owned(), 404),
        ("DELETE", "/healthz".to_owned(), 405),
    ];
    for (method, path, status) in cases {
        let r = call(method, &path).token(&w.owner).send(&w.app).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{method} {path}"
        );
        assert_eq!(r.json()["status"], status, "{method} {path}: {}", r.text);
        assert!(!r.text.contains("%FF") && !r.text.contains("limit=2"));
    }
    let r = call("PATCH", "/v1/me").token(&w.owner).send(&w.app).await;
    assert_eq!(r.headers["allow"], "GET,HEAD");
}

// ---------------------------------------------------------------------------------------
// Suspected, confirmed: stale writes, robots.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_build_set_swaps_on_postgres_leave_one_winner() {
    let url = postgres_url().await;
    let store = Store::open(&url, Keyring::generate("k1").unwrap())
        .await
        .unwrap();
    let w = World::new(store).await;
    let set = format!(
        "{}/apps/a/android/com.acme.app/build-sets/release",
        w.base()
    );
    for round in 0..10 {
        let version = call("GET", &format!("{}/apps/a", w.base()))
            .token(&w.developer)
            .send(&w.app)
            .await
            .json()["build_sets"][0]["version"]
            .as_i64()
            .unwrap();
        let writers: Vec<_> = [&w.keystore_a, &w.keystore_b]
            .into_iter()
            .map(|ks| {
                let (app, set, token, ks) =
                    (w.app.clone(), set.clone(), w.developer.clone(), ks.clone());
                tokio::spawn(async move {
                    call("PUT", &set)
                        .token(&token)
                        .body(json!({ "keystore_id": ks }))
                        .if_match(version)
                        .send(&app)
                        .await
                        .status
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for writer in writers {
            statuses.push(writer.await.unwrap());
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
    }
}

#[tokio::test]
async fn build_set_rename_needs_the_current_version() {
    let w = World::sqlite().await;
    let set = format!(
        "{}/apps/a/android/com.acme.app/build-sets/release",
        w.base()
    );
    let r = call("PATCH", &set)
        .token(&w.developer)
        .body(json!({ "name": "renamed" }))
        .if_match(7)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 412, "{}", r.text);
    assert_eq!(r.problem_type(), "stale");
}

#[tokio::test]
async fn robots_expire_name_their_creator_and_cannot_make_robots() {
    let w = World::sqlite().await;
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci-admin", "role": "admin", "expires_in_days": 30 }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let robot = r.json()["token"].as_str().unwrap().to_owned();
    let info = r.json()["robot"].clone();
    let expires = info["expires_at"].as_i64().unwrap();
    let in_30_days = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 30 * 86_400_000;
    assert!((in_30_days - expires).abs() < 60_000, "{info}");
    assert!(
        info["created_by"].as_str().unwrap().starts_with("user:"),
        "{info}"
    );
    // An admin robot cannot make (or list, or revoke) robots.
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&robot)
        .body(json!({ "name": "child", "role": "viewer" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("user's session"), "{}", r.text);
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "bad", "role": "viewer", "expires_in_days": 0 }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "expires_in_days");
}

#[tokio::test]
async fn a_removed_admins_robots_are_revoked() {
    let w = World::sqlite().await;
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci", "role": "developer" }))
        .send(&w.app)
        .await;
    let robot = r.json()["token"].as_str().unwrap().to_owned();
    let r = call("GET", &format!("{}/apps", w.base()))
        .token(&robot)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200);
    let me = call("GET", "/v1/me").token(&w.admin).send(&w.app).await;
    let admin_id = me.json()["user"]["id"].as_str().unwrap().to_owned();
    let r = call("DELETE", &format!("{}/members/{admin_id}", w.base()))
        .token(&w.owner)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call("GET", &format!("{}/apps", w.base()))
        .token(&robot)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 401, "the robot went with its creator");
}

// ---------------------------------------------------------------------------------------
// Found by the review of this change.

#[tokio::test]
async fn anonymous_bodies_are_small() {
    let w = World::sqlite().await;
    let r = call("POST", "/v1/auth/login")
        .body(json!({ "email": "a@example.com", "password": "p".repeat(100 * 1024) }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let r = call("POST", "/v1/setup")
        .body(
            json!({ "setup_token": "x".repeat(20 * 1024), "email": "a@example.com",
                      "password": PASSWORD, "org": "Acme" }),
        )
        .send(&w.app)
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    // Authenticated routes keep the 4 MiB limit: a 100 KiB upload is read (and refused
    // for what it is, not for its size).
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .body(json!({ "type": "fcm-legacy-key", "server_key": "k".repeat(100 * 1024) }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "server_key");
}

#[tokio::test]
async fn one_address_cannot_keep_the_hashers_busy_with_made_up_accounts() {
    let w = World::sqlite().await;
    let before = w.state.store.password_hashes();
    let budget = signet_server::login_limit::PER_CLIENT.attempts;
    for i in 0..budget {
        let r = call("POST", "/v1/auth/login")
            .body(login(&format!("made-up-{i}@example.com"), "some password"))
            .from("198.51.100.77")
            .send(&w.app)
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
    }
    let r = call("POST", "/v1/auth/login")
        .body(login("one-more@example.com", "some password"))
        .from("198.51.100.77")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(
        w.state.store.password_hashes() - before,
        u64::from(budget),
        "passwords checked"
    );
    // The owner, elsewhere, is not affected.
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .from("203.0.113.1")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn a_robots_upload_replaced_by_someone_else_is_no_longer_its_own() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&robot)
        .body(keystore_upload("robot-made"))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    // A user puts other material in it.
    let r = call("PUT", &format!("{}/credentials/{id}", w.base()))
        .token(&w.developer)
        .body(keystore_upload("user-made"))
        .if_match(1)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        "PUT",
        &format!("{}/apps/a/android/com.acme.app/build-sets/mine", w.base()),
    )
    .token(&robot)
    .body(json!({ "keystore_id": id }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn app_slugs_cannot_look_like_app_ids() {
    let w = World::sqlite().await;
    let r = call("POST", &format!("{}/apps", w.base()))
        .token(&w.developer)
        .body(json!({ "slug": w.app_b.id }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "slug");
}

#[tokio::test]
async fn robots_cannot_manage_members() {
    let w = World::sqlite().await;
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "ci-admin", "role": "admin" }))
        .send(&w.app)
        .await;
    let robot = r.json()["token"].as_str().unwrap().to_owned();
    let other = format!("someone-{}@example.com", random_hex());
    w.state
        .store
        .create_user(&actor(), &other, PASSWORD, None)
        .await
        .unwrap();
    let r = call("PUT", &format!("{}/members", w.base()))
        .token(&robot)
        .body(json!({ "email": other, "role": "admin" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("user's session"), "{}", r.text);
    let me = call("GET", "/v1/me").token(&w.developer).send(&w.app).await;
    let developer = me.json()["user"]["id"].as_str().unwrap().to_owned();
    let r = call("DELETE", &format!("{}/members/{developer}", w.base()))
        .token(&robot)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_forwarded_address() {
    let dir = tempfile::tempdir().unwrap();
    let proxy: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    let w = World::behind(sqlite_store(&dir).await, vec![proxy]).await;
    let budget = signet_server::login_limit::PER_ADDRESS.attempts;
    // Guesses through the proxy from one client, which also claims a forged first hop.
    for _ in 0..budget {
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, "wrong password!!"))
            .header("x-forwarded-for", "10.9.9.9, 198.51.100.5")
            .send(&w.app)
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .header("x-forwarded-for", "198.51.100.5")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    // Another client through the same proxy is not the guesser.
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .header("x-forwarded-for", "203.0.113.8")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The audit log says where from.
    let audit = w
        .state
        .store
        .audit_log(&w.org, &signet_store::PageRequest::default())
        .await
        .unwrap();
    let uploads = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .body(keystore_upload("through-proxy"))
        .header("x-forwarded-for", "203.0.113.44")
        .send(&w.app)
        .await;
    assert_eq!(uploads.status, 201, "{}", uploads.text);
    let after = w
        .state
        .store
        .audit_log(&w.org, &signet_store::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(after.items.len(), audit.items.len() + 1);
    assert_eq!(after.items[0].action, "credential.create");
    assert_eq!(after.items[0].ip, "203.0.113.44");
}

#[tokio::test]
async fn forwarded_addresses_from_untrusted_peers_are_ignored() {
    let w = World::sqlite().await;
    let budget = signet_server::login_limit::PER_ADDRESS.attempts;
    for i in 0..budget {
        let r = call("POST", "/v1/auth/login")
            .body(login(&w.owner_email, "wrong password!!"))
            .header("x-forwarded-for", &format!("198.51.100.{i}"))
            .send(&w.app)
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = call("POST", "/v1/auth/login")
        .body(login(&w.owner_email, PASSWORD))
        .header("x-forwarded-for", "203.0.113.99")
        .send(&w.app)
        .await;
    assert_eq!(r.status, 429, "a forged header changes nothing: {}", r.text);
}
