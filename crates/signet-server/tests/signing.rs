//! `POST /v1/orgs/{org}/apps/{app}/sign`: a held key signs the messages artifact signing
//! produces, audits each with the digest it attests, and refuses anything else (each
//! refusal with its exact reason, and all or nothing); who may call it.

mod fixtures;
mod world;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use signet_formats::{Certificate, SignatureScheme};

use world::*;

fn lp(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// A v2 signer's signed data over `digest` (ECDSA SHA-256, chunked SHA-256: the
/// fixtures' keys are P-256) for `cert`.
fn v2_signed_data(cert: &[u8], digest: &[u8; 32]) -> Vec<u8> {
    let mut d = 0x0201u32.to_le_bytes().to_vec();
    d.extend(lp(digest));
    let mut out = lp(&lp(&d));
    out.extend(lp(&lp(cert)));
    out.extend(lp(&[]));
    out
}

/// A JAR signature file whose main section carries `digest` of the manifest.
fn signature_file(digest: &[u8; 32]) -> Vec<u8> {
    format!(
        "Signature-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\nSHA-256-Digest-Manifest: {}\r\nX-Android-APK-Signed: 2, 3\r\n\r\nName: a.txt\r\nSHA-256-Digest: AAAA\r\n\r\n",
        STANDARD.encode(digest)
    )
    .into_bytes()
}

fn message(purpose: &str, bytes: &[u8]) -> Value {
    json!({ "purpose": purpose, "algorithm": "ecdsa-sha256", "message": STANDARD.encode(bytes) })
}

async fn sign(w: &World, token: &str, app: &str, body: Value) -> Response {
    call("POST", &format!("{}/apps/{app}/sign", w.base()))
        .token(token)
        .body(body)
        .send(&w.app)
        .await
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "called with vec![…] literals"
)]
fn apk(messages: Vec<Value>) -> Value {
    json!({ "artifact": "apk", "application_id": "com.acme.app", "messages": messages })
}

async fn signature_records(w: &World) -> Vec<Value> {
    let r = call("GET", &format!("{}/audit?action=sign", w.base()))
        .token(&w.owner)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The detail is stored as JSON text: read it as JSON.
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["detail"] = serde_json::from_str(r["detail"].as_str().unwrap()).unwrap();
            r
        })
        .collect()
}

fn assert_refused(r: &Response, field: &str, reason: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], field, "{}", r.text);
    assert_eq!(r.json()["reason"], reason, "{}", r.text);
}

