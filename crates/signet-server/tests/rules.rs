//! Every rule of the current state the store enforces (`signet_store::Rule`), through the
//! API: each refusal is a 409 whose problem `type` names the rule, and changes nothing.

mod fixtures;
mod world;

use serde_json::json;
use signet_store::Scope;

use fixtures::sqlite_store;
use world::*;

/// The problem type's last segment of a response.
fn rule_of(r: &Response) -> String {
    assert_eq!(r.status, 409, "{}", r.text);
    r.problem_type()
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_step_down() {
    let w = World::sqlite().await;
    let me = call("GET", "/v1/me").token(&w.owner).send(&w.app).await;
    let owner_id = me.json()["user"]["id"].as_str().unwrap().to_owned();
    let r = call("DELETE", &format!("{}/members/{owner_id}", w.base()))
        .token(&w.owner)
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "last-owner");
    let r = call("PUT", &format!("{}/members", w.base()))
        .token(&w.owner)
        .body(json!({ "email": w.owner_email, "role": "admin" }))
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "last-owner");
    let members = call("GET", &format!("{}/members", w.base()))
        .token(&w.owner)
        .send(&w.app)
        .await;
    assert!(
        members.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == owner_id.as_str() && m["role"] == "owner"),
        "still the owner: {}",
        members.text
    );
}

