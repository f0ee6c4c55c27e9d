//! Credentials: the list (type, used by, expiry), one credential, the upload forms of
//! every type (validated as the API validates; a refusal shown at its field, nothing
//! stored), delete with its impact and the name typed, the deleted ones and restore, and
//! a keystore's certificate as PEM.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Multipart, Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use signet_store::{Credential, CredentialId, Kind, Metadata, PageRequest, validate::SecretString};
use zeroize::Zeroizing;

use super::{CONFIRM_MISMATCH, WebAccess, WebError, WebResult, layout, see_other};
use crate::{
    AppState,
    api::{credentials as api, path_id},
    error::ApiError,
};

/// A field's value as serde names it (`app-store`, `distribution`, …).
pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn copyable(class: &str, value: &str) -> Markup {
    html! {
        code class=(class) { (value) }
        button.copy type="button" data-copy=(value) title="Copy" { "Copy" }
    }
}

/// A credential's derived facts, by type, with its warnings (expiry under 30 days, the
/// Play deadline, the debug key) and, for a keystore, the certificate download.
pub(crate) fn details(access: &WebAccess, c: &Credential) -> Markup {
    let may_download = access.may("GET", "/orgs/{org}/credentials/{id}/certificate.pem");
    html! {
        dl.facts #metadata {
            dt { "Type" } dd.type { (c.kind.name()) }
            @match &c.metadata {
                Metadata::AndroidKeystore(k) => {
                    dt { "Keystore type" } dd.keystore-type { (serde_name(&k.keystore_type).to_uppercase()) }
                    dt { "Alias" } dd.alias { (k.alias) }
                    dt { "Subject" } dd.subject { (k.certificate.subject) }
                    dt { "Valid" } dd.validity { (layout::date(k.certificate.not_before.unix_timestamp() * 1000)) " to " (layout::expiry(c.expires_at)) }
                    dt { "MD5" } dd { (copyable("md5", &k.certificate.md5)) }
                    dt { "SHA-1" } dd { (copyable("sha1", &k.certificate.sha1)) }
                    dt { "SHA-256" } dd { (copyable("sha256", &k.certificate.sha256)) }
                    dt { "Key hash" } dd { (copyable("key-hash", &k.certificate.base64_sha1)) }
                    dt { "Key" } dd { (k.certificate.key_algorithm) " " (k.certificate.key_size) }
                }
                Metadata::AppleDistributionCertificate(m) => {
                    dt { "Kind" } dd.certificate-kind { (serde_name(&m.kind)) }
                    dt { "Common name" } dd { (m.common_name) }
                    dt { "Team" } dd.team { (m.team_id) }
                    dt { "Serial" } dd { code.serial { (m.certificate.serial) } }
                    dt { "Expires" } dd { (layout::expiry(c.expires_at)) }
                    dt { "SHA-1" } dd { (copyable("sha1", &m.certificate.sha1)) }
                }
                Metadata::AppleProvisioningProfile(p) => {
                    dt { "Name" } dd.profile-name { (p.name) }
                    dt { "Kind" } dd.profile-kind { (serde_name(&p.kind)) }
                    dt { "Bundle id" } dd { code { (p.bundle_id) } }
                    dt { "Team" } dd.team { (p.team_id) " (" (p.team_name) ")" }
                    dt { "Expires" } dd { (layout::expiry(c.expires_at)) }
                    dt { "Devices" } dd.device-count { @if p.provisions_all_devices { "all" } @else { (p.devices.len()) } }
                    dt { "UUID" } dd { code { (p.uuid) } }
                }
                Metadata::ApplePushKey(k) => {
                    dt { "Key id" } dd { code { (k.key_id) } }
                    dt { "Team" } dd.team { (k.team_id) }
                }
                Metadata::AscApiKey(k) => {
                    dt { "Key id" } dd { code { (k.key_id) } }
                    dt { "Issuer" } dd { code { (k.issuer_id) } }
                    dt { "Team" } dd.team { (k.team_id.as_deref().unwrap_or("—")) }
                    dt { "Roles" } dd { (k.roles.join(", ")) }
                }
                Metadata::AppleTeam(t) => {
                    dt { "Team id" } dd.team { (t.team_id) }
                    dt { "Name" } dd { (t.team_name) }
                    dt { "Type" } dd { (serde_name(&t.team_type)) }
                }
                Metadata::GoogleServiceAccountKey(s) => {
                    dt { "Project" } dd { (s.project_id) }
                    dt { "Account" } dd { (s.client_email) }
                    dt { "Key id" } dd { code { (s.private_key_id) } }
                }
                Metadata::FcmLegacyKey(k) => {
                    dt { "Key" } dd { code { (k.first4) "…" (k.last4) } }
                }
            }
        }
        @if let Metadata::AndroidKeystore(k) = &c.metadata {
            @if k.expires_before_play_deadline {
                p.warn.warn-play-deadline { "This certificate expires before 2033-10-22: Google Play does not accept an app-signing or upload key that does." }
            }
            @if k.is_debug {
                p.warn.warn-debug-key { "This is the Android SDK's debug key: Google Play refuses apps signed with it." }
            }
            @if may_download && c.deleted_at.is_none() {
                p { a.download-certificate id=(format!("download-cert-{}", c.id)) href=(format!("/orgs/{}/credentials/{}/certificate.pem", access.org, c.id)) { "Download the upload certificate (PEM)" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    cursor: Option<String>,
}

/// `GET /orgs/{org}/credentials?type=&cursor=`: 100 a page, with what uses each.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(
            Kind::parse(k)
                .ok_or_else(|| ApiError::invalid("type", format!("one of: {}", Kind::names())))?,
        ),
        None => None,
    };
    let page = state
        .store
        .credentials(
            &access.org,
            kind,
            false,
            &PageRequest {
                cursor: q.cursor.clone(),
                limit: Some(100),
            },
        )
        .await?;
    let uses = state.store.uses(&access.org).await?;
    let org = access.org.as_str();
    let next = page.next_cursor.as_ref().map(|c| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(k) = kind {
            query.append_pair("type", k.name());
        }
        query.append_pair("cursor", c);
        format!("/orgs/{org}/credentials?{}", query.finish())
    });
    let body = html! {
        p.types {
            a href=(format!("/orgs/{org}/credentials")) { "all" }
            @for k in KINDS { a href=(format!("/orgs/{org}/credentials?type={}", k.name())) { (k.name()) } }
            @if access.may("GET", "/orgs/{org}/upload") {
                a #upload-link href=(format!("/orgs/{org}/upload")) { "Upload…" }
            }
        }
        div.table-wrap {
            table #credentials .stack {
                thead { tr { th { "Name" } th { "Type" } th { "Used by" } th { "Expires" } } }
                tbody {
                    @for c in &page.items {
                        tr.credential data-id=(c.id) {
                            td data-label="Name" { a href=(format!("/orgs/{org}/credentials/{}", c.id)) { (c.name) } }
                            td data-label="Type" { (c.kind.name()) }
                            td data-label="Used by" {
                                @match uses.get(c.id.as_str()) {
                                    Some(lines) => { @for line in lines { div { (line) } } }
                                    None => span.muted { "nothing" },
                                }
                            }
                            td data-label="Expires" { (layout::expiry(c.expires_at)) }
                        }
                    }
                }
            }
        }
        @if page.items.is_empty() { p.muted { "No credentials." } }
        @if let Some(next) = next { a #next-page href=(next) { "Next page" } }
    };
    Ok(layout::org_page(&access, "Credentials", &body))
}

