//! The route table: every endpoint of the API with its handler, the least role it needs
//! and which tokens may call it. The router is built from it ([`router`]), with
//! [`crate::auth::guard`] enforcing each entry's rule before its handler runs, and the
//! OpenAPI document is generated from it ([`crate::openapi`]): the documented access
//! rules are the enforced ones.

use std::sync::Arc;

use axum::{
    Router,
    routing::{MethodFilter, MethodRouter, on},
};
use signet_store::Role::{Admin, Developer, Owner, Viewer};

use crate::{
    AppState,
    api::{self, account, apns, apple, apps, credentials, keys, orgs, signing},
};

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone.
    Anonymous,
    /// Any valid token (see [`Tokens`] for which kinds).
    Token,
    /// At least this role in the path's organization.
    Role(signet_store::Role),
}

/// Which kinds of token may call an endpoint that needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// Users' sessions only: robots cannot (robot management, sessions, organizations).
    Users,
    /// Users, and robots not limited to apps.
    Org,
    /// Also robots limited to apps: the route acts on one app of the path (`{app}`, which
    /// the guard checks against the robot's apps), or cannot reach a secret the robot
    /// could not already reach.
    AppScoped,
}

/// One endpoint.
#[derive(Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template (axum's `{param}` syntax, which is OpenAPI's too).
    pub path: &'static str,
    /// Who may call it.
    pub need: Need,
    /// Which tokens may call it.
    pub tokens: Tokens,
    /// What it does.
    pub summary: &'static str,
    /// The request body's schema, if it takes one.
    pub body: Option<&'static str>,
    /// The success status.
    pub ok: u16,
    /// The handler, on a method filter.
    pub handler: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
    /// The handler finds the `{app}` in the same query as what it reads, and checks it
    /// against the caller's scope there (the CI fetch): the guard does not look it up.
    pub app_in_query: bool,
    /// A body limit other than the API's 4 MiB.
    pub body_limit: Option<usize>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const fn route(
    method: &'static str,
    path: &'static str,
    need: Need,
    handler: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
) -> Route {
    Route {
        method,
        path,
        need,
        tokens: Tokens::Org,
        summary: "",
        body: None,
        ok: 200,
        handler,
        app_in_query: false,
        body_limit: None,
    }
}

impl Route {
    const fn doc(mut self, summary: &'static str) -> Route {
        self.summary = summary;
        self
    }

    const fn body(mut self, schema: &'static str) -> Route {
        self.body = Some(schema);
        self
    }

    const fn ok(mut self, status: u16) -> Route {
        self.ok = status;
        self
    }

    /// Robots limited to apps may call it.
    const fn apps(mut self) -> Route {
        self.tokens = Tokens::AppScoped;
        self
    }

    /// The handler resolves `{app}` in its own query, with the caller's scope.
    const fn app_in_query(mut self) -> Route {
        self.app_in_query = true;
        self
    }

    /// Takes bodies up to `bytes`.
    const fn body_limit(mut self, bytes: usize) -> Route {
        self.body_limit = Some(bytes);
        self
    }

    /// Only users' sessions may call it.
    const fn users(mut self) -> Route {
        self.tokens = Tokens::Users;
        self
    }

    /// The method as axum's filter.
    pub fn method_filter(&self) -> MethodFilter {
        match self.method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            other => unreachable!("no route uses {other}"),
        }
    }
}

/// A sign request carries a JAR signature file, which lists every entry of the archive:
/// 32 MiB takes a .SF of some 250,000 entries, base64-encoded.
const SIGN_BODY_LIMIT: usize = 32 * 1024 * 1024;

const BUILD_SET: &str = "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}";
const BUILD_PAIR: &str = "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/build-pairs/{distribution}";
const SLOT: &str = "/v1/orgs/{org}/apps/{app}/slots/{platform}/{identifier}/{slot}";