#[tokio::test]
async fn a_held_key_signs_apk_messages_and_audits_each() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;

    // The signer alone: the keystore's certificate and alias, no signature, no key.
    let r = sign(&w, &robot, "a", apk(Vec::new())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let signer = r.json();
    assert_eq!(signer["signatures"], json!([]));
    assert_eq!(signer["alias"], "a");
    assert_eq!(signer["credential"], w.keystore_a.as_str());
    let der = STANDARD
        .decode(signer["certificates"][0].as_str().unwrap())
        .unwrap();
    let cert = Certificate::from_der(&der).unwrap();
    assert_eq!(
        signer["key_sha256"],
        cert.info().fingerprints.sha256.as_str()
    );
    assert!(
        !r.text.contains("PRIVATE") && !r.text.contains(STORE_PASS) && !r.text.contains(KEY_PASS)
    );

    // A .SF, then v2 signed data: each signature verifies with the certificate.
    let (manifest_digest, content_digest) = ([7u8; 32], [9u8; 32]);
    let sf = signature_file(&manifest_digest);
    let v2 = v2_signed_data(&der, &content_digest);
    let r = sign(
        &w,
        &robot,
        "a",
        apk(vec![
            message("jar-signature-file", &sf),
            message("apk-v2-signed-data", &v2),
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sigs = r.json()["signatures"].as_array().unwrap().clone();
    assert_eq!(sigs.len(), 2);
    for (msg, sig) in [(&sf, &sigs[0]), (&v2, &sigs[1])] {
        let sig = STANDARD.decode(sig.as_str().unwrap()).unwrap();
        assert!(
            cert.verify_with(SignatureScheme::EcdsaSha256, msg, &sig)
                .unwrap()
        );
    }

    // One audit record per signature: who, the key, the digest each message attests.
    let records = signature_records(&w).await;
    assert_eq!(records.len(), 2, "{records:?}");
    let by = |purpose: &str| {
        records
            .iter()
            .find(|r| r["detail"]["purpose"] == purpose)
            .unwrap_or_else(|| panic!("no {purpose} record in {records:?}"))
    };
    let jar = by("jar-signature-file");
    // A .SF is recorded by its own digest: what the signature binds.
    let sf_digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &sf);
    let hex: String = sf_digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(jar["detail"]["digest"], hex.as_str());
    assert_eq!(
        jar["detail"]["digest_algorithm"],
        "sha256-of-signature-file"
    );
    let v2 = by("apk-v2-signed-data");
    assert_eq!(v2["detail"]["digest"], "09".repeat(32));
    assert_eq!(v2["detail"]["digest_algorithm"], "sha256-chunked");
    for r in [jar, v2] {
        assert_eq!(r["action"], "sign");
        assert_eq!(r["target"], w.keystore_a.as_str());
        assert_eq!(r["detail"]["key_sha256"], signer["key_sha256"]);
        assert_eq!(r["detail"]["app"], "a");
        assert_eq!(r["detail"]["build_set"], "release");
        assert_eq!(r["detail"]["artifact"], "apk");
        assert!(r["actor"].as_str().unwrap().starts_with("robot:"), "{r}");
    }
}

#[tokio::test]
async fn a_held_key_refuses_what_artifact_signing_does_not_produce() {
    let w = World::sqlite().await;
    let r = sign(&w, &w.developer, "a", apk(Vec::new())).await;
    let der = STANDARD
        .decode(r.json()["certificates"][0].as_str().unwrap())
        .unwrap();
    let good_sf = signature_file(&[1; 32]);

    // Bytes that are no signed data.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("apk-v2-signed-data", b"\x01\x02junk")]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: the APK signed data is malformed",
    );
    // Signed data naming another certificate than the key's.
    let other = Certificate::from_der(
        &STANDARD
            .decode(
                sign(&w, &w.developer, "b", apk(Vec::new())).await.json()["certificates"][0]
                    .as_str()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    let forged = v2_signed_data(other.der(), &[3; 32]);
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("apk-v3-signed-data", &forged)]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: the APK signed data is malformed",
    );
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("apk-v2-signed-data", &forged)]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: the signed data names another certificate than the held key's",
    );
    // A certificate's to-be-signed part (DER), or a JWT's header and claims, offered as
    // a .SF: not a JAR signature file.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("jar-signature-file", &der[4..])]),
    )
    .await;
    assert_refused(&r, "messages[0]", "refused to sign: a .SF file is UTF-8");
    let jwt = b"eyJhbGciOiJFUzI1NiIsImtpZCI6IksifQ.eyJpc3MiOiJUIiwiaWF0IjoxfQ";
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("jar-signature-file", jwt)]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: not a JAR signature file (no Signature-Version: 1.0)",
    );
    // A .SF without the whole manifest's digest.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message(
            "jar-signature-file",
            b"Signature-Version: 1.0\r\nCreated-By: x\r\n\r\n",
        )]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: the .SF file has no digest of the whole manifest",
    );
    // Messages of another artifact's signing, or of a kind held keys do not sign.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("cms-signed-attributes", &[0x31, 0])]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "cms-signed-attributes is not part of signing an apk",
    );
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("lineage-node", &der)]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "lineage-node is not part of signing an apk",
    );
    let aab = json!({ "artifact": "aab", "application_id": "com.acme.app",
                      "messages": [message("apk-v2-signed-data", &v2_signed_data(&der, &[1; 32]))] });
    let r = sign(&w, &w.developer, "a", aab).await;
    assert_refused(
        &r,
        "messages[0]",
        "apk-v2-signed-data is not part of signing an aab",
    );
    // Not base64; too many messages; a scheme that does not fit the key.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![json!({ "purpose": "jar-signature-file", "algorithm": "ecdsa-sha256", "message": "%%%" })]),
    )
    .await;
    assert_refused(&r, "messages[0]", "the message is not base64");
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("jar-signature-file", &good_sf); 9]),
    )
    .await;
    assert_refused(&r, "messages", "at most 8 messages per request");
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![json!({ "purpose": "jar-signature-file", "algorithm": "rsa-pkcs1-sha256", "message": STANDARD.encode(&good_sf) })]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "rsa-pkcs1-sha256 does not fit the held key (EC 256)",
    );
    // The wrong build for the artifact.
    let r = sign(
        &w,
        &w.developer,
        "a",
        json!({ "artifact": "ipa", "application_id": "com.acme.app" }),
    )
    .await;
    assert_refused(
        &r,
        "application_id",
        "an IPA is signed with a build pair: give bundle_id and distribution",
    );
    let r = sign(
        &w,
        &w.developer,
        "a",
        json!({ "artifact": "ipa", "bundle_id": "com.acme.app", "distribution": "app-store" }),
    )
    .await;
    assert_eq!(r.status, 404, "no pair: {}", r.text);
    let r = sign(&w, &w.developer, "a", json!({ "artifact": "apk" })).await;
    assert_refused(&r, "application_id", "required to sign an apk");

    // All or nothing: a good .SF beside a bad message is not signed, and nothing is
    // audited for any of the refusals.
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![
            message("jar-signature-file", &good_sf),
            message("apk-v2-signed-data", b"junk"),
        ]),
    )
    .await;
    assert_refused(
        &r,
        "messages[1]",
        "refused to sign: the APK signed data is malformed",
    );
    assert_eq!(signature_records(&w).await, Vec::<Value>::new());
}