const KINDS: [Kind; 8] = [
    Kind::AndroidKeystore,
    Kind::GoogleServiceAccountKey,
    Kind::FcmLegacyKey,
    Kind::AppleTeam,
    Kind::AppleDistributionCertificate,
    Kind::AppleProvisioningProfile,
    Kind::ApplePushKey,
    Kind::AscApiKey,
];

/// `GET /orgs/{org}/credentials/{id}` (deleted ones too, marked).
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
) -> WebResult {
    let id: CredentialId = path_id(&id)?;
    let c = state.store.credential(&access.org, &id, true).await?;
    let impact = state.store.impact(&access.org, &id).await?;
    let org = access.org.as_str();
    let body = html! {
        @if let Some(at) = c.deleted_at {
            p.warn #deleted-notice { "Deleted on " (layout::date_time(at)) "." }
            @if access.may("POST", "/orgs/{org}/credentials/{id}/restore") {
                (restore_form(&access, &c.id))
            }
        }
        (details(&access, &c))
        h2 { "Used by" }
        ul #used-by {
            @for line in &impact.used_by { li { (line) } }
            @if impact.used_by.is_empty() { li.muted { "nothing" } }
        }
        p.muted { "Created " (layout::date_time(c.created_at)) ", updated " (layout::date_time(c.updated_at)) ", version " (c.version) "." }
        @if c.deleted_at.is_none() && access.may("GET", "/orgs/{org}/credentials/{id}/delete") {
            p { a #delete-link href=(format!("/orgs/{org}/credentials/{}/delete", c.id)) { "Delete…" } }
        }
    };
    Ok(layout::org_page(&access, &c.name, &body))
}

