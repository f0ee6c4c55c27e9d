//! The OpenAPI 3.1 document at `/v1/openapi.json`, generated from the route table
//! ([`crate::routes::ROUTES`]) the router is built from, so the document cannot drift from
//! the code: the roles it states are the ones the guard enforces.

use serde_json::{Map, Value, json};
use signet_store::Role::Viewer;

use crate::routes::{Need, ROUTES, Tokens};

fn params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn schemas() -> Value {
    let s = |props: &[(&str, &str)], required: &[&str]| {
        let mut p = Map::new();
        for (name, ty) in props {
            p.insert((*name).into(), json!({ "type": ty }));
        }
        json!({ "type": "object", "properties": p, "required": required, "additionalProperties": false })
    };
    let mut schemas = json!({
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details; `field` and `reason` on 422, `limit`, `max` and `occupied_by` on a 409 limit.",
            "properties": {
                "type": { "type": "string" }, "title": { "type": "string" },
                "status": { "type": "integer" }, "detail": { "type": "string" },
                "field": { "type": "string" }, "reason": { "type": "string" },
                "limit": { "type": "string" }, "max": { "type": "integer" },
                "occupied_by": { "type": "array", "items": { "type": "string" } }
            },
            "required": ["type", "title", "status", "detail"]
        },
        "Setup": s(&[("setup_token", "string"), ("email", "string"), ("password", "string"), ("org", "string")], &["setup_token", "email", "password", "org"]),
        "Login": s(&[("email", "string"), ("password", "string")], &["email", "password"]),
        "Org": s(&[("name", "string")], &["name"]),
        "Member": s(&[("email", "string"), ("role", "string")], &["email", "role"]),
        "Robot": s(&[("name", "string"), ("role", "string"), ("app_ids", "array"), ("expires_in_days", "integer")], &["name", "role"]),
        "Rename": s(&[("name", "string")], &["name"]),
        "App": s(&[("slug", "string")], &["slug"]),
        "BuildSet": s(&[("keystore_id", "string"), ("default", "boolean")], &["keystore_id"]),
        "BuildPair": s(&[("certificate_id", "string"), ("profile_id", "string")], &["certificate_id", "profile_id"]),
        "Slot": s(&[("credential_id", "string")], &["credential_id"]),
        "Sign": {
            "type": "object",
            "description": "What to sign with a held key. Android: application_id (and name: the build set, default the default); iOS: bundle_id and distribution.",
            "properties": {
                "artifact": { "type": "string", "enum": ["apk", "aab", "ipa"] },
                "application_id": { "type": "string" }, "name": { "type": "string" },
                "bundle_id": { "type": "string" }, "distribution": { "type": "string" },
                "messages": { "type": "array", "maxItems": 8, "items": {
                    "type": "object",
                    "properties": {
                        "purpose": { "type": "string", "enum": ["jar-signature-file", "apk-v2-signed-data", "apk-v3-signed-data", "cms-signed-attributes"] },
                        "algorithm": { "type": "string", "enum": ["rsa-pkcs1-sha1", "rsa-pkcs1-sha256", "rsa-pkcs1-sha384", "rsa-pkcs1-sha512", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512"] },
                        "message": { "type": "string", "description": "The to-be-signed bytes, base64." }
                    },
                    "required": ["purpose", "algorithm", "message"],
                    "additionalProperties": false
                } }
            },
            "required": ["artifact"],
            "additionalProperties": false
        },
        "AppleSetup": s(&[("distribution", "string"), ("entitlements", "object")], &["distribution"]),
        "AppleDoctor": s(&[("bundle_id", "string"), ("fix", "boolean")], &[]),
        "AppleDevice": s(&[("udid", "string"), ("name", "string"), ("platform", "string"), ("bundle_id", "string")], &["udid", "name"]),
        "GenerateKeystore": s(&[("name", "string"), ("alias", "string"), ("dname", "string"), ("key_alg", "string"), ("key_size", "integer"), ("validity_days", "integer")], &[]),
        "CertificateRequest": s(&[("common_name", "string"), ("email", "string")], &["common_name"]),
        "PlayAppSigning": s(&[("build_set", "string")], &[]),
        "ApnsToken": s(&[("bundle_id", "string"), ("fresh", "boolean")], &[]),
        "RequestCertificate": s(&[("certificate", "string"), ("name", "string")], &["certificate"]),
    });
    add_upload_schemas(&mut schemas);
    schemas
}

/// One credential type's upload (a variant of `signet_store::validate::Upload`): its
/// `type`, its schema's name and its fields as `(name, required, description)`. `roles`
/// is an array of strings, every other field a string.
type UploadType = (
    &'static str,
    &'static str,
    &'static [(&'static str, bool, &'static str)],
);

const NAME: (&str, bool, &str) = ("name", false, "A display name; derived when absent.");

const UPLOADS: [UploadType; 8] = [
    (
        "android-keystore",
        "AndroidKeystoreUpload",
        &[
            NAME,
            ("keystore", true, "The JKS or PKCS#12 file, base64."),
            ("store_password", true, "The store password."),
            (
                "key_alias",
                false,
                "The key alias (optional when the keystore holds one key).",
            ),
            (
                "key_password",
                false,
                "The key password (the store password when absent).",
            ),
        ],
    ),
    (
        "google-service-account-key",
        "ServiceAccountUpload",
        &[NAME, ("json", true, "The JSON key file, as text.")],
    ),
    (
        "fcm-legacy-key",
        "FcmLegacyKeyUpload",
        &[NAME, ("server_key", true, "The server key.")],
    ),
    (
        "apple-team",
        "AppleTeamUpload",
        &[
            NAME,
            ("team_id", true, "The team id."),
            (
                "team_name",
                false,
                "The team's name (the team id when absent).",
            ),
            (
                "team_type",
                false,
                "`company` (when absent), `individual` or `in-house`.",
            ),
        ],
    ),
    (
        "apple-distribution-certificate",
        "CertificateUpload",
        &[
            NAME,
            ("p12", false, "The .p12, base64."),
            (
                "password",
                false,
                "The .p12 password; with `private_key` and `certificate`, the password of the .p12 signet builds (generated when absent).",
            ),
            (
                "private_key",
                false,
                "Instead of `p12`: the PKCS#8 private key (PEM).",
            ),
            (
                "certificate",
                false,
                "Instead of `p12`: Apple's .cer (base64 DER, or PEM).",
            ),
            ("team_id", false, "The team the certificate must belong to."),
        ],
    ),
    (
        "apple-provisioning-profile",
        "ProfileUpload",
        &[
            NAME,
            ("profile", true, "The .mobileprovision, base64."),
            ("bundle_id", false, "The bundle id it must match."),
            ("team_id", false, "The team it must belong to."),
        ],
    ),
    (
        "apple-push-key",
        "PushKeyUpload",
        &[
            NAME,
            ("p8", true, "The .p8 (PEM text)."),
            ("key_id", true, "The key id."),
            ("team_id", true, "The team id."),
        ],
    ),
    (
        "asc-api-key",
        "AscApiKeyUpload",
        &[
            NAME,
            ("p8", true, "The .p8 (PEM text)."),
            ("key_id", true, "The key id."),
            ("issuer_id", true, "The issuer id (a UUID)."),
            ("team_id", false, "The team id, when known."),
            ("roles", false, "The key's roles."),
        ],
    ),
];

/// `Upload`: one of the credential types' uploads, told apart by `type`; and each type's
/// schema, with exactly the fields that type takes.
fn add_upload_schemas(schemas: &mut Value) {
    let mut one_of = Vec::new();
    let mut mapping = Map::new();
    for (kind, name, fields) in UPLOADS {
        let mut properties = Map::new();
        properties.insert("type".into(), json!({ "const": kind }));
        let mut required = vec!["type"];
        for (field, needed, description) in fields {
            let schema = if *field == "roles" {
                json!({ "type": "array", "items": { "type": "string" }, "description": description })
            } else {
                json!({ "type": "string", "description": description })
            };
            properties.insert((*field).into(), schema);
            if *needed {
                required.push(field);
            }
        }
        let reference = format!("#/components/schemas/{name}");
        schemas[name] = json!({
            "type": "object",
            "description": format!("A credential of type `{kind}`."),
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        one_of.push(json!({ "$ref": reference }));
        mapping.insert(kind.into(), reference.into());
    }
    schemas["Upload"] = json!({
        "description": "A credential's files and secrets; `type` says which fields it takes. Files are base64, .p8 keys and service-account JSON text.",
        "oneOf": one_of,
        "discriminator": { "propertyName": "type", "mapping": mapping },
    });
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let problem = json!({ "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } });
        let mut responses = Map::new();
        let ok_body = if route.ok == 204 {
            json!({ "description": "Done." })
        } else {
            json!({ "description": "OK.", "content": { "application/json": { "schema": { "type": "object" } } } })
        };
        responses.insert(route.ok.to_string(), ok_body);
        let mut errors: Vec<(&str, &str)> = Vec::new();
        match route.need {
            Need::Anonymous => {}
            Need::Token => errors.push(("401", "No valid token.")),
            Need::Role(role) => {
                errors.push(("401", "No valid token."));
                errors.push((
                    "403",
                    match role {
                        Viewer => "Not allowed for this token.",
                        _ => "The caller's role is too low.",
                    },
                ));
                errors.push(("404", "No such resource in an organization of the caller."));
            }
        }
        if route.path == "/v1/auth/login" {
            errors.push(("401", "Wrong e-mail or password."));
            errors.push((
                "429",
                "Too many login attempts for this account; see Retry-After.",
            ));
            errors.push((
                "503",
                "Too many passwords are being checked; see Retry-After.",
            ));
        }
        if route.path == "/v1/setup" {
            errors.push(("401", "Not the setup token this server issued."));
            errors.push(("410", "Setup is done: users exist."));
        }
        if route.tokens == Tokens::Users && route.need != Need::Anonymous {
            errors.push(("403", "Robots cannot call this."));
        }
        if route.body.is_some() {
            errors.push(("400", "The body is not JSON."));
            errors.push(("422", "A field is invalid; `field` names it."));
        }
        if matches!(route.method, "PUT" | "PATCH" | "DELETE" | "POST")
            && route.need != Need::Anonymous
        {
            errors.push(("409", "A limit or a rule of the current state."));
        }
        if matches!(route.method, "PUT" | "PATCH") && route.path.contains('{') {
            errors.push(("412", "If-Match does not match the current version."));
            errors.push(("428", "If-Match is required."));
        }
        for (code, description) in errors {
            responses.insert(
                code.into(),
                json!({ "description": description, "content": problem.clone() }),
            );
        }
        let mut op = json!({
            "operationId": format!("{} {}", route.method, route.path),
            "summary": route.summary,
            "parameters": params(route.path),
            "responses": responses,
            "x-signet-needs": match route.need {
                Need::Anonymous => "anonymous".to_owned(),
                Need::Token => "a token".to_owned(),
                Need::Role(r) => format!("role {} or higher", r.name()),
            },
            "x-signet-tokens": match (route.need, route.tokens) {
                (Need::Anonymous, _) => "none",
                (_, Tokens::Users) => "user sessions only",
                (_, Tokens::Org) => "user sessions and robots not limited to apps",
                (_, Tokens::AppScoped) => "user sessions and robots, including robots limited to apps (for their apps)",
            },
        });
        if route.need == Need::Anonymous {
            op["security"] = json!([]);
        }
        if let Some(body) = route.body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
        }
        paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|m| m.insert(route.method.to_ascii_lowercase(), op));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "signet",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Mobile signing credentials, self-hosted: stored encrypted, shared by role, audited. Errors are application/problem+json. Lists paginate with ?cursor and ?limit (next_cursor in the response). Writes to versioned resources carry If-Match with the ETag read.",
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "sgu_… (session) or sgr_… (robot) tokens." } },
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
    })
}
