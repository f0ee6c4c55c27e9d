//! The JSON of uploads and of the metadata shown, pinned before both became typed (issue
//! 14) and kept since. Bad uploads: an unknown type and a missing required field are
//! `invalid` naming the `field`; an unknown field, a value of the wrong type and a missing
//! `type` are `invalid-body` whose detail names the field. All are 422, none echoes a
//! value, none stores anything. Metadata: every type's keys, and the JSON type of each value.

mod fixtures;
mod world;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use world::*;

async fn count(w: &World) -> usize {
    w.state
        .store
        .credentials(&w.org, None, false, &signet_store::PageRequest::default())
        .await
        .unwrap()
        .items
        .len()
}

/// Posts `body` as a developer; asserts nothing was stored.
async fn post(w: &World, body: Value) -> Response {
    let before = count(w).await;
    let r = call("POST", &format!("{}/credentials", w.base()))
        .token(&w.developer)
        .body(body)
        .send(&w.app)
        .await;
    assert_eq!(count(w).await, before, "nothing stored: {}", r.text);
    r
}

/// A 422 `invalid` problem naming `field`, with its reason.
fn assert_invalid(r: &Response, field: &str, reason: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem_type(), "invalid", "{}", r.text);
    assert_eq!(r.json()["field"], field, "{}", r.text);
    assert_eq!(r.json()["reason"], reason, "{}", r.text);
}

/// A 422 `invalid-body` problem whose detail holds `detail` (and so names the field).
fn assert_body(r: &Response, detail: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem_type(), "invalid-body", "{}", r.text);
    let got = r.json()["detail"].as_str().unwrap_or_default().to_owned();
    assert!(got.contains(detail), "detail {got:?}: {}", r.text);
}

#[tokio::test]
async fn an_unknown_type_is_invalid_naming_type() {
    let w = World::sqlite().await;
    let r = post(&w, json!({ "type": "ios-keystore", "keystore": "AAAA" })).await;
    assert_invalid(
        &r,
        "type",
        "unknown type `ios-keystore`; one of: android-keystore, google-service-account-key, \
         fcm-legacy-key, apple-team, apple-distribution-certificate, apple-provisioning-profile, \
         apple-push-key, asc-api-key",
    );
    // A type that is not a string is the wrong type for `type`.
    let r = post(&w, json!({ "type": 7 })).await;
    assert_body(&r, "`type` has the wrong type or value");
}

#[tokio::test]
async fn a_missing_type_names_type() {
    let w = World::sqlite().await;
    let r = post(&w, json!({ "server_key": "AAAAAAAAAAAAAAAAAAAAAAAAA" })).await;
    assert_body(&r, "missing field `type`");
}

#[tokio::test]
async fn a_missing_required_field_is_invalid_naming_it() {
    let w = World::sqlite().await;
    let cases = [
        (json!({ "type": "android-keystore" }), "keystore"),
        (
            json!({ "type": "android-keystore", "keystore": "AAAA" }),
            "store_password",
        ),
        (json!({ "type": "google-service-account-key" }), "json"),
        (json!({ "type": "fcm-legacy-key" }), "server_key"),
        (
            json!({ "type": "apple-team", "team_name": "Acme" }),
            "team_id",
        ),
        (json!({ "type": "apple-distribution-certificate" }), "p12"),
        (
            json!({ "type": "apple-distribution-certificate", "password": "p" }),
            "p12",
        ),
        (
            json!({ "type": "apple-distribution-certificate", "certificate": "AAAA" }),
            "private_key",
        ),
        (json!({ "type": "apple-provisioning-profile" }), "profile"),
        (json!({ "type": "apple-push-key" }), "p8"),
        (
            json!({ "type": "asc-api-key", "key_id": "ABCDE12345" }),
            "p8",
        ),
    ];
    for (body, field) in cases {
        let r = post(&w, body.clone()).await;
        assert_invalid(&r, field, "required for this type");
    }
}

#[tokio::test]
async fn an_unknown_field_is_refused_naming_it() {
    let w = World::sqlite().await;
    let mut body = keystore_upload("k");
    body["pin"] = json!("a-secret-value");
    let r = post(&w, body).await;
    assert_body(&r, "unknown field `pin`");
    assert!(!r.text.contains("a-secret-value"), "{}", r.text);
}

#[tokio::test]
async fn a_value_of_the_wrong_type_names_the_field() {
    let w = World::sqlite().await;
    let mut body = keystore_upload("k");
    body["store_password"] = json!(["a-secret-value"]);
    let r = post(&w, body).await;
    assert_body(&r, "`store_password` has the wrong type or value");
    assert!(!r.text.contains("a-secret-value"), "{}", r.text);
    let r = post(
        &w,
        json!({ "type": "asc-api-key", "p8": "x", "key_id": "ABCDE12345",
                "issuer_id": "x", "roles": "ADMIN" }),
    )
    .await;
    assert_body(&r, "`roles` has the wrong type or value");
}

/// The shape of a JSON value: its keys with the JSON type of each value, nested.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<serde_json::Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().take(1).map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