/// `GET /orgs/{org}/credentials/{id}/certificate.pem`: a keystore's certificate, as
/// `keytool -exportcert -rfc` writes it. The keystore is opened for it, so the read is
/// audited (`credential.certificate`).
pub(crate) async fn certificate(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
) -> WebResult {
    let id: CredentialId = path_id(&id)?;
    let c = state.store.credential(&access.org, &id, false).await?;
    if c.kind != Kind::AndroidKeystore {
        return Err(ApiError::not_found().into());
    }
    let (c, secret) = state
        .store
        .read_secret(
            &access.session.actor,
            &access.org,
            &id,
            "credential.certificate",
            &json!({}),
        )
        .await?;
    let pem = tokio::task::spawn_blocking(move || keystore_certificate(&secret))
        .await
        .map_err(|_| ApiError::internal())?
        .ok_or_else(|| {
            tracing::error!("a stored keystore does not open with its stored password");
            ApiError::internal()
        })?;
    let file: String = c
        .name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || "-_.".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let mut response = pem.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-pem-file"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.pem\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The PEM of the key entry's certificate of a stored keystore's secret JSON.
fn keystore_certificate(secret: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct KeystoreSecret {
        keystore: SecretString,
        store_password: SecretString,
        key_alias: Option<String>,
    }
    let secret: KeystoreSecret = serde_json::from_slice(secret).ok()?;
    let file = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(secret.keystore.expose())
            .ok()?,
    );
    let password = signet_formats::Password::new(secret.store_password.expose());
    let keystore = signet_formats::Keystore::open(&file, Some(&password)).ok()?;
    let entry = keystore.key_entry(secret.key_alias.as_deref()).ok()?;
    let cert = entry.certificates().first()?;
    Some(signet_formats::pem::encode_keytool_rfc(
        "CERTIFICATE",
        cert.der(),
    ))
}

/// How a form field is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Input {
    Text,
    /// Never echoed back.
    Password,
    /// Sent as base64 (binary files).
    File,
    /// Sent as text (PEM, JSON).
    TextFile,
    /// A PEM or DER certificate: PEM as text, DER as base64.
    CertificateFile,
    /// Comma-separated, sent as a list.
    List,
}

