//! Every method of the client against the real server (signet-server's router on a TCP
//! port, in process, on SQLite and on PostgreSQL): each answer is read back as its type,
//! every credential type's metadata and secret included, and refusals arrive as the
//! problems the server sent.

#[path = "../../signet-server/tests/fixtures/mod.rs"]
mod fixtures;

use std::sync::Arc;

use signet_client::{
    BuildCredentials, BuildQuery, Client, ClientError, CredentialFilter, KeystoreSpec, Kind, Me,
    Metadata, NewRobot, PageRequest, Role, SecretMaterial, SecretString, Upload,
};
use signet_formats::KeyAlgorithm;
use signet_server::AppState;
use signet_store::{
    SetupToken, Store,
    validate::{
        AppleTeamUpload, AscKeyUpload, CertificateUpload, FcmKeyUpload, KeystoreUpload,
        ProfileUpload, PushKeyUpload, ServiceAccountUpload,
    },
};

const STORE_PASS: &str = "store-pass-1";
const KEY_PASS: &str = "key-pass-2";
const PASSWORD: &str = "correct horse battery";

/// Serves `store` on a free port until the returned sender is dropped.
async fn serve(store: Store) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = Arc::new(AppState::new(store, None));
    tokio::spawn(signet_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

fn keystore_upload(bytes: &[u8], name: &str) -> Upload {
    Upload::AndroidKeystore(KeystoreUpload {
        name: Some(name.into()),
        keystore: SecretString::new(fixtures::b64(bytes)),
        store_password: SecretString::new(STORE_PASS),
        key_alias: Some("upload".into()),
        key_password: Some(SecretString::new(KEY_PASS)),
    })
}

#[allow(clippy::too_many_lines)]
async fn round_trip(store: Store) {
    let token = match store.issue_setup_token(None).await.unwrap() {
        SetupToken::Issued(t) => SecretString::new(t.as_str()),
        other => panic!("a new database issues a setup token, not {other:?}"),
    };
    let dev_email = "dev@acme.test";
    store
        .create_user(
            &signet_store::Actor::system("test"),
            dev_email,
            PASSWORD,
            None,
        )
        .await
        .unwrap();
    let (url, _stop) = serve(store).await;
    let anonymous = Client::new(&url).unwrap();
    anonymous.health().await.unwrap();

    // Setup is closed: a user exists. The refusal is the server's problem.
    let err = anonymous
        .setup(
            &token,
            "owner@acme.test",
            &SecretString::new(PASSWORD),
            "Acme",
        )
        .await
        .unwrap_err();
    let problem = err.problem().expect("a problem");
    assert_eq!(
        (problem.status, problem.kind.as_str()),
        (410, "setup-closed")
    );
    let err = anonymous
        .login(dev_email, &SecretString::new("wrong password"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.to_string(), "wrong e-mail or password");

    let logged = anonymous
        .login(dev_email, &SecretString::new(PASSWORD))
        .await
        .unwrap();
    assert!(logged.token.expose().starts_with("sgu_"));
    let me = anonymous.clone().with_token(logged.token.clone());
    let org = me.create_org("Acme").await.unwrap();
    assert_eq!(org.role, Some(Role::Owner));
    let Me::User { user, orgs, .. } = me.me().await.unwrap() else {
        panic!("a user's session")
    };
    assert_eq!((user.email.as_str(), orgs.len()), (dev_email, 1));
    let details = me.org(&org.id).await.unwrap();
    assert_eq!(details.role, Role::Owner);
    assert_eq!(details.limits.push_keys_per_apple_team, 2);

    // Every credential type, uploaded and read back by its type.
    let dir = tempfile::tempdir().unwrap();
    let apple = fixtures::apple(dir.path());
    let ks = fixtures::keystore("upload", STORE_PASS, KEY_PASS);
    let uploads = [
        keystore_upload(&ks, "release"),
        Upload::GoogleServiceAccountKey(ServiceAccountUpload {
            name: None,
            json: SecretString::new(fixtures::service_account_json("acme", "k1")),
        }),
        Upload::FcmLegacyKey(FcmKeyUpload {
            name: None,
            server_key: SecretString::new("AAAAexample:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"),
        }),
        Upload::AppleTeam(AppleTeamUpload {
            name: None,
            team_id: "A1B2C3D4E5".into(),
            team_name: Some("Acme Inc".into()),
            team_type: None,
        }),
        Upload::AppleDistributionCertificate(CertificateUpload {
            name: None,
            p12: Some(SecretString::new(fixtures::b64(&apple.p12))),
            password: Some(SecretString::new("p12-pass")),
            private_key: None,
            certificate: None,
            team_id: None,
        }),
        Upload::AppleProvisioningProfile(ProfileUpload {
            name: None,
            profile: fixtures::b64(&apple.profile),
            bundle_id: None,
            team_id: None,
        }),
        Upload::ApplePushKey(PushKeyUpload {
            name: None,
            p8: SecretString::new(fixtures::private_key_pem(KeyAlgorithm::EcP256)),
            key_id: "ABCDE12345".into(),
            team_id: "A1B2C3D4E5".into(),
        }),
        Upload::AscApiKey(AscKeyUpload {
            name: Some("ci".into()),
            p8: SecretString::new(fixtures::private_key_pem(KeyAlgorithm::EcP256)),
            key_id: "ZYXWV98765".into(),
            issuer_id: "57246542-96fe-1a63-e053-0824d011072a".into(),
            team_id: None,
            roles: vec!["ADMIN".into()],
        }),
    ];
    let mut stored = Vec::new();
    for upload in &uploads {
        let c = me.upload(&org.id, upload).await.unwrap();
        assert_eq!(c.metadata.kind(), c.kind);
        stored.push(c);
    }
    let kinds: Vec<Kind> = stored.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::AndroidKeystore,
            Kind::GoogleServiceAccountKey,
            Kind::FcmLegacyKey,
            Kind::AppleTeam,
            Kind::AppleDistributionCertificate,
            Kind::AppleProvisioningProfile,
            Kind::ApplePushKey,
            Kind::AscApiKey,
        ]
    );
    let Metadata::AndroidKeystore(k) = &stored[0].metadata else {
        panic!("keystore metadata")
    };
    assert_eq!(k.certificate.subject, "CN=Acme Upload, O=Acme, C=US");
    for c in &stored {
        let export = me.export(&org.id, &c.id).await.unwrap();
        assert_eq!(export.credential.id, c.id);
        let matches = matches!(
            (c.kind, &export.secret),
            (Kind::AndroidKeystore, SecretMaterial::AndroidKeystore(_))
                | (
                    Kind::GoogleServiceAccountKey,
                    SecretMaterial::GoogleServiceAccountKey { .. }
                )
                | (Kind::FcmLegacyKey, SecretMaterial::FcmLegacyKey { .. })
                | (Kind::AppleTeam, SecretMaterial::AppleTeam)
                | (
                    Kind::AppleDistributionCertificate,
                    SecretMaterial::AppleDistributionCertificate(_)
                )
                | (
                    Kind::AppleProvisioningProfile,
                    SecretMaterial::AppleProvisioningProfile { .. }
                )
                | (Kind::ApplePushKey, SecretMaterial::ApplePushKey { .. })
                | (Kind::AscApiKey, SecretMaterial::AscApiKey { .. })
        );
        assert!(matches, "{:?} exported as {:?}", c.kind, export.secret);
    }
    let SecretMaterial::AndroidKeystore(secret) =
        me.export(&org.id, &stored[0].id).await.unwrap().secret
    else {
        panic!("a keystore")
    };
    assert_eq!(secret.keystore.expose(), ks.as_slice());
    assert_eq!(secret.store_password.expose(), STORE_PASS);

    // Lists, filters and pages.
    let all = me
        .all(async |p: PageRequest| {
            me.credentials(&org.id, CredentialFilter::default(), &p)
                .await
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 8);
    let page = me
        .credentials(
            &org.id,
            CredentialFilter {
                kind: Some(Kind::AndroidKeystore),
                deleted: false,
            },
            &PageRequest {
                cursor: None,
                limit: Some(1),
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.next_cursor), (1, None));

    // Versions: rename and replace under If-Match; a stale version is 412 `stale`.
    let c = me.credential(&org.id, &stored[0].id).await.unwrap();
    let renamed = me
        .rename(&org.id, &c.id, c.version, "upload key")
        .await
        .unwrap();
    assert_eq!(renamed.name, "upload key");
    let err = me
        .rename(&org.id, &c.id, c.version, "again")
        .await
        .unwrap_err();
    assert_eq!(
        err.problem().map(|p| (p.status, p.kind.as_str())),
        Some((412, "stale"))
    );
    let ks2 = fixtures::keystore("upload", STORE_PASS, KEY_PASS);
    let replaced = me
        .replace(
            &org.id,
            &c.id,
            renamed.version,
            &keystore_upload(&ks2, "upload key"),
        )
        .await
        .unwrap();
    assert!(replaced.version > renamed.version);
    let versions = me.versions(&org.id, &c.id).await.unwrap();
    assert_eq!(versions.len(), 1);

    // Apps, build sets, pairs, slots and the CI fetch.
    let app = me.create_app(&org.id, "acme-app").await.unwrap();
    let apps = me.apps(&org.id, &PageRequest::default()).await.unwrap();
    assert_eq!(apps.items[0].id, app.id);
    let set = me
        .put_build_set(
            &org.id,
            "acme-app",
            "com.acme.app",
            "release",
            &c.id,
            true,
            None,
        )
        .await
        .unwrap();
    assert!(set.is_default);
    let set = me
        .rename_build_set(
            &org.id,
            "acme-app",
            "com.acme.app",
            "release",
            "upload",
            set.version,
        )
        .await
        .unwrap();
    assert_eq!(set.name, "upload");
    let set = me
        .make_default(&org.id, "acme-app", "com.acme.app", "upload")
        .await
        .unwrap();
    assert!(set.is_default);
    let pair = me
        .put_build_pair(
            &org.id,
            app.id.as_str(),
            "com.acme.app",
            "app-store",
            &stored[4].id,
            &stored[5].id,
            None,
        )
        .await
        .unwrap();
    assert_eq!(pair.distribution, "app-store");
    let link = me
        .set_slot(
            &org.id,
            "acme-app",
            "ios",
            "com.acme.app",
            "push-key",
            &stored[6].id,
        )
        .await
        .unwrap();
    assert_eq!(link.slot, "push-key");
    let details = me.app(&org.id, "acme-app").await.unwrap();
    assert_eq!(
        (
            details.build_sets.len(),
            details.build_pairs.len(),
            details.links.len()
        ),
        (1, 1, 1)
    );
    match me
        .build_credentials(
            &org.id,
            "acme-app",
            &BuildQuery::Android {
                application_id: "com.acme.app".into(),
                name: None,
            },
        )
        .await
        .unwrap()
    {
        BuildCredentials::Android { keystore, .. } => {
            assert_eq!(keystore.keystore.expose(), ks2.as_slice());
            assert_eq!(keystore.key_password.expose(), KEY_PASS);
        }
        other @ BuildCredentials::Ios { .. } => panic!("android credentials, not {other:?}"),
    }
    match me
        .build_credentials(
            &org.id,
            "acme-app",
            &BuildQuery::Ios {
                bundle_id: "com.acme.app".into(),
                distribution: "app-store".into(),
            },
        )
        .await
        .unwrap()
    {
        BuildCredentials::Ios {
            distribution_certificate,
            provisioning_profile,
            ..
        } => {
            assert_eq!(distribution_certificate.p12.expose(), apple.p12.as_slice());
            assert_eq!(
                provisioning_profile.profile.expose(),
                apple.profile.as_slice()
            );
        }
        other @ BuildCredentials::Android { .. } => panic!("ios credentials, not {other:?}"),
    }

    // APNs provider tokens from the push key in the slot: cached, then fresh.
    let token = me
        .apns_token(&org.id, "acme-app", None, false)
        .await
        .unwrap();
    assert_eq!(
        (token.bundle_id.as_str(), &token.push_key_id, token.cached),
        ("com.acme.app", &stored[6].id, false)
    );
    assert_eq!(token.expires_at - token.issued_at, 3600);
    let again = me
        .apns_token(&org.id, "acme-app", Some("com.acme.app"), false)
        .await
        .unwrap();
    assert!(again.cached);
    assert_eq!(again.token.expose(), token.token.expose());
    let fresh = me
        .apns_token(&org.id, "acme-app", None, true)
        .await
        .unwrap();
    assert!(!fresh.cached);
    assert_ne!(fresh.token.expose(), token.token.expose());
    let err = me
        .apns_token(&org.id, "acme-app", Some("com.acme.none"), false)
        .await
        .unwrap_err();
    assert_eq!(
        err.problem().map(|p| (p.status, p.field.clone())),
        Some((422, Some("bundle_id".into())))
    );

    // Play App Signing: the default's keystore marked, a new upload key the default.
    let opted = me
        .opt_in_play_app_signing(&org.id, "acme-app", "com.acme.app", Some("play-upload"))
        .await
        .unwrap();
    assert_eq!(opted.play_app_signing.app_signing_keystore_id, c.id);
    assert_eq!(
        (opted.build_set.name.as_str(), opted.build_set.is_default),
        ("play-upload", true)
    );
    assert!(
        opted
            .upload_certificate_pem
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    let details = me.app(&org.id, "acme-app").await.unwrap();
    assert_eq!(
        details.play_app_signing,
        vec![opted.play_app_signing.clone()]
    );
    let err = me
        .opt_in_play_app_signing(&org.id, "acme-app", "com.acme.app", None)
        .await
        .unwrap_err();
    assert_eq!(
        err.problem().map(|p| (p.status, p.kind.as_str())),
        Some((409, "play-app-signing-done"))
    );

    // Impact, delete (soft), the deleted list, restore, expiring.
    let impact = me.impact(&org.id, &stored[6].id).await.unwrap();
    assert_eq!(impact.used_by.len(), 1, "{impact:?}");
    me.remove_slot(&org.id, "acme-app", "ios", "com.acme.app", "push-key")
        .await
        .unwrap();
    let deleted = me.delete_credential(&org.id, &stored[6].id).await.unwrap();
    assert_eq!(deleted.deleted, stored[6].id);
    let gone = me
        .credentials(
            &org.id,
            CredentialFilter {
                kind: None,
                deleted: true,
            },
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(gone.items.len(), 1);
    assert!(gone.items[0].deleted_at.is_some());
    me.restore(&org.id, &stored[6].id).await.unwrap();
    let soon = me
        .expiring(&org.id, 3650 * 2, &PageRequest::default())
        .await
        .err();
    assert_eq!(
        soon.and_then(|e| e.problem().map(|p| p.field.clone())),
        Some(Some("days".into()))
    );
    let soon = me
        .expiring(&org.id, 3650, &PageRequest::default())
        .await
        .unwrap();
    assert!(!soon.items.is_empty());
    me.delete_build_pair(&org.id, "acme-app", "com.acme.app", "app-store")
        .await
        .unwrap();

    // Keys made on the server: a keystore generated there (metadata only in the answer,
    // the key in the admin's export), an Apple certificate request and its completion.
    let generated = me
        .generate_keystore(
            &org.id,
            &KeystoreSpec {
                name: Some("generated".into()),
                dname: Some("CN=Acme Generated, O=Acme".into()),
                ..KeystoreSpec::default()
            },
        )
        .await
        .unwrap();
    let Metadata::AndroidKeystore(m) = &generated.metadata else {
        panic!("a keystore's metadata: {generated:?}")
    };
    assert_eq!(
        (
            m.certificate.subject.as_str(),
            m.certificate.key_size,
            generated.name.as_str()
        ),
        ("CN=Acme Generated, O=Acme", 2048, "generated")
    );
    let err = me
        .generate_keystore(
            &org.id,
            &KeystoreSpec {
                key_alg: Some("dsa".into()),
                ..KeystoreSpec::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.problem().map(|p| (p.status, p.field.clone())),
        Some((422, Some("key_alg".into())))
    );
    let request = me
        .create_certificate_request(&org.id, "Acme CI", Some("ci@acme.test"))
        .await
        .unwrap();
    assert!(
        request
            .csr_pem
            .starts_with("-----BEGIN CERTIFICATE REQUEST-----")
    );
    assert_eq!(request.completed_at, None);
    let listed = me
        .certificate_requests(&org.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, vec![request.clone()]);
    assert_eq!(
        me.certificate_request(&org.id, &request.id).await.unwrap(),
        request
    );
    let other_key = std::fs::read_to_string(dir.path().join("dist.csr")).unwrap();
    let wrong = fixtures::apple_cer_for_csr(dir.path(), &other_key, "Z9Y8X7W6V5");
    let err = me
        .complete_certificate_request(&org.id, &request.id, &wrong, None)
        .await
        .unwrap_err();
    let problem = err.problem().expect("a problem");
    assert_eq!(
        (problem.status, problem.field.as_deref()),
        (422, Some("certificate"))
    );
    assert!(
        problem
            .detail
            .contains("public key is not this request's key"),
        "{}",
        problem.detail
    );
    let cer = fixtures::apple_cer_for_csr(dir.path(), &request.csr_pem, "Z9Y8X7W6V5");
    let cert = me
        .complete_certificate_request(&org.id, &request.id, &cer, Some("CI distribution"))
        .await
        .unwrap();
    assert_eq!(
        (cert.kind, cert.name.as_str(), cert.apple_team.as_deref()),
        (
            Kind::AppleDistributionCertificate,
            "CI distribution",
            Some("Z9Y8X7W6V5")
        )
    );
    let again = me
        .complete_certificate_request(&org.id, &request.id, &cer, None)
        .await
        .unwrap_err();
    assert_eq!(
        again.problem().map(|p| (p.status, p.kind.as_str())),
        Some((409, "request-completed"))
    );
    let done = me.certificate_request(&org.id, &request.id).await.unwrap();
    assert_eq!(done.credential_id.as_ref(), Some(&cert.id));
    let export = me.export(&org.id, &cert.id).await.unwrap();
    assert!(
        matches!(
            export.secret,
            SecretMaterial::AppleDistributionCertificate(_)
        ),
        "{:?}",
        export.secret
    );

    // Members, robots, audit.
    let member = me
        .set_member(&org.id, dev_email, Role::Developer)
        .await
        .unwrap_err();
    // The caller is that user, the organization's only owner.
    assert_eq!(member.status(), Some(409), "{member}");
    let members = me.members(&org.id).await.unwrap();
    assert_eq!(members.len(), 1);
    let robot = me
        .create_robot(
            &org.id,
            &NewRobot {
                name: "ci".into(),
                role: Role::Developer,
                app_ids: Some(vec![app.id.clone()]),
                expires_in_days: Some(30),
            },
        )
        .await
        .unwrap();
    assert!(robot.token.expose().starts_with("sgr_"));
    let as_robot = anonymous.clone().with_token(robot.token.clone());
    let Me::Robot { role, app_ids, .. } = as_robot.me().await.unwrap() else {
        panic!("a robot")
    };
    assert_eq!(
        (role, app_ids),
        (Role::Developer, Some(vec![app.id.clone()]))
    );
    let err = as_robot.members(&org.id).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert_eq!(me.robots(&org.id).await.unwrap().len(), 1);
    me.revoke_robot(&org.id, &robot.robot.id).await.unwrap();
    let err = as_robot.me().await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    let audit = me.audit(&org.id, &PageRequest::default()).await.unwrap();
    assert!(audit.items.iter().any(|r| r.action == "credential.export"));

    me.delete_build_set(&org.id, "acme-app", "com.acme.app", "upload")
        .await
        .unwrap();
    me.delete_app(&org.id, "acme-app").await.unwrap();
    let err = me.app(&org.id, "acme-app").await.unwrap_err();
    assert_eq!(err.problem().map(|p| p.kind.as_str()), Some("not-found"));

    me.logout().await.unwrap();
    let err = me.me().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Problem(p) if p.status == 401),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(fixtures::sqlite_store(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_on_postgres() {
    round_trip(fixtures::postgres_store().await).await;
}

/// Serves `store` calling App Store Connect at `asc_url` (the simulator).
async fn serve_with_asc(store: Store, asc_url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = Arc::new(AppState::new(store, None).with_asc_url(asc_url));
    tokio::spawn(signet_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

/// The Apple routes (issue 12) against the App Store Connect simulator: setup through an
/// injected 429 and 500, nothing created the second time, devices, certificates, the
/// limit's problem with Apple's list, doctor and its fix, revocation.
#[allow(clippy::too_many_lines)]
async fn apple_round_trip(store: Store) {
    use signet_asc_sim::{LIMIT_DETAIL, Sim, SimConfig, new_api_key};
    use signet_client::apple::{CertificateEntry, Distribution};

    const BUNDLE: &str = "com.acme.app";
    let p8 = new_api_key();
    let sim = Sim::start(SimConfig::new(
        &p8,
        "ABC123DEFG",
        "57246542-96fe-1a63-e053-0824d011072a",
    ));
    store
        .create_user(
            &signet_store::Actor::system("test"),
            "dev@acme.test",
            PASSWORD,
            None,
        )
        .await
        .unwrap();
    let (url, _stop) = serve_with_asc(store, &sim.url()).await;
    let anonymous = Client::new(&url).unwrap();
    let logged = anonymous
        .login("dev@acme.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let me = anonymous.with_token(logged.token);
    let org = me.create_org("Acme").await.unwrap().id;
    me.create_app(&org, "acme").await.unwrap();

    // No key yet: the server says so, and nothing reaches Apple.
    let err = me
        .ios_setup(&org, "acme", BUNDLE, Distribution::AppStore, None)
        .await
        .unwrap_err();
    let p = err.problem().expect("a problem");
    assert_eq!(
        (p.status, p.kind.as_str()),
        (409, "asc-key-missing"),
        "{err}"
    );
    assert!(sim.log().is_empty());

    let key = me
        .upload(
            &org,
            &Upload::AscApiKey(AscKeyUpload {
                name: None,
                p8: SecretString::new(p8.clone()),
                key_id: "ABC123DEFG".into(),
                issuer_id: "57246542-96fe-1a63-e053-0824d011072a".into(),
                team_id: None,
                roles: Vec::new(),
            }),
        )
        .await
        .unwrap();
    me.set_slot(&org, "acme", "ios", BUNDLE, "asc-api-key", &key.id)
        .await
        .unwrap();

    // Apple answers 429 then 500 first: the server retries.
    sim.inject(&[429, 500]);
    let mut entitlements = serde_json::Map::new();
    entitlements.insert("aps-environment".into(), serde_json::json!("production"));
    let first = me
        .ios_setup(
            &org,
            "acme",
            BUNDLE,
            Distribution::AppStore,
            Some(&entitlements),
        )
        .await
        .unwrap();
    let statuses: Vec<u16> = sim.log().iter().take(2).map(|l| l.status).collect();
    assert_eq!(statuses, vec![429, 500]);
    assert_eq!(first.created_at_apple(), 4, "{first:?}"); // bundle id, push capability, certificate, profile
    assert!(
        !first.push_key && first.notes[0].contains("has no push key"),
        "{first:?}"
    );
    let posts = sim.posts();
    let again = me
        .ios_setup(
            &org,
            "acme",
            BUNDLE,
            Distribution::AppStore,
            Some(&entitlements),
        )
        .await
        .unwrap();
    assert_eq!(again.created_at_apple(), 0, "{again:?}");
    assert_eq!(
        (again.certificate_id.clone(), again.profile_id.clone()),
        (first.certificate_id.clone(), first.profile_id.clone())
    );
    assert_eq!(sim.posts(), posts);
    let pair = me.app(&org, "acme").await.unwrap().build_pairs;
    assert_eq!(pair[0].certificate_id, first.certificate_id);

    // Devices: registered, listed through pages, held by the ad hoc profile.
    for (i, udid) in [
        "00008101-000A1B2C3D4E5F60",
        "00008030-001122334455667A",
        "00008030-00112233445566FF",
    ]
    .iter()
    .enumerate()
    {
        let d = me
            .apple_add_device(&org, "acme", None, udid, &format!("phone {i}"), "IOS")
            .await
            .unwrap();
        assert_eq!(d.udid, *udid);
    }
    let err = me
        .apple_add_device(&org, "acme", None, "nope", "bad", "IOS")
        .await
        .unwrap_err();
    assert_eq!(
        err.problem().and_then(|p| p.field.clone()).as_deref(),
        Some("udid")
    );
    assert_eq!(
        me.apple_devices(&org, "acme", Some(BUNDLE))
            .await
            .unwrap()
            .len(),
        3
    );
    let adhoc = me
        .ios_setup(&org, "acme", BUNDLE, Distribution::AdHoc, None)
        .await
        .unwrap();
    assert!(
        adhoc
            .steps
            .iter()
            .any(|s| s.what == "profile" && s.detail.contains("3 devices")),
        "{adhoc:?}"
    );

    let certs = me.apple_certificates(&org, "acme", None).await.unwrap();
    assert_eq!(certs.certificates.len(), 1);
    assert_eq!(
        certs.certificates[0].held_by.as_ref(),
        Some(&first.certificate_id)
    );

    // The certificate revoked on the portal, and the team at Apple's limit with two made
    // elsewhere: setup answers the limit with Apple's list.
    let ours = certs.certificates[0].id.clone();
    sim.revoke_out_of_band(&ours);
    let a = sim.add_foreign_certificate();
    sim.add_foreign_certificate();
    let report = me.apple_doctor(&org, "acme", None, false).await.unwrap();
    let codes: Vec<&str> = report
        .pairs
        .iter()
        .flat_map(|p| p.findings.iter().map(|f| f.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            "certificate-not-listed",
            "profile-invalid",
            "certificate-not-listed",
            "profile-invalid"
        ],
        "{report:?}"
    );
    let err = me
        .ios_setup(&org, "acme", BUNDLE, Distribution::AppStore, None)
        .await
        .unwrap_err();
    let p = err.problem().expect("a problem");
    assert_eq!(
        (p.status, p.kind.as_str(), p.detail.as_str()),
        (409, "certificate-limit", LIMIT_DETAIL)
    );
    let listed: Vec<CertificateEntry> =
        serde_json::from_value(p.body["certificates"].clone()).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c.held_by.is_none()));

    // Revoking one makes room; the doctor's fix sets both pairs up again.
    let revoked = me
        .apple_revoke_certificate(&org, "acme", None, &a)
        .await
        .unwrap();
    assert_eq!(revoked.certificate.id, a);
    assert!(
        revoked
            .impact
            .contains("apps already in the App Store are not affected")
    );
    // Every use of the ASC key is audited, saying what for.
    let audit = me
        .audit(
            &org,
            &PageRequest {
                cursor: None,
                limit: Some(500),
            },
        )
        .await
        .unwrap()
        .items;
    let revoke = audit
        .iter()
        .find(|r| r.action == "asc.revoke")
        .expect("the revocation is audited");
    assert_eq!(revoke.target, key.id.to_string());
    assert!(revoke.detail.contains(&a), "{}", revoke.detail);
    for action in ["asc.setup", "asc.devices", "asc.certificates"] {
        assert!(audit.iter().any(|r| r.action == action), "{action}");
    }
    let fixed = me.apple_doctor(&org, "acme", None, true).await.unwrap();
    assert!(fixed.pairs.iter().all(|p| p.fixed.is_some()), "{fixed:?}");
    let healthy = me.apple_doctor(&org, "acme", None, false).await.unwrap();
    assert!(
        healthy.pairs.iter().all(|p| p.findings.is_empty()),
        "{healthy:?}"
    );

    // Nothing any answer held, and nothing Apple was sent, carried a private key.
    let answers = serde_json::to_string(&(
        &first, &again, &adhoc, &certs, &report, &revoked, &fixed, &healthy,
    ))
    .unwrap();
    for line in p8.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!answers.contains(line));
    }
    assert_eq!(sim.schema_failures(), Vec::<String>::new());
    assert_eq!(sim.key_leaks(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_endpoints_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    apple_round_trip(fixtures::sqlite_store(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_endpoints_on_postgres() {
    apple_round_trip(fixtures::postgres_store().await).await;
}