#[tokio::test]
async fn every_type_shows_the_same_metadata_json() {
    let w = World::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    let pem = |alg| {
        signet_formats::pem::encode(
            "PRIVATE KEY",
            signet_formats::PrivateKey::generate(alg)
                .unwrap()
                .pkcs8_der(),
        )
    };
    let p8 = pem(signet_formats::KeyAlgorithm::EcP256);
    let service_account = json!({
        "type": "service_account", "project_id": "acme-1", "private_key_id": "abc123",
        "private_key": pem(signet_formats::KeyAlgorithm::Rsa2048),
        "client_email": "ci@acme-1.iam.gserviceaccount.com",
    })
    .to_string();
    let facts = json!({
        "subject": "string", "issuer": "string", "serial": "string",
        "not_before": "string", "not_after": "string", "key_algorithm": "string",
        "key_size": "number", "md5": "string", "sha1": "string", "sha256": "string",
        "base64_sha1": "string",
    });
    let with = |extra: Value| {
        let mut v = facts.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let cases: BTreeMap<&str, (Value, Value)> = BTreeMap::from([
        (
            "android-keystore",
            (
                keystore_upload("k"),
                with(json!({ "keystore_type": "string", "alias": "string",
                             "aliases": ["string"], "is_debug": "bool",
                             "expires_before_play_deadline": "bool" })),
            ),
        ),
        (
            "google-service-account-key",
            (
                json!({ "type": "google-service-account-key", "json": service_account }),
                json!({ "project_id": "string", "client_email": "string",
                        "private_key_id": "string" }),
            ),
        ),
        (
            "fcm-legacy-key",
            (
                json!({ "type": "fcm-legacy-key", "server_key": "AAAAbbbbCCCCddddEEEEffff" }),
                json!({ "first4": "string", "last4": "string" }),
            ),
        ),
        (
            "apple-team",
            (
                json!({ "type": "apple-team", "team_id": "Z9Y8X7W6V5", "team_name": "Other" }),
                json!({ "team_id": "string", "team_name": "string", "team_type": "string" }),
            ),
        ),
        (
            "apple-distribution-certificate",
            (
                json!({ "type": "apple-distribution-certificate",
                        "p12": fixtures::b64(&apple.p12), "password": P12_PASS }),
                with(
                    json!({ "team_id": "string", "kind": "string", "common_name": "string",
                             "portal_id": "null" }),
                ),
            ),
        ),
        (
            "apple-provisioning-profile",
            (
                json!({ "type": "apple-provisioning-profile",
                        "profile": fixtures::b64(&apple.profile) }),
                json!({ "uuid": "string", "name": "string", "team_id": "string",
                        "team_name": "string", "app_id_name": "string",
                        "application_identifier": "string", "bundle_id": "string",
                        "kind": "string", "created": "string", "expires": "string",
                        "devices": [], "provisions_all_devices": "bool",
                        "entitlements": { "application-identifier": "string",
                                          "com.apple.developer.team-identifier": "string",
                                          "get-task-allow": "bool",
                                          "aps-environment": "string" },
                        "certificates": [{ "subject": "string", "sha1": "string",
                                           "sha256": "string", "not_after": "string" }],
                        "apple_signed": "bool" }),
            ),
        ),
        (
            "apple-push-key",
            (
                json!({ "type": "apple-push-key", "p8": p8, "key_id": "ABCDE12345",
                        "team_id": "A1B2C3D4E5" }),
                json!({ "key_id": "string", "team_id": "string", "curve": "string" }),
            ),
        ),
        (
            "asc-api-key",
            (
                json!({ "type": "asc-api-key", "p8": p8, "key_id": "FGHIJ67890",
                        "issuer_id": "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
                        "roles": ["ADMIN"] }),
                json!({ "key_id": "string", "issuer_id": "string", "team_id": "null",
                        "roles": ["string"] }),
            ),
        ),
    ]);
    for (kind, (body, want)) in cases {
        let r = call("POST", &format!("{}/credentials", w.base()))
            .token(&w.developer)
            .body(body)
            .send(&w.app)
            .await;
        assert_eq!(r.status, 201, "{kind}: {}", r.text);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(shape(&r.json()["metadata"]), want, "{kind} as created");
        let r = call("GET", &format!("{}/credentials/{id}", w.base()))
            .token(&w.developer)
            .send(&w.app)
            .await;
        assert_eq!(r.json()["type"], kind);
        assert_eq!(shape(&r.json()["metadata"]), want, "{kind} as read");
    }
}

#[tokio::test]
async fn a_field_given_twice_is_refused_naming_it() {
    let w = World::sqlite().await;
    let good = keystore_upload("k");
    let keystore = good["keystore"].as_str().unwrap().to_owned();
    let store_password = good["store_password"].as_str().unwrap().to_owned();
    // serde_json would keep the last of each: a type switched after the fact, a password
    // that is not the one checked first, a name chosen twice.
    let cases = [
        (
            format!(
                r#"{{"type":"fcm-legacy-key","type":"android-keystore","keystore":"{keystore}","store_password":"{store_password}"}}"#
            ),
            "duplicate field `type`",
        ),
        (
            format!(
                r#"{{"type":"android-keystore","keystore":"{keystore}","store_password":"wrong-first","store_password":"{store_password}"}}"#
            ),
            "duplicate field `store_password`",
        ),
        (
            r#"{"type":"fcm-legacy-key","server_key":"AAAAbcdefghijklmnopqrstuvwxyz","name":"a","name":"b"}"#
                .to_owned(),
            "duplicate field `name`",
        ),
    ];
    for (body, detail) in cases {
        let before = count(&w).await;
        let r = call("POST", &format!("{}/credentials", w.base()))
            .token(&w.developer)
            .raw_body(Some("application/json"), body.into_bytes())
            .send(&w.app)
            .await;
        assert_body(&r, detail);
        assert!(!r.text.contains(&store_password), "{}", r.text);
        assert_eq!(count(&w).await, before, "nothing stored: {}", r.text);
    }
}
