//! Uploads, validated with signet-formats before anything is stored. The server derives
//! every piece of metadata from the files themselves (SPEC §1: never trust client-sent
//! metadata); a bad upload is [`StoreError::Invalid`] naming the field and the reason.

mod upload;

use base64::Engine as _;
use serde_json::{Value, json};
use signet_formats::{
    FormatError, Keystore, KeystoreType, Password,
    apple::{AppleCertificateKind, mobileprovision::Profile, p8},
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{
    StoreError,
    metadata::{
        AppleTeamMetadata, AscKeyMetadata, CertificateFacts, CertificateKind, CertificateMetadata,
        FcmKeyMetadata, KeystoreFormat, KeystoreMetadata, Metadata, ProfileMetadata,
        PushKeyMetadata, ServiceAccountMetadata, TeamType,
    },
    model::Kind,
};

use upload::invalid;
pub use upload::{
    AppleTeamUpload, AscKeyUpload, CertificateUpload, FcmKeyUpload, KeystoreUpload,
    MAX_FIELD_BYTES, ProfileUpload, PushKeyUpload, SecretString, ServiceAccountUpload, Upload,
    UploadError,
};

/// A validated upload: what to seal and what to show. Only [`validate`] makes one, so the
/// store never seals a secret whose metadata it did not derive itself.
pub struct Validated {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) apple_team: Option<String>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) metadata: Metadata,
    pub(crate) secret: Zeroizing<Vec<u8>>,
}

impl Validated {
    /// The type.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Apple team it belongs to, for Apple types.
    pub fn apple_team(&self) -> Option<&str> {
        self.apple_team.as_deref()
    }

    /// When it stops working, in ms since the epoch.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// Derived metadata, shown to viewers.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
}

impl std::fmt::Debug for Validated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validated")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("metadata", &self.metadata)
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

fn required<'a, T>(value: Option<&'a T>, field: &'static str) -> Result<&'a T, StoreError> {
    value.ok_or_else(|| invalid(field, "required for this type"))
}

fn base64_field(value: &str, field: &'static str) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let cleaned: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| invalid(field, "not valid base64"))
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn secret_json(value: &Value) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    serde_json::to_vec(value)
        .map(Zeroizing::new)
        .map_err(|_| StoreError::Malformed("secret encoding"))
}

fn apple_id(value: &str, field: &'static str, what: &str) -> Result<String, StoreError> {
    p8::check_id(what, value).map_err(|e| invalid(field, e.to_string()))?;
    Ok(value.to_owned())
}

/// Validates an upload at `now`.
pub fn validate(upload: &Upload, now: OffsetDateTime) -> Result<Validated, StoreError> {
    upload.check_lengths()?;
    let mut v = match upload {
        Upload::AndroidKeystore(u) => keystore(u)?,
        Upload::GoogleServiceAccountKey(u) => service_account(u)?,
        Upload::FcmLegacyKey(u) => fcm_key(u)?,
        Upload::AppleTeam(u) => apple_team(u)?,
        Upload::AppleDistributionCertificate(u) => certificate(u, now)?,
        Upload::AppleProvisioningProfile(u) => profile(u, now)?,
        Upload::ApplePushKey(u) => push_key(u)?,
        Upload::AscApiKey(u) => asc_key(u)?,
    };
    if let Some(name) = upload.name() {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(invalid("name", "1 to 200 printable characters"));
        }
        name.clone_into(&mut v.name);
    }
    Ok(v)
}