#[tokio::test]
async fn the_default_build_set_goes_last() {
    let w = World::sqlite().await;
    let sets = format!("{}/apps/a/android/com.acme.app/build-sets", w.base());
    let r = call("PUT", &format!("{sets}/second"))
        .token(&w.developer)
        .body(json!({ "keystore_id": w.keystore_a }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call("DELETE", &format!("{sets}/release"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "default-build-set");
    // Alone, it may go.
    let r = call("DELETE", &format!("{sets}/second"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call("DELETE", &format!("{sets}/release"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn a_build_never_gets_a_deleted_keystore_or_certificate() {
    let w = World::sqlite().await;
    let r = call(
        "DELETE",
        &format!("{}/credentials/{}", w.base(), w.keystore_a),
    )
    .token(&w.admin)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fetch = format!(
        "{}/apps/a/build-credentials?platform=android&application_id=com.acme.app",
        w.base()
    );
    let r = call("GET", &fetch).token(&w.developer).send(&w.app).await;
    assert_eq!(rule_of(&r), "deleted-credential");
    assert!(r.text.contains("build set `release`"), "{}", r.text);
    // iOS: the pair's certificate deleted.
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
        &w.app_a,
        "com.acme.app",
        "app-store",
        &cert.clone().into(),
        &profile.clone().into(),
        None,
        &Scope::Org,
    )
    .await
    .unwrap();
    let r = call("DELETE", &format!("{}/credentials/{cert}", w.base()))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        "GET",
        &format!(
            "{}/apps/a/build-credentials?platform=ios&bundle_id=com.acme.app&distribution=app-store",
            w.base()
        ),
    )
    .token(&w.developer)
    .send(&w.app)
    .await;
    assert_eq!(rule_of(&r), "deleted-credential");
    assert!(r.text.contains(cert.as_str()), "{}", r.text);
}

#[tokio::test]
async fn only_a_deleted_credential_is_restored() {
    let w = World::sqlite().await;
    let r = call(
        "POST",
        &format!("{}/credentials/{}/restore", w.base(), w.keystore_a),
    )
    .token(&w.admin)
    .send(&w.app)
    .await;
    assert_eq!(rule_of(&r), "not-deleted");
}

#[tokio::test]
async fn restore_ends_with_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await.with_limits(signet_store::Limits {
        restore_window: std::time::Duration::from_millis(1),
        ..signet_store::Limits::default()
    });
    let w = World::new(store).await;
    let path = format!("{}/credentials/{}", w.base(), w.keystore_b);
    let r = call("DELETE", &path).token(&w.admin).send(&w.app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = call("POST", &format!("{path}/restore"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "restore-window-passed");
    assert!(r.text.contains("0 days"), "{}", r.text);
}

/// The audit actions recorded in the world's organization.
async fn actions(w: &World) -> Vec<String> {
    let page = w
        .state
        .store
        .audit_log(&w.org, &signet_store::PageRequest::default())
        .await
        .unwrap();
    page.items.into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn no_provider_token_from_a_deleted_push_key() {
    let w = World::sqlite().await;
    let s = &w.state.store;
    let key = upload(
        s,
        &w.org,
        json!({ "type": "apple-push-key",
                "p8": fixtures::private_key_pem(signet_formats::KeyAlgorithm::EcP256),
                "key_id": "ABC123DEFG", "team_id": "A1B2C3D4E5" }),
    )
    .await;
    s.set_link(
        &actor(),
        &w.org,
        &w.app_a,
        "ios",
        "com.acme.app",
        "push-key",
        &key.clone().into(),
        &Scope::Org,
    )
    .await
    .unwrap();
    let token = format!("{}/apps/a/apns-token", w.base());
    let r = call("POST", &token)
        .token(&w.developer)
        .body(json!({}))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call("DELETE", &format!("{}/credentials/{key}", w.base()))
        .token(&w.admin)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = actions(&w).await;
    let r = call("POST", &token)
        .token(&w.developer)
        .body(json!({}))
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "deleted-credential");
    assert!(r.text.contains(key.as_str()), "{}", r.text);
    // Not served from the cache, and nothing audited.
    assert!(!r.text.contains("\"token\""), "{}", r.text);
    assert_eq!(actions(&w).await, before);
}

#[tokio::test]
async fn a_certificate_request_is_completed_once() {
    let w = World::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    fixtures::apple(dir.path());
    let r = call("POST", &format!("{}/certificate-requests", w.base()))
        .token(&w.developer)
        .body(json!({ "common_name": "CI" }))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = r.json();
    let id = request["id"].as_str().unwrap().to_owned();
    let cer = fixtures::apple_cer_for_csr(
        dir.path(),
        request["csr_pem"].as_str().unwrap(),
        "Z9Y8X7W6V5",
    );
    let complete = format!("{}/certificate-requests/{id}/certificate", w.base());
    let body = json!({ "certificate": fixtures::b64(&cer) });
    let r = call("POST", &complete)
        .token(&w.developer)
        .body(body.clone())
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let first = r.json()["id"].as_str().unwrap().to_owned();
    let before = actions(&w).await;
    let r = call("POST", &complete)
        .token(&w.developer)
        .body(body)
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "request-completed");
    assert!(
        r.text.contains(&format!("(credential {first})")),
        "{}",
        r.text
    );
    assert_eq!(actions(&w).await, before);
}

#[tokio::test]
async fn play_app_signing_is_opted_in_to_once() {
    let w = World::sqlite().await;
    let path = format!("{}/apps/a/android/com.acme.app/play-app-signing", w.base());
    let r = call("POST", &path)
        .token(&w.admin)
        .body(json!({}))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let before = actions(&w).await;
    let sets = w
        .state
        .store
        .app_credentials(&w.org, &w.app_a)
        .await
        .unwrap()
        .build_sets;
    let r = call("POST", &path)
        .token(&w.admin)
        .body(json!({ "build_set": "upload-2" }))
        .send(&w.app)
        .await;
    assert_eq!(rule_of(&r), "play-app-signing-done");
    assert!(
        r.text
            .contains(&format!("Google holds keystore {}", w.keystore_a)),
        "{}",
        r.text
    );
    // Nothing changed: no key generated, the same build sets, nothing audited.
    assert_eq!(actions(&w).await, before);
    let after = w
        .state
        .store
        .app_credentials(&w.org, &w.app_a)
        .await
        .unwrap()
        .build_sets;
    assert_eq!(format!("{after:?}"), format!("{sets:?}"));
}