/// The fields of each type's upload form: `name` attribute, label, how it is entered.
fn fields(kind: Kind) -> &'static [(&'static str, &'static str, Input)] {
    use Input::{CertificateFile, File, List, Password, Text, TextFile};
    match kind {
        Kind::AndroidKeystore => &[
            ("keystore", "Keystore file (.jks, .keystore, .p12)", File),
            ("store_password", "Store password", Password),
            (
                "key_alias",
                "Key alias (when the keystore holds several keys)",
                Text,
            ),
            (
                "key_password",
                "Key password (when not the store password)",
                Password,
            ),
        ],
        Kind::GoogleServiceAccountKey => &[("json", "Service account JSON key file", TextFile)],
        Kind::FcmLegacyKey => &[("server_key", "Server key", Password)],
        Kind::AppleTeam => &[
            ("team_id", "Team id", Text),
            ("team_name", "Team name", Text),
            (
                "team_type",
                "Team type (company, individual or in-house)",
                Text,
            ),
        ],
        Kind::AppleDistributionCertificate => &[
            ("p12", "Certificate and key (.p12)", File),
            ("password", ".p12 password", Password),
            ("private_key", "Or: the private key (PKCS#8 PEM)", TextFile),
            (
                "certificate",
                "and Apple's certificate (.cer)",
                CertificateFile,
            ),
            ("team_id", "Team id (checked when given)", Text),
        ],
        Kind::AppleProvisioningProfile => &[
            ("profile", "Provisioning profile (.mobileprovision)", File),
            ("bundle_id", "Bundle id (checked when given)", Text),
            ("team_id", "Team id (checked when given)", Text),
        ],
        Kind::ApplePushKey => &[
            ("p8", "Push key (.p8)", TextFile),
            ("key_id", "Key id", Text),
            ("team_id", "Team id", Text),
        ],
        Kind::AscApiKey => &[
            ("p8", "API key (.p8)", TextFile),
            ("key_id", "Key id", Text),
            ("issuer_id", "Issuer id", Text),
            ("team_id", "Team id", Text),
            ("roles", "Roles (comma-separated)", List),
        ],
    }
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// What a refused upload shows again: the text fields as typed (never passwords or
/// files), and the refusal at its field (or of the form).
#[derive(Default)]
struct Refusal {
    values: Map<String, Value>,
    field: Option<String>,
    message: String,
}