fn keystore(u: &KeystoreUpload) -> Result<Validated, StoreError> {
    let file = base64_field(u.keystore.expose(), "keystore")?;
    let store_pass = Password::new(u.store_password.expose().to_owned());
    let store = Keystore::open(&file, Some(&store_pass)).map_err(|e| match e {
        FormatError::WrongStorePassword => invalid("store_password", e.to_string()),
        other => invalid("keystore", other.to_string()),
    })?;
    // PKCS#12 has one password: a different key password would reach CI and fail there.
    if store.kind() == KeystoreType::Pkcs12
        && u.key_password
            .as_ref()
            .is_some_and(|k| k.expose() != u.store_password.expose())
    {
        return Err(invalid(
            "key_password",
            "a PKCS#12 keystore has one password: leave key_password out, or give the store password",
        ));
    }
    let entry = store
        .key_entry(u.key_alias.as_deref())
        .map_err(|e| invalid("key_alias", e.to_string()))?;
    let alias = entry.alias().to_owned();
    let key_pass = u.key_password.as_ref().map_or_else(
        || store_pass.clone(),
        |p| Password::new(p.expose().to_owned()),
    );
    let unlocked = store.unlock(Some(&alias), &key_pass).map_err(|e| match e {
        FormatError::WrongKeyPassword { .. } => invalid("key_password", e.to_string()),
        other => invalid("keystore", other.to_string()),
    })?;
    let cert = unlocked
        .chain
        .first()
        .ok_or_else(|| invalid("keystore", "the key entry has no certificate"))?;
    let info = cert.info();
    let metadata = Metadata::AndroidKeystore(KeystoreMetadata {
        certificate: CertificateFacts::of(cert),
        keystore_type: match store.kind() {
            KeystoreType::Jks => KeystoreFormat::Jks,
            KeystoreType::Pkcs12 => KeystoreFormat::Pkcs12,
        },
        alias: alias.clone(),
        aliases: store.aliases(),
        is_debug: info.is_debug,
        expires_before_play_deadline: info.expires_before_play_deadline(),
    });
    let secret = secret_json(&json!({
        "keystore": base64::engine::general_purpose::STANDARD.encode(&*file),
        "store_password": store_pass.expose(),
        "key_alias": alias,
        "key_password": key_pass.expose(),
    }))?;
    Ok(Validated {
        kind: Kind::AndroidKeystore,
        name: format!(
            "{alias} ({})",
            info.fingerprints.sha1.get(..11).unwrap_or("")
        ),
        apple_team: None,
        expires_at: Some(millis(info.not_after)),
        metadata,
        secret,
    })
}

fn service_account(u: &ServiceAccountUpload) -> Result<Validated, StoreError> {
    let text = u.json.expose();
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid("json", format!("not JSON: {e}")))?;
    let field = |name: &str| -> Result<String, StoreError> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid("json", format!("the key file has no `{name}`")))
    };
    if field("type")? != "service_account" {
        return Err(invalid("json", "`type` is not `service_account`"));
    }
    let pem = field("private_key")?;
    let der = signet_formats::pem::decode_all(pem.as_bytes(), "PRIVATE KEY")
        .ok()
        .and_then(|mut blocks| (blocks.len() == 1).then(|| blocks.remove(0)))
        .ok_or_else(|| invalid("json", "`private_key` is not one PEM PRIVATE KEY"))?;
    signet_formats::PrivateKey::from_pkcs8_der(&der)
        .map_err(|e| invalid("json", format!("`private_key`: {e}")))?;
    let email = field("client_email")?;
    Ok(Validated {
        kind: Kind::GoogleServiceAccountKey,
        name: email.clone(),
        apple_team: None,
        expires_at: None,
        metadata: Metadata::GoogleServiceAccountKey(ServiceAccountMetadata {
            project_id: field("project_id")?,
            client_email: email,
            private_key_id: field("private_key_id")?,
        }),
        secret: secret_json(&json!({ "json": text }))?,
    })
}

fn fcm_key(u: &FcmKeyUpload) -> Result<Validated, StoreError> {
    let key = u.server_key.expose().trim();
    if key.len() < 20 || !key.is_ascii() || key.contains(char::is_whitespace) {
        return Err(invalid(
            "server_key",
            "not an FCM server key (20 or more printable ASCII characters)",
        ));
    }
    let first = &key[..4];
    let last = &key[key.len() - 4..];
    Ok(Validated {
        kind: Kind::FcmLegacyKey,
        name: format!("FCM key {first}…{last}"),
        apple_team: None,
        expires_at: None,
        metadata: Metadata::FcmLegacyKey(FcmKeyMetadata {
            first4: first.to_owned(),
            last4: last.to_owned(),
        }),
        secret: secret_json(&json!({ "server_key": key }))?,
    })
}

