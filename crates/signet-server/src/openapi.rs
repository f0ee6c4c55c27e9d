//! The OpenAPI 3.1 document at `/v1/openapi.json`, generated from [`ROUTES`]: one table
//! of every endpoint with the least role it needs. A test checks that the router serves
//! every route of the table and nothing else, so the document cannot drift from the code.

use serde_json::{Map, Value, json};

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone.
    Anonymous,
    /// Any valid token.
    Token,
    /// A user's session (not a robot).
    User,
    /// At least this role in the path's organization.
    Role(signet_store::Role),
}

/// One endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template (axum's `{param}` syntax, which is OpenAPI's too).
    pub path: &'static str,
    /// Who may call it.
    pub need: Need,
    /// What it does.
    pub summary: &'static str,
    /// The request body's schema, if it takes one.
    pub body: Option<&'static str>,
    /// The success status.
    pub ok: u16,
}

use signet_store::Role::{Admin, Developer, Owner, Viewer};

const fn r(
    method: &'static str,
    path: &'static str,
    need: Need,
    summary: &'static str,
    body: Option<&'static str>,
    ok: u16,
) -> Route {
    Route {
        method,
        path,
        need,
        summary,
        body,
        ok,
    }
}

const BUILD_SET: &str = "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}";
const BUILD_PAIR: &str = "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/build-pairs/{distribution}";
const SLOT: &str = "/v1/orgs/{org}/apps/{app}/slots/{platform}/{identifier}/{slot}";