fn upload_form(access: &WebAccess, kind: Kind, refusal: Option<&Refusal>) -> Markup {
    let org = access.org.as_str();
    let error_at = |name: &str| {
        refusal
            .filter(|r| r.field.as_deref() == Some(name))
            .map(|r| r.message.as_str())
    };
    let value = |name: &str| {
        refusal
            .and_then(|r| r.values.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let known = |r: &Refusal| {
        r.field
            .as_deref()
            .is_some_and(|f| f == "name" || fields(kind).iter().any(|(n, _, _)| *n == f))
    };
    html! {
        form #upload-form method="post" action=(format!("/orgs/{org}/upload")) enctype="multipart/form-data" {
            (layout::csrf(&access.session.csrf))
            input type="hidden" name="type" value=(kind.name());
            @if let Some(r) = refusal.filter(|r| !known(r)) {
                p #form-error .form-error { (r.message) }
            }
            (layout::field("name", "Name (derived from the file when empty)", &html! {
                input #f-name type="text" name="name" value=(value("name"));
            }, error_at("name")))
            @for (name, label, input) in fields(kind) {
                @let id = format!("f-{name}");
                (layout::field(name, label, &match input {
                    Input::Text | Input::List => html! { input id=(id) type="text" name=(name) value=(value(name)); },
                    Input::Password => html! { input id=(id) type="password" name=(name) autocomplete="off"; },
                    Input::File | Input::TextFile | Input::CertificateFile => html! { input id=(id) type="file" name=(name); },
                }, error_at(name)))
            }
            button #upload-submit .primary type="submit" { "Upload" }
        }
    }
}

fn upload_response(access: &WebAccess, kind: Kind, refusal: Option<&Refusal>) -> Response {
    let org = access.org.as_str();
    let body = html! {
        p.types {
            @for k in KINDS {
                a.upload-type data-type=(k.name()) href=(format!("/orgs/{org}/upload?type={}", k.name())) {
                    @if k == kind { strong { (k.name()) } } @else { (k.name()) }
                }
            }
        }
        (upload_form(access, kind, refusal))
    };
    layout::org_page(access, &format!("Upload: {}", kind.name()), &body)
}

/// `GET /orgs/{org}/upload?type=`: the form of a type (a keystore's by default).
pub(crate) async fn upload_page(access: WebAccess, Query(q): Query<UploadQuery>) -> WebResult {
    let kind = match q.kind.as_deref() {
        None | Some("") => Kind::AndroidKeystore,
        Some(k) => Kind::parse(k)
            .ok_or_else(|| ApiError::invalid("type", format!("one of: {}", Kind::names())))?,
    };
    Ok(upload_response(&access, kind, None))
}

/// `POST /orgs/{org}/upload` (multipart): the API's upload made from the form, validated
/// as the API validates; a refusal answers the form again with the error at its field,
/// and nothing is stored.
pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    mut multipart: Multipart,
) -> WebResult {
    let mut parts: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return Err(WebError::new(
                    StatusCode::BAD_REQUEST,
                    "the form could not be read",
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| WebError::new(StatusCode::BAD_REQUEST, "the form could not be read"))?;
        parts.push((name, Zeroizing::new(bytes.to_vec())));
    }
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).ok();
    let kind = parts
        .iter()
        .find(|(n, _)| n == "type")
        .and_then(|(_, v)| text(v))
        .and_then(|k| Kind::parse(&k))
        .ok_or_else(|| ApiError::invalid("type", format!("one of: {}", Kind::names())))?;
    let mut body = Map::new();
    let mut shown = Map::new();
    let mut refusal: Option<Refusal> = None;
    body.insert("type".into(), kind.name().into());
    for (name, bytes) in &parts {
        if bytes.is_empty() {
            continue;
        }
        let input = if name == "name" {
            Input::Text
        } else if let Some((_, _, input)) = fields(kind).iter().find(|(n, _, _)| n == name) {
            *input
        } else {
            continue;
        };
        let as_text = || text(bytes);
        let value = match input {
            Input::File => Some(Value::from(
                base64::engine::general_purpose::STANDARD.encode(&**bytes),
            )),
            Input::CertificateFile if !bytes.starts_with(b"-----BEGIN") => Some(Value::from(
                base64::engine::general_purpose::STANDARD.encode(&**bytes),
            )),
            Input::Text | Input::Password | Input::TextFile | Input::CertificateFile => {
                as_text().map(|t| Value::from(t.trim().to_owned()))
            }
            Input::List => as_text().map(|t| {
                Value::from(
                    t.split(',')
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(Value::from)
                        .collect::<Vec<_>>(),
                )
            }),
        };
        let Some(value) = value else {
            refusal.get_or_insert(Refusal {
                field: Some(name.clone()),
                message: "is not UTF-8 text".into(),
                ..Refusal::default()
            });
            continue;
        };
        if matches!(input, Input::Text | Input::List) {
            if let Some(t) = text(bytes) {
                shown.insert(name.clone(), t.into());
            }
        }
        body.insert(name.clone(), value);
    }
    let result = match refusal {
        Some(r) => Err(r),
        None => create(&state, &access, Value::Object(body)).await,
    };
    match result {
        Ok(c) => Ok(see_other(&format!(
            "/orgs/{}/credentials/{}",
            access.org, c.id
        ))),
        Err(mut r) => {
            r.values = shown;
            let mut response = upload_response(&access, kind, Some(&r));
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

/// The API's create, its refusals as a [`Refusal`] (a refusal that is no input's fault,
/// such as a full team's limit, too).
async fn create(state: &AppState, access: &WebAccess, body: Value) -> Result<Credential, Refusal> {
    let refusal = |e: ApiError| Refusal {
        field: e.field().map(str::to_owned),
        message: e.reason().unwrap_or(e.detail()).to_owned(),
        ..Refusal::default()
    };
    let upload = api::upload(body).map_err(refusal)?;
    let validated = api::validated(upload).await.map_err(refusal)?;
    state
        .store
        .create_credential(&access.session.actor, &access.org, validated)
        .await
        .map_err(|e| refusal(e.into()))
}

fn impact_block(impact: &signet_store::Impact) -> Markup {
    html! {
        div.card #impact {
            // The summary's own "not revoked" sentence is said once, below.
            p #impact-summary {
                (impact
                    .summary
                    .strip_suffix(" Removing it from signet does not revoke it at Apple or Google.")
                    .unwrap_or(&impact.summary))
            }
            @if impact.used_by.is_empty() {
                p.muted { "Nothing in signet uses it." }
            } @else {
                p { "Used by:" }
                ul #impact-used-by { @for line in &impact.used_by { li { (line) } } }
            }
            @if !impact.affected_credentials.is_empty() {
                p { "Also affected:" }
                ul #impact-affected { @for line in &impact.affected_credentials { li { (line) } } }
            }
            p { strong { "Nothing is revoked at Apple or Google." } }
        }
    }
}