fn apple_team(u: &AppleTeamUpload) -> Result<Validated, StoreError> {
    let team = apple_id(&u.team_id, "team_id", "team id")?;
    let team_type = TeamType::parse(u.team_type.as_deref().unwrap_or("company"))
        .ok_or_else(|| invalid("team_type", "one of: company, individual, in-house"))?;
    let name = u.team_name.clone().unwrap_or_else(|| team.clone());
    Ok(Validated {
        kind: Kind::AppleTeam,
        name: name.clone(),
        apple_team: Some(team.clone()),
        expires_at: None,
        metadata: Metadata::AppleTeam(AppleTeamMetadata {
            team_id: team,
            team_name: name,
            team_type,
        }),
        secret: secret_json(&json!({}))?,
    })
}

/// A .p12 from a private key and Apple's `.cer`, as `signet ios p12` makes it (3DES/SHA-1,
/// which Keychain imports).
fn p12_from_parts(u: &CertificateUpload) -> Result<(Zeroizing<Vec<u8>>, Password), StoreError> {
    let key = signet_formats::apple::read_private_key(
        required(u.private_key.as_ref(), "private_key")?
            .expose()
            .as_bytes(),
    )
    .map_err(|e| invalid("private_key", e.to_string()))?;
    let cer = required(u.certificate.as_ref(), "certificate")?;
    let cer_bytes = if cer.contains("-----BEGIN") {
        Zeroizing::new(cer.as_bytes().to_vec())
    } else {
        base64_field(cer, "certificate")?
    };
    let cert = signet_formats::apple::read_certificate(&cer_bytes)
        .map_err(|e| invalid("certificate", e.to_string()))?;
    let password = match &u.password {
        Some(p) => Password::new(p.expose().to_owned()),
        None => Password::generate().map_err(|_| StoreError::Crypto("random number generator"))?,
    };
    let p12 = signet_formats::apple::identity_p12(
        key,
        cert,
        &password,
        signet_formats::Pkcs12Encryption::Legacy,
    )
    .map_err(|e| invalid("certificate", e.to_string()))?;
    Ok((Zeroizing::new(p12), password))
}

fn certificate(u: &CertificateUpload, now: OffsetDateTime) -> Result<Validated, StoreError> {
    let (file, pass) = if u.p12.is_none() && (u.private_key.is_some() || u.certificate.is_some()) {
        p12_from_parts(u)?
    } else {
        let file = base64_field(required(u.p12.as_ref(), "p12")?.expose(), "p12")?;
        let pass = Password::new(
            u.password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default(),
        );
        (file, pass)
    };
    let store = Keystore::open(&file, Some(&pass)).map_err(|e| match e {
        FormatError::WrongStorePassword => invalid("password", ".p12 password is incorrect"),
        other => invalid("p12", other.to_string()),
    })?;
    if store.kind() != KeystoreType::Pkcs12 {
        return Err(invalid("p12", "a JKS keystore, not a .p12"));
    }
    let identity = store
        .unlock(None, &pass)
        .map_err(|e| invalid("p12", e.to_string()))?;
    let cert = identity
        .chain
        .first()
        .ok_or_else(|| invalid("p12", "the .p12 holds no certificate"))?;
    let info = cert.info();
    let apple = info
        .apple
        .as_ref()
        .ok_or_else(|| invalid("p12", "not an Apple code-signing certificate"))?;
    let team = apple
        .team_id
        .clone()
        .ok_or_else(|| invalid("p12", "the certificate names no team (subject OU)"))?;
    if let Some(expected) = &u.team_id
        && *expected != team
    {
        return Err(invalid(
            "team_id",
            format!("the certificate belongs to team {team}, not {expected}"),
        ));
    }
    if info.is_expired_at(now) {
        return Err(invalid(
            "p12",
            format!("the certificate expired on {}", info.not_after.date()),
        ));
    }
    let kind = match apple.kind {
        AppleCertificateKind::Distribution => CertificateKind::Distribution,
        AppleCertificateKind::Development => CertificateKind::Development,
        AppleCertificateKind::DeveloperId | AppleCertificateKind::Other => CertificateKind::Other,
    };
    let metadata = Metadata::AppleDistributionCertificate(CertificateMetadata {
        certificate: CertificateFacts::of(cert),
        team_id: team.clone(),
        kind,
        common_name: apple.name.clone(),
        portal_id: None,
    });
    let secret = secret_json(&json!({
        "p12": base64::engine::general_purpose::STANDARD.encode(&*file),
        "password": pass.expose(),
    }))?;
    Ok(Validated {
        kind: Kind::AppleDistributionCertificate,
        name: apple.name.clone(),
        apple_team: Some(team),
        expires_at: Some(millis(info.not_after)),
        metadata,
        secret,
    })
}