/// Every endpoint of the API.
pub const ROUTES: &[Route] = &[
    r(
        "GET",
        "/healthz",
        Need::Anonymous,
        "Liveness: the process answers.",
        None,
        200,
    ),
    r(
        "GET",
        "/readyz",
        Need::Anonymous,
        "Readiness: the database answers.",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/openapi.json",
        Need::Anonymous,
        "This document.",
        None,
        200,
    ),
    r(
        "POST",
        "/v1/setup",
        Need::Anonymous,
        "First run: spend the setup token to create the first user and organization.",
        Some("Setup"),
        201,
    ),
    r(
        "POST",
        "/v1/auth/login",
        Need::Anonymous,
        "Log in: returns a session token, once.",
        Some("Login"),
        201,
    ),
    r(
        "POST",
        "/v1/auth/logout",
        Need::User,
        "Revoke the session used.",
        None,
        204,
    ),
    r(
        "GET",
        "/v1/me",
        Need::Token,
        "The caller: user and organizations, or robot.",
        None,
        200,
    ),
    r(
        "DELETE",
        "/v1/me/sessions/{id}",
        Need::User,
        "Revoke one of the caller's own sessions (listed by GET /v1/me).",
        None,
        204,
    ),
    r(
        "POST",
        "/v1/orgs",
        Need::User,
        "Create an organization; the caller owns it.",
        Some("Org"),
        201,
    ),
    r(
        "GET",
        "/v1/orgs/{org}",
        Need::Role(Viewer),
        "An organization and the caller's role.",
        None,
        200,
    ),
    r(
        "DELETE",
        "/v1/orgs/{org}",
        Need::Role(Owner),
        "Delete an organization and everything in it.",
        None,
        204,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/members",
        Need::Role(Viewer),
        "Members and roles.",
        None,
        200,
    ),
    r(
        "PUT",
        "/v1/orgs/{org}/members",
        Need::Role(Admin),
        "Add a user by e-mail or change their role (owner role: owners only).",
        Some("Member"),
        200,
    ),
    r(
        "DELETE",
        "/v1/orgs/{org}/members/{user}",
        Need::Role(Admin),
        "Remove a member (an owner: owners only; one owner always remains).",
        None,
        204,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/robots",
        Need::Role(Admin),
        "Robot tokens (never the tokens themselves).",
        None,
        200,
    ),
    r(
        "POST",
        "/v1/orgs/{org}/robots",
        Need::Role(Admin),
        "Create a robot token with a role, optionally limited to apps; shown once.",
        Some("Robot"),
        201,
    ),
    r(
        "DELETE",
        "/v1/orgs/{org}/robots/{id}",
        Need::Role(Admin),
        "Revoke a robot token.",
        None,
        204,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/audit",
        Need::Role(Admin),
        "The audit log, newest first.",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/credentials",
        Need::Role(Viewer),
        "List credentials (?type, ?deleted, ?cursor, ?limit).",
        None,
        200,
    ),
    r(
        "POST",
        "/v1/orgs/{org}/credentials",
        Need::Role(Developer),
        "Upload a credential; validated, metadata derived, stored encrypted.",
        Some("Upload"),
        201,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/credentials/{id}",
        Need::Role(Viewer),
        "A credential's metadata, with its ETag.",
        None,
        200,
    ),
    r(
        "PUT",
        "/v1/orgs/{org}/credentials/{id}",
        Need::Role(Developer),
        "Replace a credential's file and secrets (If-Match).",
        Some("Upload"),
        200,
    ),
    r(
        "PATCH",
        "/v1/orgs/{org}/credentials/{id}",
        Need::Role(Developer),
        "Rename a credential (If-Match).",
        Some("Rename"),
        200,
    ),
    r(
        "DELETE",
        "/v1/orgs/{org}/credentials/{id}",
        Need::Role(Admin),
        "Soft-delete (restorable); returns the impact. Nothing is revoked at Apple or Google.",
        None,
        200,
    ),
    r(
        "POST",
        "/v1/orgs/{org}/credentials/{id}/restore",
        Need::Role(Admin),
        "Restore a deleted credential within the restore window.",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/credentials/{id}/impact",
        Need::Role(Viewer),
        "What stops working if it is revoked or deleted.",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/credentials/{id}/secret",
        Need::Role(Admin),
        "Export the raw secret material (audited).",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/expiring",
        Need::Role(Viewer),
        "Credentials expiring within ?days (default 30), soonest first.",
        None,
        200,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/apps",
        Need::Role(Viewer),
        "List apps.",
        None,
        200,
    ),
    r(
        "POST",
        "/v1/orgs/{org}/apps",
        Need::Role(Developer),
        "Create an app.",
        Some("App"),
        201,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/apps/{app}",
        Need::Role(Viewer),
        "An app with its build sets, pairs and slots.",
        None,
        200,
    ),
    r(
        "DELETE",
        "/v1/orgs/{org}/apps/{app}",
        Need::Role(Admin),
        "Delete an app (its credentials stay).",
        None,
        204,
    ),
    r(
        "PUT",
        BUILD_SET,
        Need::Role(Developer),
        "Create a build credential set, or swap its keystore (If-Match).",
        Some("BuildSet"),
        201,
    ),
    r(
        "PATCH",
        BUILD_SET,
        Need::Role(Developer),
        "Rename a build credential set (If-Match).",
        Some("Rename"),
        200,
    ),
    r(
        "DELETE",
        BUILD_SET,
        Need::Role(Admin),
        "Delete a build credential set (the default only when last).",
        None,
        204,
    ),
    r(
        "POST",
        "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
        Need::Role(Developer),
        "Make a build credential set the default.",
        None,
        200,
    ),
    r(
        "PUT",
        BUILD_PAIR,
        Need::Role(Developer),
        "Set the certificate + profile pair of a distribution type (checked against SPEC's rules).",
        Some("BuildPair"),
        201,
    ),
    r(
        "DELETE",
        BUILD_PAIR,
        Need::Role(Admin),
        "Remove a build credential pair.",
        None,
        204,
    ),
    r(
        "PUT",
        SLOT,
        Need::Role(Developer),
        "Assign a credential to a slot (fcm-key, push-key, …).",
        Some("Slot"),
        200,
    ),
    r(
        "DELETE",
        SLOT,
        Need::Role(Admin),
        "Clear a slot.",
        None,
        204,
    ),
    r(
        "GET",
        "/v1/orgs/{org}/apps/{app}/build-credentials",
        Need::Role(Developer),
        "One build's decrypted credentials (audited): ?platform=android&application_id[&name] or ?platform=ios&bundle_id&distribution.",
        None,
        200,
    ),
];

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
    json!({
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
        "Robot": s(&[("name", "string"), ("role", "string"), ("app_ids", "array")], &["name", "role"]),
        "Rename": s(&[("name", "string")], &["name"]),
        "App": s(&[("slug", "string")], &["slug"]),
        "BuildSet": s(&[("keystore_id", "string"), ("default", "boolean")], &["keystore_id"]),
        "BuildPair": s(&[("certificate_id", "string"), ("profile_id", "string")], &["certificate_id", "profile_id"]),
        "Slot": s(&[("credential_id", "string")], &["credential_id"]),
        "Upload": {
            "type": "object",
            "description": "Fields by type. android-keystore: keystore (base64), store_password, key_alias, key_password. google-service-account-key: json. fcm-legacy-key: server_key. apple-team: team_id, team_name, team_type. apple-distribution-certificate: p12 (base64) and password, or private_key (PEM PKCS#8) and certificate (Apple's .cer, base64 DER or PEM) with an optional password for the .p12 signet builds. apple-provisioning-profile: profile (base64), optional bundle_id and team_id to check. apple-push-key: p8, key_id, team_id. asc-api-key: p8, key_id, issuer_id, roles.",
            "properties": {
                "type": { "type": "string", "enum": ["android-keystore", "google-service-account-key", "fcm-legacy-key", "apple-team", "apple-distribution-certificate", "apple-provisioning-profile", "apple-push-key", "asc-api-key"] },
                "name": { "type": "string" }, "keystore": { "type": "string" },
                "store_password": { "type": "string" }, "key_alias": { "type": "string" },
                "key_password": { "type": "string" }, "json": { "type": "string" },
                "server_key": { "type": "string" }, "team_id": { "type": "string" },
                "team_name": { "type": "string" }, "team_type": { "type": "string" },
                "p12": { "type": "string" }, "password": { "type": "string" },
                "private_key": { "type": "string" }, "certificate": { "type": "string" },
                "profile": { "type": "string" }, "bundle_id": { "type": "string" },
                "p8": { "type": "string" }, "key_id": { "type": "string" },
                "issuer_id": { "type": "string" },
                "roles": { "type": "array", "items": { "type": "string" } }
            },
            "required": ["type"],
            "additionalProperties": false
        }
    })
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
            Need::Token | Need::User => errors.push(("401", "No valid token.")),
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
                "Too many failed logins for this address; see Retry-After.",
            ));
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
                Need::Token => "any token".to_owned(),
                Need::User => "a user session".to_owned(),
                Need::Role(r) => format!("role {} or higher", r.name()),
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
