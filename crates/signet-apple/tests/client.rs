//! The App Store Connect client against the simulator: tokens, retries, pages, Apple's
//! errors, and every request body checked by the simulator against Apple's schemas.

use signet_apple::{AscClient, AscError, AscKey, Policy};
use signet_asc_sim::{LIMIT_DETAIL, Sim, SimConfig, new_api_key};

const KEY_ID: &str = "ABC123DEFG";
const ISSUER: &str = "57246542-96fe-1a63-e053-0824d011072a";

fn sim_and_client(policy: Policy) -> (Sim, AscClient, String) {
    let p8 = new_api_key();
    let sim = Sim::start(SimConfig::new(&p8, KEY_ID, ISSUER));
    let key = AscKey::new(p8.as_bytes(), KEY_ID, ISSUER).unwrap();
    let client = AscClient::new(&sim.url(), key, policy).unwrap();
    (sim, client, p8)
}

fn fast() -> Policy {
    Policy {
        backoff: std::time::Duration::from_millis(10),
        ..Policy::default()
    }
}

fn csr() -> String {
    let key = signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::Rsa2048).unwrap();
    signet_formats::generate::csr_pem(&key, "signet", None, Some("US")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_round_trip_with_pages_and_valid_bodies() {
    let (sim, client, _) = sim_and_client(fast());
    assert!(
        client
            .find_bundle_id("com.acme.app")
            .await
            .unwrap()
            .is_none()
    );
    let b = client
        .create_bundle_id("com.acme.app", "Acme")
        .await
        .unwrap();
    // A longer identifier with the same prefix: the filter matches it too, the client
    // keeps the exact one.
    client
        .create_bundle_id("com.acme.app.widget", "Widget")
        .await
        .unwrap();
    let found = client
        .find_bundle_id("com.acme.app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, b.id);
    client
        .enable_capability(&b.id, "PUSH_NOTIFICATIONS")
        .await
        .unwrap();
    let caps = client.capabilities(&b.id).await.unwrap();
    assert_eq!(
        caps[0].attributes.capability_type.as_deref(),
        Some("PUSH_NOTIFICATIONS")
    );

    for (i, udid) in [
        "00008101-000A1B2C3D4E5F60",
        "00008030-001122334455667A",
        "00008030-00112233445566FF",
    ]
    .iter()
    .enumerate()
    {
        client
            .register_device(&format!("phone {i}"), udid, "IOS")
            .await
            .unwrap();
    }
    // Three devices, pages of two: the second page comes through links.next.
    let devices = client.devices().await.unwrap();
    assert_eq!(devices.len(), 3);
    assert!(
        sim.log().iter().any(|l| l.path.contains("cursor=2")),
        "{:?}",
        sim.log()
    );

    let cert = client
        .create_certificate(&csr(), "IOS_DISTRIBUTION")
        .await
        .unwrap();
    assert!(cert.attributes.certificate_content.is_some());
    let ids: Vec<String> = devices.iter().map(|d| d.id.clone()).collect();
    let p = client
        .create_profile(
            "signet adhoc",
            "IOS_APP_ADHOC",
            &b.id,
            std::slice::from_ref(&cert.id),
            &ids,
        )
        .await
        .unwrap();
    assert!(p.attributes.is_active());
    assert_eq!(client.profile_devices(&p.id).await.unwrap().len(), 3);
    assert_eq!(
        client.profile_certificates(&p.id).await.unwrap(),
        vec![cert.id.clone()]
    );
    let listed = client.profiles_of(&b.id).await.unwrap();
    assert_eq!(listed.len(), 1);

    // Revoking the certificate invalidates the profile.
    client.revoke_certificate(&cert.id).await.unwrap();
    assert!(!client.profile(&p.id).await.unwrap().attributes.is_active());
    assert_eq!(sim.schema_failures(), Vec::<String>::new());
    assert_eq!(sim.key_leaks(), Vec::<String>::new());
    assert_eq!(sim.auth_refusals(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_errors_carry_status_code_and_detail() {
    let (sim, client, _) = sim_and_client(fast());
    client
        .create_certificate(&csr(), "IOS_DISTRIBUTION")
        .await
        .unwrap();
    sim.add_foreign_certificate();
    let err = client
        .create_certificate(&csr(), "IOS_DISTRIBUTION")
        .await
        .unwrap_err();
    match &err {
        AscError::Apple { status, errors } => {
            assert_eq!(*status, 409);
            assert_eq!(errors[0].detail, LIMIT_DETAIL);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(LIMIT_DETAIL), "{err}");
    let err = client
        .register_device("bad", "not-a-udid", "IOS")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(
        err.apple_detail().unwrap().contains("Invalid UDID"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_429_and_500_then_gives_up() {
    let (sim, client, _) = sim_and_client(fast());
    sim.inject(&[429, 500]);
    assert!(client.devices().await.unwrap().is_empty());
    let statuses: Vec<u16> = sim.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, vec![429, 500, 200]);

    let (sim, client, _) = sim_and_client(Policy {
        retries: 2,
        ..fast()
    });
    sim.inject(&[503, 503, 503]);
    match client.devices().await.unwrap_err() {
        AscError::Unavailable {
            status: 503,
            attempts: 3,
        } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_re_mints_once_and_tokens_are_cached() {
    let (sim, client, _) = sim_and_client(fast());
    client.devices().await.unwrap();
    client.devices().await.unwrap();
    sim.fail_auth_once();
    client.devices().await.unwrap();
    let statuses: Vec<u16> = sim.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, vec![200, 200, 401, 200]);
    assert_eq!(sim.auth_refusals(), vec!["refused once by the test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_apple_does_not_know_is_refused_after_one_re_mint() {
    let (sim, _, _) = sim_and_client(fast());
    let other = AscKey::new(new_api_key().as_bytes(), KEY_ID, ISSUER).unwrap();
    let client = AscClient::new(&sim.url(), other, fast()).unwrap();
    let err = client.devices().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(
        err.apple_detail().unwrap().contains("signed bearer token"),
        "{err}"
    );
    assert_eq!(
        sim.auth_refusals(),
        vec!["signature does not verify with the key"; 2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_refuses_bad_tokens() {
    let (sim, _, p8) = sim_and_client(fast());
    let key = AscKey::new(p8.as_bytes(), KEY_ID, ISSUER).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let http = reqwest::Client::new();
    let call = |token: String| {
        let http = http.clone();
        let url = format!("{}/v1/devices", sim.url());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(call(key.token(now, 600).unwrap()).await, 200);
    assert_eq!(call(key.token(now - 1300, 1200).unwrap()).await, 401);
    assert_eq!(call(key.token(now, 21 * 60).unwrap()).await, 401);
    // A token for another audience: re-signed claims with aud changed.
    let wrong_aud = forge_aud(&p8, now);
    assert_eq!(call(wrong_aud).await, 401);
    assert_eq!(
        sim.auth_refusals(),
        vec![
            "expired".to_owned(),
            "lifetime 1260 s is over 20 minutes".to_owned(),
            "aud \"appstoreconnect-v2\" is not appstoreconnect-v1".to_owned(),
        ]
    );
}

fn forge_aud(p8: &str, now: i64) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = signet_formats::apple::p8::AuthKey::parse(p8.as_bytes()).unwrap();
    let h = b64.encode(format!(r#"{{"alg":"ES256","kid":"{KEY_ID}","typ":"JWT"}}"#));
    let c = b64.encode(format!(
        r#"{{"iss":"{ISSUER}","iat":{now},"exp":{},"aud":"appstoreconnect-v2"}}"#,
        now + 600
    ));
    let input = format!("{h}.{c}");
    let sig = key.sign_es256(input.as_bytes()).unwrap();
    format!("{input}.{}", b64.encode(sig))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_links_to_another_host_and_too_many_pages_are_refused() {
    let (sim, client, _) = sim_and_client(fast());
    for udid in [
        "00008101-000A1B2C3D4E5F60",
        "00008030-001122334455667A",
        "00008030-00112233445566FF",
    ] {
        sim.add_device(udid, "phone");
    }
    sim.foreign_next_links();
    match client.devices().await.unwrap_err() {
        AscError::ForeignNextLink { host } => assert_eq!(host, "elsewhere.invalid"),
        other => panic!("{other:?}"),
    }
    let (sim, client, _) = sim_and_client(Policy {
        max_pages: 1,
        ..fast()
    });
    for udid in [
        "00008101-000A1B2C3D4E5F60",
        "00008030-001122334455667A",
        "00008030-00112233445566FF",
    ] {
        sim.add_device(udid, "phone");
    }
    match client.devices().await.unwrap_err() {
        AscError::TooManyPages { max: 1, .. } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_off_the_schema_is_refused_and_recorded() {
    let (sim, _, p8) = sim_and_client(fast());
    let key = AscKey::new(p8.as_bytes(), KEY_ID, ISSUER).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/devices", sim.url()))
        .bearer_auth(key.token(now, 600).unwrap())
        .json(&serde_json::json!({"data": {"type": "devices", "attributes": {"name": "x", "udid": "y"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    assert_eq!(
        sim.schema_failures(),
        vec![
            "POST /v1/devices (DeviceCreateRequest): /data/attributes: required property platform is missing"
        ]
    );
    // A private key in a body is recorded.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/certificates", sim.url()))
        .bearer_auth(key.token(now, 600).unwrap())
        .json(&serde_json::json!({"data": {"type": "certificates", "attributes": {"csrContent": p8, "certificateType": "IOS_DISTRIBUTION"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(
        sim.key_leaks(),
        vec!["POST /v1/certificates: a PEM private key"]
    );
}