#[tokio::test]
async fn only_the_apps_robots_and_developers_sign() {
    let w = World::sqlite().await;
    let robot_a = w.robot_for_a().await;
    // A robot of app a cannot sign with app b's key.
    let r = sign(&w, &robot_a, "b", apk(Vec::new())).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), "forbidden");
    // A viewer robot cannot sign at all.
    let r = call("POST", &format!("{}/robots", w.base()))
        .token(&w.admin)
        .body(json!({ "name": "look", "role": "viewer" }))
        .send(&w.app)
        .await;
    let viewer = r.json()["token"].as_str().unwrap().to_owned();
    let r = sign(&w, &viewer, "a", apk(Vec::new())).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        r.json()["detail"],
        "this needs the developer role or higher; you are viewer"
    );
    // Anonymous: 401.
    let r = call("POST", &format!("{}/apps/a/sign", w.base()))
        .body(apk(Vec::new()))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // In parallel, every signature is audited once.
    let sf = signature_file(&[5; 32]);
    let calls = (0..8).map(|_| {
        sign(
            &w,
            &robot_a,
            "a",
            apk(vec![message("jar-signature-file", &sf)]),
        )
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(signature_records(&w).await.len(), 8);
}

#[tokio::test]
async fn a_large_archives_signature_file_fits_the_sign_route() {
    let w = World::sqlite().await;
    // A .SF of some 60,000 entries (6 MiB) is over the API's 4 MiB but within the sign
    // route's limit: it reaches the check (no manifest digest here), not a 413.
    let mut sf = String::from("Signature-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n");
    while sf.len() < 6 * 1024 * 1024 {
        sf.push_str("Name: res/raw/an-entry-of-a-large-bundle.bin\r\nSHA-256-Digest: AAAA\r\n\r\n");
    }
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("jar-signature-file", sf.as_bytes())]),
    )
    .await;
    assert_refused(
        &r,
        "messages[0]",
        "refused to sign: the .SF file has no digest of the whole manifest",
    );
    // Beyond 32 MiB: 413.
    let huge = vec![b'a'; 33 * 1024 * 1024];
    let r = sign(
        &w,
        &w.developer,
        "a",
        apk(vec![message("jar-signature-file", &huge)]),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.text);
}

#[tokio::test]
async fn a_keystore_made_on_the_server_is_not_fetched_below_admin() {
    let w = World::sqlite().await;
    let robot = w.robot_for_a().await;
    let r = call("POST", &format!("{}/credentials/generate", w.base()))
        .token(&w.developer)
        .body(json!({}))
        .send(&w.app)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let held = r.json()["id"].as_str().unwrap().to_owned();
    let r = call(
        "PUT",
        &format!(
            "{}/apps/a/android/com.acme.held/build-sets/release",
            w.base()
        ),
    )
    .token(&w.developer)
    .body(json!({ "keystore_id": held }))
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let fetch = format!(
        "{}/apps/a/build-credentials?platform=android&application_id=com.acme.held",
        w.base()
    );
    for token in [&w.developer, &robot] {
        let r = call("GET", &fetch).token(token).send(&w.app).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(
            r.json()["detail"],
            "this build set's keystore was made on the server and does not leave it below the \
             admin role: sign with `signet apk sign --app` (the server signs; the key stays), or \
             have an admin export it"
        );
    }
    // The robot signs with it instead; an admin may still fetch it.
    let body = json!({ "artifact": "apk", "application_id": "com.acme.held" });
    let r = sign(&w, &robot, "a", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call("GET", &fetch).token(&w.admin).send(&w.app).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An uploaded keystore (the world's) is fetched by developers as before.
    let r = call(
        "GET",
        &format!(
            "{}/apps/a/build-credentials?platform=android&application_id=com.acme.app",
            w.base()
        ),
    )
    .token(&robot)
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