fn profile(u: &ProfileUpload, now: OffsetDateTime) -> Result<Validated, StoreError> {
    let file = base64_field(&u.profile, "profile")?;
    let p = Profile::parse(&file).map_err(|e| invalid("profile", e.to_string()))?;
    if !p.signature_valid {
        return Err(invalid(
            "profile",
            "the profile's CMS signature does not verify",
        ));
    }
    if p.expires < now {
        return Err(invalid(
            "profile",
            format!("the profile expired on {}", p.expires.date()),
        ));
    }
    if let Some(expected) = &u.team_id
        && *expected != p.team_id
    {
        return Err(invalid(
            "team_id",
            format!("the profile belongs to team {}, not {expected}", p.team_id),
        ));
    }
    if let Some(bundle) = &u.bundle_id
        && !p.matches_bundle_id(bundle)
    {
        return Err(invalid(
            "bundle_id",
            format!(
                "the profile is for `{}`, which does not match `{bundle}`",
                p.bundle_id
            ),
        ));
    }
    let expires_at = Some(millis(p.expires));
    let (name, team) = (p.name.clone(), p.team_id.clone());
    let metadata = Metadata::AppleProvisioningProfile(ProfileMetadata {
        uuid: p.uuid,
        name: p.name,
        team_id: p.team_id,
        team_name: p.team_name,
        app_id_name: p.app_id_name,
        application_identifier: p.application_identifier,
        bundle_id: p.bundle_id,
        kind: p.kind,
        created: p.created,
        expires: p.expires,
        devices: p.devices,
        provisions_all_devices: p.provisions_all_devices,
        entitlements: p.entitlements,
        certificates: p.certificates,
        apple_signed: p.apple_signed,
    });
    Ok(Validated {
        kind: Kind::AppleProvisioningProfile,
        name,
        apple_team: Some(team),
        expires_at,
        metadata,
        secret: secret_json(
            &json!({ "profile": base64::engine::general_purpose::STANDARD.encode(&*file) }),
        )?,
    })
}

fn p8_key(pem: &SecretString, key_id: &str) -> Result<(String, String), StoreError> {
    let pem = pem.expose();
    p8::AuthKey::parse(pem.as_bytes()).map_err(|e| invalid("p8", e.to_string()))?;
    let key_id = apple_id(key_id, "key_id", "key id")?;
    Ok((pem.to_owned(), key_id))
}

fn push_key(u: &PushKeyUpload) -> Result<Validated, StoreError> {
    let (pem, key_id) = p8_key(&u.p8, &u.key_id)?;
    let team = apple_id(&u.team_id, "team_id", "team id")?;
    Ok(Validated {
        kind: Kind::ApplePushKey,
        name: format!("APNs key {key_id}"),
        apple_team: Some(team.clone()),
        expires_at: None,
        metadata: Metadata::ApplePushKey(PushKeyMetadata {
            key_id: key_id.clone(),
            team_id: team.clone(),
            curve: "P-256".into(),
        }),
        secret: secret_json(&json!({ "p8": pem, "key_id": key_id, "team_id": team }))?,
    })
}

fn asc_key(u: &AscKeyUpload) -> Result<Validated, StoreError> {
    let (pem, key_id) = p8_key(&u.p8, &u.key_id)?;
    let issuer = &u.issuer_id;
    let uuid_like = issuer.len() == 36
        && issuer.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if !uuid_like {
        return Err(invalid(
            "issuer_id",
            "not a UUID (App Store Connect's issuer id)",
        ));
    }
    let team = match &u.team_id {
        Some(t) => Some(apple_id(t, "team_id", "team id")?),
        None => None,
    };
    let roles = u.roles.clone();
    Ok(Validated {
        kind: Kind::AscApiKey,
        name: u
            .name
            .clone()
            .unwrap_or_else(|| format!("App Store Connect key {key_id}")),
        apple_team: team.clone(),
        expires_at: None,
        metadata: Metadata::AscApiKey(AscKeyMetadata {
            key_id: key_id.clone(),
            issuer_id: issuer.clone(),
            team_id: team,
            roles,
        }),
        secret: secret_json(&json!({ "p8": pem, "key_id": key_id, "issuer_id": issuer }))?,
    })
}