fn delete_response(
    access: &WebAccess,
    c: &Credential,
    impact: &signet_store::Impact,
    error: Option<&str>,
) -> Response {
    let org = access.org.as_str();
    let body = html! {
        (impact_block(impact))
        form #delete-form method="post" action=(format!("/orgs/{org}/credentials/{}/delete", c.id)) {
            (layout::csrf(&access.session.csrf))
            (layout::field("confirm_name", &format!("Type the name, {}, to delete it", c.name), &html! {
                input #f-confirm_name type="text" name="confirm_name" autocomplete="off" required;
            }, error))
            button #delete-submit .danger type="submit" { "Delete" }
            " "
            a href=(format!("/orgs/{org}/credentials/{}", c.id)) { "Cancel" }
        }
    };
    layout::org_page(access, &format!("Delete {}", c.name), &body)
}

/// `GET /orgs/{org}/credentials/{id}/delete`: the impact, and the form.
pub(crate) async fn delete_page(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
) -> WebResult {
    let id: CredentialId = path_id(&id)?;
    let c = state.store.credential(&access.org, &id, false).await?;
    let impact = state.store.impact(&access.org, &id).await?;
    Ok(delete_response(&access, &c, &impact, None))
}

#[derive(Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    confirm_name: String,
}

/// `POST /orgs/{org}/credentials/{id}/delete`: deletes (restorable) when the name typed
/// is the credential's.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<DeleteForm>,
) -> WebResult {
    let id: CredentialId = path_id(&id)?;
    let c = state.store.credential(&access.org, &id, false).await?;
    if form.confirm_name != c.name {
        let impact = state.store.impact(&access.org, &id).await?;
        let mut response = delete_response(&access, &c, &impact, Some(CONFIRM_MISMATCH));
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    state
        .store
        .delete_credential(&access.session.actor, &access.org, &id, Some(c.version))
        .await?;
    Ok(see_other(&format!("/orgs/{}/deleted", access.org)))
}

fn restore_form(access: &WebAccess, id: &CredentialId) -> Markup {
    html! {
        form.inline id=(format!("restore-{id}")) method="post" action=(format!("/orgs/{}/credentials/{id}/restore", access.org)) {
            (layout::csrf(&access.session.csrf))
            button.restore-submit type="submit" { "Restore" }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CursorQuery {
    cursor: Option<String>,
}

/// `GET /orgs/{org}/deleted`: deleted credentials, restorable until the window ends.
pub(crate) async fn deleted(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Query(q): Query<CursorQuery>,
) -> WebResult {
    let page = state
        .store
        .credentials(
            &access.org,
            None,
            true,
            &PageRequest {
                cursor: q.cursor,
                limit: Some(100),
            },
        )
        .await?;
    let window = state.store.limits().restore_window_ms();
    let org = access.org.as_str();
    let body = html! {
        p.muted { "Deleted credentials can be restored for " (window / layout::DAY_MS) " days; then they are destroyed." }
        div.table-wrap {
            table #deleted .stack {
                thead { tr { th { "Name" } th { "Type" } th { "Deleted" } th { "Destroyed after" } th { "" } } }
                tbody {
                    @for c in &page.items {
                        tr.deleted data-id=(c.id) {
                            td data-label="Name" { a href=(format!("/orgs/{org}/credentials/{}", c.id)) { (c.name) } }
                            td data-label="Type" { (c.kind.name()) }
                            td data-label="Deleted" { (c.deleted_at.map_or_else(String::new, layout::date_time)) }
                            td data-label="Destroyed after" { (c.deleted_at.map_or_else(String::new, |d| layout::date(d.saturating_add(window)))) }
                            td { (restore_form(&access, &c.id)) }
                        }
                    }
                }
            }
        }
        @if page.items.is_empty() { p.muted { "Nothing is deleted." } }
        @if let Some(c) = &page.next_cursor { a #next-page href=(format!("/orgs/{org}/deleted?cursor={c}")) { "Next page" } }
    };
    Ok(layout::org_page(&access, "Deleted credentials", &body))
}

/// `POST /orgs/{org}/credentials/{id}/restore`.
pub(crate) async fn restore(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
) -> WebResult {
    let id: CredentialId = path_id(&id)?;
    state
        .store
        .restore_credential(&access.session.actor, &access.org, &id)
        .await?;
    Ok(see_other(&format!("/orgs/{}/credentials/{id}", access.org)))
}