/// Every endpoint of the API.
pub static ROUTES: &[Route] = &[
    route("GET", "/healthz", Need::Anonymous, |m| on(m, api::healthz))
        .doc("Liveness: the process answers."),
    route("GET", "/readyz", Need::Anonymous, |m| on(m, api::readyz))
        .doc("Readiness: the database answers."),
    route("GET", "/v1/openapi.json", Need::Anonymous, |m| on(m, api::openapi))
        .doc("This document."),
    route("POST", "/v1/setup", Need::Anonymous, |m| on(m, account::setup))
        .doc("First run: spend the setup token to create the first user and organization.")
        .body("Setup")
        .ok(201),
    route("POST", "/v1/auth/login", Need::Anonymous, |m| on(m, account::login))
        .doc("Log in: returns a session token, once.")
        .body("Login")
        .ok(201),
    route("POST", "/v1/auth/logout", Need::Token, |m| on(m, account::logout))
        .doc("Revoke the session used.")
        .ok(204)
        .users(),
    route("GET", "/v1/me", Need::Token, |m| on(m, account::me))
        .doc("The caller: user and organizations, or robot.")
        .apps(),
    route("DELETE", "/v1/me/sessions/{id}", Need::Token, |m| on(m, account::revoke_session))
        .doc("Revoke one of the caller's own sessions (listed by GET /v1/me).")
        .ok(204)
        .users(),
    route("POST", "/v1/orgs", Need::Token, |m| on(m, account::create_org))
        .doc("Create an organization; the caller owns it.")
        .body("Org")
        .ok(201)
        .users(),
    route("GET", "/v1/orgs/{org}", Need::Role(Viewer), |m| on(m, orgs::get_org))
        .doc("An organization and the caller's role."),
    route("DELETE", "/v1/orgs/{org}", Need::Role(Owner), |m| on(m, orgs::delete_org))
        .doc("Delete an organization and everything in it.")
        .ok(204),
    route("GET", "/v1/orgs/{org}/members", Need::Role(Viewer), |m| on(m, orgs::members))
        .doc("Members and roles."),
    route("PUT", "/v1/orgs/{org}/members", Need::Role(Admin), |m| on(m, orgs::set_member))
        .doc("Add a user by e-mail or change their role (owner role: owners only).")
        .body("Member")
        .users(),
    route("DELETE", "/v1/orgs/{org}/members/{user}", Need::Role(Admin), |m| on(m, orgs::remove_member))
        .doc("Remove a member (an owner: owners only; one owner always remains).")
        .ok(204)
        .users(),
    route("GET", "/v1/orgs/{org}/robots", Need::Role(Admin), |m| on(m, orgs::robots))
        .doc("Robot tokens (never the tokens themselves).")
        .users(),
    route("POST", "/v1/orgs/{org}/robots", Need::Role(Admin), |m| on(m, orgs::create_robot))
        .doc("Create a robot token with a role, optionally limited to apps; shown once.")
        .body("Robot")
        .ok(201)
        .users(),
    route("DELETE", "/v1/orgs/{org}/robots/{id}", Need::Role(Admin), |m| on(m, orgs::revoke_robot))
        .doc("Revoke a robot token.")
        .ok(204)
        .users(),
    route("GET", "/v1/orgs/{org}/audit", Need::Role(Admin), |m| on(m, orgs::audit))
        .doc("The audit log, newest first (?action=sign: only signatures made with held keys; ?cursor, ?limit)."),
    route("GET", "/v1/orgs/{org}/credentials", Need::Role(Viewer), |m| on(m, credentials::list))
        .doc("List credentials (?type, ?deleted, ?cursor, ?limit)."),
    route("POST", "/v1/orgs/{org}/credentials", Need::Role(Developer), |m| on(m, credentials::create))
        .doc("Upload a credential; validated, metadata derived, stored encrypted.")
        .body("Upload")
        .ok(201)
        .apps(),
    route("POST", "/v1/orgs/{org}/credentials/generate", Need::Role(Developer), |m| on(m, keys::generate_keystore))
        .doc("Generate an android-keystore on the server (PKCS#12, RSA 2048, random alias and password unless given); returns its metadata, never the key or password.")
        .body("GenerateKeystore")
        .ok(201)
        .apps(),
    route("GET", "/v1/orgs/{org}/credentials/{id}", Need::Role(Viewer), |m| on(m, credentials::get))
        .doc("A credential's metadata, with its ETag."),
    route("PUT", "/v1/orgs/{org}/credentials/{id}", Need::Role(Developer), |m| on(m, credentials::replace))
        .doc("Replace a credential's file and secrets (If-Match).")
        .body("Upload"),
    route("PATCH", "/v1/orgs/{org}/credentials/{id}", Need::Role(Developer), |m| on(m, credentials::rename))
        .doc("Rename a credential (If-Match).")
        .body("Rename"),
    route("DELETE", "/v1/orgs/{org}/credentials/{id}", Need::Role(Admin), |m| on(m, credentials::delete))
        .doc("Soft-delete (restorable); returns the impact. Nothing is revoked at Apple or Google."),
    route("POST", "/v1/orgs/{org}/credentials/{id}/restore", Need::Role(Admin), |m| on(m, credentials::restore))
        .doc("Restore a deleted credential within the restore window."),
    route("GET", "/v1/orgs/{org}/credentials/{id}/impact", Need::Role(Viewer), |m| on(m, credentials::impact))
        .doc("What stops working if it is revoked or deleted."),
    route("GET", "/v1/orgs/{org}/credentials/{id}/secret", Need::Role(Admin), |m| on(m, credentials::export))
        .doc("Export the raw secret material (audited)."),
    route("GET", "/v1/orgs/{org}/credentials/{id}/versions", Need::Role(Viewer), |m| on(m, credentials::versions))
        .doc("Previous versions kept since the credential was replaced (restorable until purge_after)."),
    route("GET", "/v1/orgs/{org}/credentials/{id}/versions/{version}/secret", Need::Role(Admin), |m| on(m, credentials::export_version))
        .doc("Export a previous version's secret material (audited)."),
    route("POST", "/v1/orgs/{org}/credentials/{id}/versions/{version}/restore", Need::Role(Admin), |m| on(m, credentials::restore_version))
        .doc("Make a previous version live again (If-Match on the credential); the live one is kept in turn."),
    route("GET", "/v1/orgs/{org}/expiring", Need::Role(Viewer), |m| on(m, credentials::expiring))
        .doc("Credentials expiring within ?days (default 30), soonest first."),
    route("POST", "/v1/orgs/{org}/certificate-requests", Need::Role(Developer), |m| on(m, keys::create_request))
        .doc("Make an Apple certificate request: an RSA 2048 key generated and kept on the server, and its CSR (PEM) to upload on Apple's portal.")
        .body("CertificateRequest")
        .ok(201),
    route("GET", "/v1/orgs/{org}/certificate-requests", Need::Role(Viewer), |m| on(m, keys::list_requests))
        .doc("List certificate requests (?cursor, ?limit), completed ones too."),
    route("GET", "/v1/orgs/{org}/certificate-requests/{id}", Need::Role(Viewer), |m| on(m, keys::get_request))
        .doc("One certificate request, with its CSR."),
    route("POST", "/v1/orgs/{org}/certificate-requests/{id}/certificate", Need::Role(Developer), |m| on(m, keys::complete_request))
        .doc("Join the certificate Apple issued for the request (DER base64 or PEM; its public key must be the request's) to the kept key: stored as an apple-distribution-certificate (.p12), the request completed once.")
        .body("RequestCertificate")
        .ok(201),
    route("GET", "/v1/orgs/{org}/apps", Need::Role(Viewer), |m| on(m, apps::list))
        .doc("List apps."),
    route("POST", "/v1/orgs/{org}/apps", Need::Role(Developer), |m| on(m, apps::create))
        .doc("Create an app.")
        .body("App")
        .ok(201),
    route("GET", "/v1/orgs/{org}/apps/{app}", Need::Role(Viewer), |m| on(m, apps::get))
        .doc("An app with its build sets, pairs and slots.")
        .apps(),
    route("DELETE", "/v1/orgs/{org}/apps/{app}", Need::Role(Admin), |m| on(m, apps::delete))
        .doc("Delete an app (its credentials stay).")
        .ok(204),
    route("PUT", BUILD_SET, Need::Role(Developer), |m| on(m, apps::put_build_set))
        .doc("Create a build credential set, or swap its keystore (If-Match).")
        .body("BuildSet")
        .ok(201)
        .apps(),
    route("PATCH", BUILD_SET, Need::Role(Developer), |m| on(m, apps::rename_build_set))
        .doc("Rename a build credential set (If-Match).")
        .body("Rename")
        .apps(),
    route("DELETE", BUILD_SET, Need::Role(Admin), |m| on(m, apps::delete_build_set))
        .doc("Delete a build credential set (the default only when last).")
        .ok(204)
        .apps(),
    route("POST", "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default", Need::Role(Developer), |m| on(m, apps::make_default))
        .doc("Make a build credential set the default.")
        .apps(),
    route("POST", "/v1/orgs/{org}/apps/{app}/android/{application_id}/play-app-signing", Need::Role(Admin), |m| on(m, keys::opt_in_play_signing))
        .doc("Opt in to Play App Signing: the default build set's keystore is marked as the app-signing key Google holds (kept), a new upload keystore is generated and made the default (build set `upload` unless named); once, in one transaction. Returns the upload certificate PEM.")
        .body("PlayAppSigning")
        .ok(201)
        .apps(),
    route("PUT", BUILD_PAIR, Need::Role(Developer), |m| on(m, apps::put_build_pair))
        .doc("Set the certificate + profile pair of a distribution type (checked against SPEC's rules).")
        .body("BuildPair")
        .ok(201)
        .apps(),
    route("DELETE", BUILD_PAIR, Need::Role(Admin), |m| on(m, apps::delete_build_pair))
        .doc("Remove a build credential pair.")
        .ok(204)
        .apps(),
    route("PUT", SLOT, Need::Role(Developer), |m| on(m, apps::set_slot))
        .doc("Assign a credential to a slot (fcm-key, push-key, …).")
        .body("Slot")
        .apps(),
    route("DELETE", SLOT, Need::Role(Admin), |m| on(m, apps::remove_slot))
        .doc("Clear a slot.")
        .ok(204)
        .apps(),
    route("POST", "/v1/orgs/{org}/apps/{app}/apns-token", Need::Role(Developer), |m| on(m, apns::token))
        .doc("An ES256 APNs provider token minted with the push key of the app's bundle id (the only one with a push key when bundle_id is absent); cached up to 50 minutes unless fresh (audited).")
        .body("ApnsToken")
        .apps(),
    route("GET", "/v1/orgs/{org}/apps/{app}/build-credentials", Need::Role(Developer), |m| on(m, apps::build_credentials))
        .doc("One build's decrypted credentials (audited): ?platform=android&application_id[&name] or ?platform=ios&bundle_id&distribution.")
        .apps()
        .app_in_query(),
    route("POST", "/v1/orgs/{org}/apps/{app}/sign", Need::Role(Developer), |m| on(m, signing::sign))
        .doc("Sign an artifact's to-be-signed messages (a JAR .SF, APK v2/v3 signed data, an IPA's CMS signed attributes) with its build's key, which never leaves the server; each signature is audited with the digest it attests. No messages: only the signer (certificates; an iOS pair's profile).")
        .body("Sign")
        .body_limit(SIGN_BODY_LIMIT)
        .apps(),
    // The Apple side through App Store Connect (issue 12), with the app's asc-api-key slot.
    route("POST", "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/setup", Need::Role(Developer), |m| on(m, apple::setup))
        .doc("Make the bundle id ready to build for a distribution at Apple: bundle id, capabilities (from ?entitlements), certificate (key made here), profile, build pair; reuses what Apple still lists.")
        .body("AppleSetup")
        .apps(),
    route("POST", "/v1/orgs/{org}/apps/{app}/apple/doctor", Need::Role(Developer), |m| on(m, apple::doctor))
        .doc("Check the app's build pairs at Apple (invalid or expired profiles, certificates Apple no longer lists, missing devices); with fix, set them up again.")
        .body("AppleDoctor")
        .apps(),
    route("GET", "/v1/orgs/{org}/apps/{app}/apple/devices", Need::Role(Developer), |m| on(m, apple::devices))
        .doc("The team's registered devices (?bundle_id names the key's slot).")
        .apps(),
    route("POST", "/v1/orgs/{org}/apps/{app}/apple/devices", Need::Role(Developer), |m| on(m, apple::add_device))
        .doc("Register a device with the team.")
        .body("AppleDevice")
        .ok(201)
        .apps(),
    route("GET", "/v1/orgs/{org}/apps/{app}/apple/certificates", Need::Role(Developer), |m| on(m, apple::certificates))
        .doc("Apple's signing certificates of the team, with the stored certificate holding each key and what uses it.")
        .apps(),
    route("DELETE", "/v1/orgs/{org}/apps/{app}/apple/certificates/{id}", Need::Role(Admin), |m| on(m, apple::revoke))
        .doc("Revoke a certificate at Apple (profiles allowing it become invalid); returns it with the impact."),
];

/// The router of every route of [`ROUTES`], each behind the guard of its entry.
pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        let mut method_router = (route.handler)(route.method_filter());
        if route.need == Need::Anonymous {
            method_router = method_router.layer(axum::extract::DefaultBodyLimit::max(
                crate::ANONYMOUS_BODY_LIMIT,
            ));
        } else {
            if let Some(limit) = route.body_limit {
                method_router = method_router.layer(axum::extract::DefaultBodyLimit::max(limit));
            }
            method_router = method_router.route_layer(axum::middleware::from_fn_with_state(
                (Arc::clone(state), route),
                crate::auth::guard,
            ));
        }
        router.route(route.path, method_router)
    })
}
