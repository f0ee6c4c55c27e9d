//! The web page over HTTP, in process: sign in and out, each page for each role (200 or
//! 403, and the controls a role lacks not rendered), CSRF and cross-origin refusals that
//! change nothing, the security headers of every page, cookie flags, an upload refused at
//! its field storing nothing, the delete flow and restore, set default and rename, the
//! certificate download (read by openssl), and no secret in any page's HTML. Scenarios that
//! store run on SQLite and PostgreSQL.

mod fixtures;
mod world;

use signet_server::web::{CONFIRM_MISMATCH, CROSS_ORIGIN_REFUSED, CSP, CSRF_REFUSED};
use signet_store::{PageRequest, Role};

use fixtures::{postgres_store, sqlite_store};
use world::*;

const HOST: &str = "signet.test";

/// A page request with a session cookie (and the Host a browser sends).
fn page<'a>(method: &'a str, path: &'a str, session: &str) -> Call<'a> {
    call(method, path)
        .header("cookie", &format!("signet_session={session}"))
        .header("host", HOST)
}

/// A URL-encoded form POST.
fn form<'a>(path: &'a str, session: &str, pairs: &[(&str, &str)]) -> Call<'a> {
    let body = pairs
        .iter()
        .fold(
            form_urlencoded::Serializer::new(String::new()),
            |mut s, (k, v)| {
                s.append_pair(k, v);
                s
            },
        )
        .finish();
    page("POST", path, session)
        .raw_body(Some("application/x-www-form-urlencoded"), body.into_bytes())
}

/// A multipart form POST: `(name, filename, bytes)`.
fn multipart<'a>(path: &'a str, session: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Call<'a> {
    let boundary = "----signet-test-boundary";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    page("POST", path, session).raw_body(Some(Box::leak(content_type.into_boxed_str())), body)
}

/// The hidden CSRF field's value of a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn csrf(w: &World, session: &str) -> String {
    let r = page("GET", &format!("/orgs/{}", w.org), session)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    csrf_of(&r.text)
}

fn assert_page_headers(r: &Response, what: &str) {
    let h = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    assert_eq!(h("content-security-policy"), CSP, "{what}");
    assert!(CSP.contains("frame-ancestors 'none'"));
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "same-origin", "{what}");
    assert_eq!(h("cache-control"), "no-store", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
}

/// A viewer's session in `w`'s organization.
async fn viewer(w: &World) -> String {
    let s = &w.state.store;
    let email = format!("viewer-{}@example.com", fixtures::random_hex());
    s.create_user(&actor(), &email, PASSWORD, None)
        .await
        .unwrap();
    s.set_member(&actor(), &w.org, &email, Role::Viewer)
        .await
        .unwrap();
    let (_, _, token) = s.login(&actor(), &email, PASSWORD).await.unwrap();
    token.to_string()
}

async fn live_credentials(w: &World) -> usize {
    w.state
        .store
        .credentials(
            &w.org,
            None,
            false,
            &PageRequest {
                cursor: None,
                limit: Some(500),
            },
        )
        .await
        .unwrap()
        .items
        .len()
}

// ---------------------------------------------------------------------------------------
// Signing in and out.

#[tokio::test]
async fn sign_in_wrong_password_and_sign_out() {
    let w = World::sqlite().await;
    let r = call("GET", "/login").send(&w.app).await;
    assert_eq!(r.status, 200);
    assert_page_headers(&r, "GET /login");
    assert!(r.text.contains("id=\"login-form\""), "{}", r.text);

    let wrong = form(
        "/login",
        "",
        &[("email", &w.owner_email), ("password", "not it")],
    )
    .send(&w.app)
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(
        wrong
            .text
            .contains("<p class=\"form-error\" id=\"login-error\">wrong e-mail or password</p>"),
        "{}",
        wrong.text
    );
    assert!(wrong.headers.get("set-cookie").is_none());
    assert!(!wrong.text.contains("not it"));

    let ok = form(
        "/login",
        "",
        &[("email", &w.owner_email), ("password", PASSWORD)],
    )
    .send(&w.app)
    .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(ok.headers["location"], "/");
    let cookie = ok.headers["set-cookie"].to_str().unwrap().to_owned();
    let (pair, flags) = cookie.split_once(';').unwrap();
    let token = pair.strip_prefix("signet_session=").unwrap();
    assert!(
        token.starts_with("sgs_") || token.starts_with("sgu_"),
        "{token}"
    );
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"] {
        assert!(flags.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(!flags.contains("Secure"), "plain HTTP: {cookie}");

    // One organization: `/` goes to it.
    let r = page("GET", "/", token).send(&w.app).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], format!("/orgs/{}", w.org));
    let overview = page("GET", &format!("/orgs/{}", w.org), token)
        .send(&w.app)
        .await;
    assert_eq!(overview.status, 200);
    assert!(
        !overview.text.contains(token),
        "the session token is in the page"
    );

    let out = form("/logout", token, &[("csrf", &csrf_of(&overview.text))])
        .send(&w.app)
        .await;
    assert_eq!(out.status, 303, "{}", out.text);
    assert_eq!(out.headers["location"], "/login");
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("signet_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    );
    // The session is revoked, not just forgotten by the browser.
    let r = page("GET", &format!("/orgs/{}", w.org), token)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login");
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_tls_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::behind(sqlite_store(&dir).await, vec!["10.0.0.1".parse().unwrap()]).await;
    w.dir = Some(dir);
    let login = |proto: &'static str| {
        form(
            "/login",
            "",
            &[("email", &w.owner_email), ("password", PASSWORD)],
        )
        .from("10.0.0.1")
        .header("x-forwarded-for", "198.51.100.7")
        .header("x-forwarded-proto", proto)
    };
    let r = login("https").send(&w.app).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-signet_session=")
            && cookie.ends_with("; Path=/; Max-Age=2592000; Secure"),
        "{cookie}"
    );
    let r = login("http").send(&w.app).await;
    assert!(!r.headers["set-cookie"].to_str().unwrap().contains("Secure"));
    // The header from a client that is no trusted proxy counts for nothing.
    let r = form(
        "/login",
        "",
        &[("email", &w.owner_email), ("password", PASSWORD)],
    )
    .header("x-forwarded-proto", "https")
    .send(&w.app)
    .await;
    assert!(!r.headers["set-cookie"].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn pages_need_a_session_and_robots_are_no_session() {
    let w = World::sqlite().await;
    let r = call("GET", &format!("/orgs/{}", w.org)).send(&w.app).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login");
    let robot = w.robot_for_a().await;
    let r = page("GET", &format!("/orgs/{}", w.org), &robot)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 303, "a robot token is not a web session");
    let r = form("/logout", "sgs_nothing", &[("csrf", "x")])
        .send(&w.app)
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("sign in first"), "{}", r.text);
}

/// From the review: a second session cookie (planted by a sibling subdomain or over plain
/// HTTP, which a browser may send first) signs the user out instead of into the planter's
/// session; the sign-in form reads at most the API's anonymous 16 KiB; the fallback 404 has
/// the pages' headers too.
#[tokio::test]
async fn planted_cookies_big_sign_ins_and_unknown_urls() {
    let w = World::sqlite().await;
    let mine = w.owner.clone();
    let r = call("GET", &format!("/orgs/{}", w.org))
        .header(
            "cookie",
            &format!("signet_session=sgu_planted; signet_session={mine}"),
        )
        .header("host", HOST)
        .send(&w.app)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.headers["location"].to_str().unwrap()),
        (303, "/login")
    );
    let r = call("GET", &format!("/orgs/{}", w.org))
        .header("cookie", &format!("__Host-signet_session={mine}"))
        .header("host", HOST)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 200, "the secure cookie's name is read too");

    let big = "a".repeat(20 * 1024);
    let r = form("/login", "", &[("email", &big), ("password", "x")])
        .send(&w.app)
        .await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(!r.text.contains(&big[..1024]));

    let r = page("GET", &format!("/orgs/{}/nope", w.org), &mine)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404);
    assert_page_headers(&r, "the fallback 404");
}

// ---------------------------------------------------------------------------------------
// Each page for each role; headers; no secret in the HTML.

#[tokio::test]
async fn each_page_answers_each_role_with_headers_and_no_secret() {
    let w = World::sqlite().await;
    let viewer = viewer(&w).await;
    let org = w.org.to_string();
    let ks = w.keystore_a.to_string();
    // The keystore's bytes as stored, to look for in every page.
    let export = call("GET", &format!("/v1/orgs/{org}/credentials/{ks}/secret"))
        .token(&w.admin)
        .send(&w.app)
        .await;
    let keystore_b64 = export.json()["secret"]["keystore"]
        .as_str()
        .unwrap()
        .to_owned();
    // (path, least role)
    let pages = [
        (format!("/orgs/{org}"), Role::Viewer),
        (format!("/orgs/{org}/apps/a"), Role::Viewer),
        (format!("/orgs/{org}/credentials"), Role::Viewer),
        (format!("/orgs/{org}/credentials/{ks}"), Role::Viewer),
        (format!("/orgs/{org}/members"), Role::Viewer),
        (format!("/orgs/{org}/upload"), Role::Developer),
        (
            format!("/orgs/{org}/upload?type=apple-push-key"),
            Role::Developer,
        ),
        (
            format!("/orgs/{org}/credentials/{ks}/certificate.pem"),
            Role::Developer,
        ),
        (format!("/orgs/{org}/credentials/{ks}/delete"), Role::Admin),
        (format!("/orgs/{org}/deleted"), Role::Admin),
        (format!("/orgs/{org}/audit"), Role::Admin),
        (format!("/orgs/{org}/robots"), Role::Admin),
    ];
    let sessions = [
        (Role::Viewer, viewer.as_str()),
        (Role::Developer, w.developer.as_str()),
        (Role::Admin, w.admin.as_str()),
        (Role::Owner, w.owner.as_str()),
    ];
    let secrets = [
        STORE_PASS,
        KEY_PASS,
        PASSWORD,
        keystore_b64.as_str(),
        w.owner.as_str(),
        w.admin.as_str(),
        w.developer.as_str(),
        viewer.as_str(),
    ];
    for (path, need) in &pages {
        for (role, session) in sessions {
            let r = page("GET", path, session).send(&w.app).await;
            let what = format!("GET {path} as {}", role.name());
            assert_page_headers(&r, &what);
            if role >= *need {
                assert_eq!(r.status, 200, "{what}: {}", r.text);
            } else {
                assert_eq!(r.status, 403, "{what}: {}", r.text);
                assert!(
                    r.text.contains(&format!(
                        "this needs the {} role or higher; you are {}",
                        need.name(),
                        role.name()
                    )),
                    "{what}: {}",
                    r.text
                );
            }
            for secret in secrets {
                assert!(!r.text.contains(secret), "{what}: a secret is in the page");
            }
        }
    }
    for path in ["/static/signet.css", "/static/signet.js"] {
        let r = call("GET", path).send(&w.app).await;
        assert_eq!(r.status, 200);
        assert_page_headers(&r, path);
    }
    // Another organization's page is 404, as in the API.
    let (_, other) = w
        .state
        .store
        .create_user(&actor(), "other@example.com", PASSWORD, Some("Other"))
        .await
        .unwrap();
    let r = page("GET", &format!("/orgs/{}", other.unwrap().id), &w.owner)
        .send(&w.app)
        .await;
    assert_eq!(r.status, 404);
    assert_page_headers(&r, "another organization");
}

#[tokio::test]
async fn a_viewer_sees_no_upload_download_or_delete_control_and_gets_403_on_them() {
    let w = World::sqlite().await;
    let viewer = viewer(&w).await;
    let org = w.org.to_string();
    let ks = w.keystore_a.to_string();
    let controls = [
        "id=\"upload-link\"",
        "download-certificate",
        "id=\"delete-link\"",
        "set-default",
        "class=\"inline rename\"",
        "member-add-form",
        "restore-",
    ];
    for path in [
        format!("/orgs/{org}"),
        format!("/orgs/{org}/apps/a"),
        format!("/orgs/{org}/credentials"),
        format!("/orgs/{org}/credentials/{ks}"),
        format!("/orgs/{org}/members"),
    ] {
        let r = page("GET", &path, &viewer).send(&w.app).await;
        assert_eq!(r.status, 200, "{path}");
        for control in controls {
            assert!(
                !r.text.contains(control),
                "{path} shows {control} to a viewer"
            );
        }
        for nav in ["/upload\"", "/deleted\"", "/audit\"", "/robots\""] {
            assert!(!r.text.contains(nav), "{path} links {nav} for a viewer");
        }
    }
    // An admin sees them.
    let r = page("GET", &format!("/orgs/{org}/credentials/{ks}"), &w.admin)
        .send(&w.app)
        .await;
    assert!(r.text.contains("id=\"delete-link\""));
    assert!(r.text.contains("download-certificate"));

    let token = csrf(&w, &viewer).await;
    let before = live_credentials(&w).await;
    let paths = [
        format!("/orgs/{org}/credentials/{ks}/delete"),
        format!("/orgs/{org}/credentials/{ks}/restore"),
        format!("/orgs/{org}/apps/a/android/com.acme.app/build-sets/release/default"),
        format!("/orgs/{org}/robots"),
    ];
    let posts = [
        form(
            &paths[0],
            &viewer,
            &[("csrf", &token), ("confirm_name", "a")],
        ),
        form(&paths[1], &viewer, &[("csrf", &token)]),
        form(&paths[2], &viewer, &[("csrf", &token)]),
        form(
            &paths[3],
            &viewer,
            &[("csrf", &token), ("name", "x"), ("role", "viewer")],
        ),
    ];
    for post in posts {
        let path = post.path.to_owned();
        let r = post.send(&w.app).await;
        assert_eq!(r.status, 403, "POST {path}: {}", r.text);
    }
    let upload = multipart(
        &format!("/orgs/{org}/upload"),
        &viewer,
        &[
            ("csrf", None, token.as_bytes()),
            ("type", None, b"fcm-legacy-key"),
            ("server_key", None, b"AAAAbbbbccccddddeeee"),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(upload.status, 403, "{}", upload.text);
    assert!(
        upload
            .text
            .contains("this needs the developer role or higher; you are viewer")
    );
    assert_eq!(live_credentials(&w).await, before);
}

// ---------------------------------------------------------------------------------------
// CSRF and other origins.

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_origin_changes_nothing() {
    let w = World::sqlite().await;
    let org = w.org.to_string();
    let ks = w.keystore_a.to_string();
    let path = format!("/orgs/{org}/credentials/{ks}/delete");
    let token = csrf(&w, &w.admin).await;
    let name = w
        .state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .unwrap()
        .name;
    let refused = [
        (
            form(&path, &w.admin, &[("confirm_name", &name)]),
            CSRF_REFUSED,
        ),
        (
            form(
                &path,
                &w.admin,
                &[
                    ("csrf", "0123456789abcdef0123456789abcdef"),
                    ("confirm_name", &name),
                ],
            ),
            CSRF_REFUSED,
        ),
        // Another user's token is not this session's.
        (
            form(
                &path,
                &w.admin,
                &[("csrf", &csrf(&w, &w.owner).await), ("confirm_name", &name)],
            ),
            CSRF_REFUSED,
        ),
        (
            form(
                &path,
                &w.admin,
                &[("csrf", &token), ("confirm_name", &name)],
            )
            .header("origin", "https://evil.example"),
            CROSS_ORIGIN_REFUSED,
        ),
        (
            form(
                &path,
                &w.admin,
                &[("csrf", &token), ("confirm_name", &name)],
            )
            .header("origin", "null"),
            CROSS_ORIGIN_REFUSED,
        ),
        (
            form(
                &path,
                &w.admin,
                &[("csrf", &token), ("confirm_name", &name)],
            )
            .header("sec-fetch-site", "cross-site"),
            CROSS_ORIGIN_REFUSED,
        ),
        (
            form(
                "/login",
                "",
                &[("email", &w.owner_email), ("password", PASSWORD)],
            )
            .header("origin", "https://evil.example"),
            CROSS_ORIGIN_REFUSED,
        ),
    ];
    for (post, why) in refused {
        let r = post.send(&w.app).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains(why), "{}", r.text);
        assert!(r.headers.get("set-cookie").is_none());
        assert_page_headers(&r, "a refused POST");
    }
    // Nothing changed: the keystore is live, and no delete was audited.
    w.state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .unwrap();
    let audit = w
        .state
        .store
        .audit_log(&w.org, &PageRequest::default())
        .await
        .unwrap();
    assert!(!audit.items.iter().any(|a| a.action == "credential.delete"));
    // The same form, same origin, with its token: deletes.
    let r = form(
        &path,
        &w.admin,
        &[("csrf", &token), ("confirm_name", &name)],
    )
    .header("origin", &format!("http://{HOST}"))
    .header("sec-fetch-site", "same-origin")
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
}

// ---------------------------------------------------------------------------------------
// Uploads, delete, restore (both backends).

async fn upload_refused_at_its_field(w: &mut World) {
    let org = w.org.to_string();
    let token = csrf(w, &w.developer).await;
    let keystore = fixtures::keystore("upload", STORE_PASS, KEY_PASS);
    let before = live_credentials(w).await;
    let path = format!("/orgs/{org}/upload");
    let r = multipart(
        &path,
        &w.developer,
        &[
            ("csrf", None, token.as_bytes()),
            ("type", None, b"android-keystore"),
            ("name", None, b"Upload key"),
            ("keystore", Some("upload.jks"), &keystore),
            ("store_password", None, b"wrong-store-pass"),
            ("key_alias", None, b""),
            ("key_password", None, KEY_PASS.as_bytes()),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text
            .contains("<div class=\"field has-error\" data-field=\"store_password\">"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            "<p class=\"field-error\" id=\"error-store_password\">keystore password is incorrect"
        ),
        "{}",
        r.text
    );
    assert!(r.text.contains("value=\"Upload key\""), "the name is kept");
    assert!(!r.text.contains("wrong-store-pass"));
    assert!(!r.text.contains(KEY_PASS));
    assert_eq!(live_credentials(w).await, before, "nothing stored");

    let r = multipart(
        &path,
        &w.developer,
        &[
            ("csrf", None, token.as_bytes()),
            ("type", None, b"android-keystore"),
            ("name", None, b"Upload key"),
            ("keystore", Some("upload.jks"), &keystore),
            ("store_password", None, STORE_PASS.as_bytes()),
            ("key_password", None, KEY_PASS.as_bytes()),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(live_credentials(w).await, before + 1);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let shown = page("GET", &location, &w.developer).send(&w.app).await;
    assert!(
        shown.text.contains("<dd class=\"alias\">upload</dd>"),
        "{}",
        shown.text
    );
    assert!(!shown.text.contains(STORE_PASS));
    let audit = w
        .state
        .store
        .audit_log(&w.org, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "credential.create");

    // A file that is no keystore: refused at `keystore`.
    let r = multipart(
        &path,
        &w.developer,
        &[
            ("csrf", None, token.as_bytes()),
            ("type", None, b"android-keystore"),
            ("keystore", Some("x.jks"), b"not a keystore"),
            ("store_password", None, STORE_PASS.as_bytes()),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"error-keystore\""), "{}", r.text);
    // A required field left empty: refused at it.
    let r = multipart(
        &path,
        &w.developer,
        &[
            ("csrf", None, token.as_bytes()),
            ("type", None, b"fcm-legacy-key"),
            ("server_key", None, b""),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("id=\"error-server_key\""), "{}", r.text);
    assert_eq!(live_credentials(w).await, before + 1);
}

async fn delete_and_restore(w: &mut World) {
    let org = w.org.to_string();
    let ks = w.keystore_a.to_string();
    let c = w
        .state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .unwrap();
    let confirm = page(
        "GET",
        &format!("/orgs/{org}/credentials/{ks}/delete"),
        &w.admin,
    )
    .send(&w.app)
    .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm
            .text
            .contains("<p id=\"impact-summary\">builds using it can no longer be signed"),
        "{}",
        confirm.text
    );
    assert!(
        confirm
            .text
            .contains("<li>app a / android com.acme.app / build set release</li>"),
        "{}",
        confirm.text
    );
    assert!(
        confirm
            .text
            .contains("Nothing is revoked at Apple or Google.")
    );
    let token = csrf_of(&confirm.text);
    let path = format!("/orgs/{org}/credentials/{ks}/delete");

    let wrong = form(
        &path,
        &w.admin,
        &[("csrf", &token), ("confirm_name", "not its name")],
    )
    .send(&w.app)
    .await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.text.contains(&format!(
            "<p class=\"field-error\" id=\"error-confirm_name\">{CONFIRM_MISMATCH}</p>"
        )),
        "{}",
        wrong.text
    );
    w.state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .expect("a wrong name deletes nothing");

    let right = form(
        &path,
        &w.admin,
        &[("csrf", &token), ("confirm_name", &c.name)],
    )
    .send(&w.app)
    .await;
    assert_eq!(right.status, 303, "{}", right.text);
    assert_eq!(right.headers["location"], format!("/orgs/{org}/deleted"));
    assert!(
        w.state
            .store
            .credential(&w.org, &w.keystore_a, false)
            .await
            .is_err()
    );
    let deleted = page("GET", &format!("/orgs/{org}/deleted"), &w.admin)
        .send(&w.app)
        .await;
    assert!(
        deleted
            .text
            .contains(&format!("<tr class=\"deleted\" data-id=\"{ks}\">")),
        "{}",
        deleted.text
    );
    assert!(deleted.text.contains(&format!("id=\"restore-{ks}\"")));

    let restored = form(
        &format!("/orgs/{org}/credentials/{ks}/restore"),
        &w.admin,
        &[("csrf", &token)],
    )
    .send(&w.app)
    .await;
    assert_eq!(restored.status, 303, "{}", restored.text);
    w.state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .expect("restored");
    let audit = page(
        "GET",
        &format!("/orgs/{org}/audit?credential={ks}"),
        &w.admin,
    )
    .send(&w.app)
    .await;
    let actions: Vec<&str> = audit
        .text
        .match_indices("<tr class=\"audit-record\">")
        .map(|(i, _)| &audit.text[i..])
        .filter_map(|row| row.split("<td data-label=\"Action\">").nth(1))
        .filter_map(|rest| rest.split('<').next())
        .collect();
    assert_eq!(
        actions,
        [
            "credential.restore",
            "credential.delete",
            "credential.create"
        ]
    );
    let filtered = page(
        "GET",
        &format!("/orgs/{org}/audit?action=credential.delete"),
        &w.admin,
    )
    .send(&w.app)
    .await;
    assert_eq!(
        filtered.text.matches("<tr class=\"audit-record\">").count(),
        1
    );
}

async fn set_default_and_rename(w: &mut World) {
    let org = w.org.to_string();
    let store = &w.state.store;
    store
        .put_build_set(
            &actor(),
            &w.org,
            &w.app_a,
            "com.acme.app",
            "beta",
            &w.keystore_b.clone().into(),
            false,
            None,
            &signet_store::Scope::Org,
        )
        .await
        .unwrap();
    let app_page = page("GET", &format!("/orgs/{org}/apps/a"), &w.developer)
        .send(&w.app)
        .await;
    assert_eq!(app_page.status, 200);
    assert!(app_page.text.contains("<tr class=\"build-set\" data-name=\"release\"><td data-label=\"Build set\">release <span class=\"badge badge-default\">default</span>"), "{}", app_page.text);
    let token = csrf_of(&app_page.text);
    let base = format!("/orgs/{org}/apps/a/android/com.acme.app/build-sets");
    let r = form(
        &format!("{base}/beta/default"),
        &w.developer,
        &[("csrf", &token)],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sets = store
        .app_credentials(&w.org, &w.app_a)
        .await
        .unwrap()
        .build_sets;
    assert!(sets.iter().any(|s| s.name == "beta" && s.is_default));
    assert!(sets.iter().any(|s| s.name == "release" && !s.is_default));
    let r = form(
        &format!("{base}/beta/rename"),
        &w.developer,
        &[("csrf", &token), ("new_name", "production")],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sets = store
        .app_credentials(&w.org, &w.app_a)
        .await
        .unwrap()
        .build_sets;
    assert!(sets.iter().any(|s| s.name == "production" && s.is_default));
    let app_page = page("GET", &format!("/orgs/{org}/apps/a"), &w.developer)
        .send(&w.app)
        .await;
    assert!(app_page.text.contains("data-name=\"production\""));
    // The keystore's facts, with copy buttons.
    let c = store
        .credential(&w.org, &w.keystore_b, false)
        .await
        .unwrap();
    let signet_store::Metadata::AndroidKeystore(k) = &c.metadata else {
        panic!("not a keystore")
    };
    for (class, value) in [
        ("md5", &k.certificate.md5),
        ("sha1", &k.certificate.sha1),
        ("sha256", &k.certificate.sha256),
        ("key-hash", &k.certificate.base64_sha1),
    ] {
        assert!(
            app_page.text.contains(&format!(
                "<code class=\"{class}\">{value}</code><button class=\"copy\" type=\"button\" data-copy=\"{value}\""
            )),
            "{class}: {}",
            app_page.text
        );
    }
}

async fn members_and_robots(w: &mut World) {
    let org = w.org.to_string();
    let store = &w.state.store;
    store
        .create_user(&actor(), "new@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = csrf(w, &w.admin).await;
    let r = form(
        &format!("/orgs/{org}/members"),
        &w.admin,
        &[
            ("csrf", &token),
            ("email", "new@example.com"),
            ("role", "developer"),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let member = store
        .members(&w.org)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.email == "new@example.com")
        .unwrap();
    assert_eq!(member.role, Role::Developer);
    // An admin cannot make an owner.
    let r = form(
        &format!("/orgs/{org}/members/{}/role", member.user_id),
        &w.admin,
        &[("csrf", &token), ("role", "owner")],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 403);
    assert!(
        r.text
            .contains("only an owner can grant or take the owner role")
    );
    let r = form(
        &format!("/orgs/{org}/members/{}/role", member.user_id),
        &w.admin,
        &[("csrf", &token), ("role", "viewer")],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        store.role_of(&w.org, &member.user_id).await.unwrap(),
        Some(Role::Viewer)
    );
    let r = form(
        &format!("/orgs/{org}/members/{}/remove", member.user_id),
        &w.admin,
        &[("csrf", &token)],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(store.role_of(&w.org, &member.user_id).await.unwrap(), None);

    let r = form(
        &format!("/orgs/{org}/robots"),
        &w.admin,
        &[
            ("csrf", &token),
            ("name", "ci"),
            ("role", "developer"),
            ("expires_in_days", ""),
            ("app_ids", w.app_a.id.as_str()),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let robot_token = r
        .text
        .split("id=\"robot-token\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_owned();
    assert!(robot_token.starts_with("sgr_"));
    let principal = store.authenticate(&robot_token).await.unwrap();
    assert_eq!(
        principal.app_ids().unwrap(),
        std::slice::from_ref(&w.app_a.id)
    );
    // Shown once: the robots page does not show it again.
    let again = page("GET", &format!("/orgs/{org}/robots"), &w.admin)
        .send(&w.app)
        .await;
    assert!(!again.text.contains(&robot_token));
    let id = principal.token_id().to_string();
    let r = form(
        &format!("/orgs/{org}/robots/{id}/revoke"),
        &w.admin,
        &[("csrf", &token)],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 303);
    assert!(store.authenticate(&robot_token).await.is_err());
    // A bad expiry is refused at its field.
    let r = form(
        &format!("/orgs/{org}/robots"),
        &w.admin,
        &[
            ("csrf", &token),
            ("name", "ci"),
            ("role", "developer"),
            ("expires_in_days", "0"),
        ],
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text
            .contains("<p class=\"field-error\" id=\"error-expires_in_days\">1 to 3650</p>"),
        "{}",
        r.text
    );
}

macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let mut w = super::World::new(super::sqlite_store(&dir).await).await;
                    super::$scenario(&mut w).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let mut w = super::World::new(super::postgres_store().await).await;
                    super::$scenario(&mut w).await;
                }
            )*
        }
    };
}

scenarios!(
    upload_refused_at_its_field,
    delete_and_restore,
    set_default_and_rename,
    members_and_robots,
);

// ---------------------------------------------------------------------------------------
// The certificate download, read by openssl.

#[tokio::test]
async fn the_certificate_download_is_the_keystores_certificate() {
    let w = World::sqlite().await;
    let org = w.org.to_string();
    let ks = w.keystore_a.to_string();
    let r = page(
        "GET",
        &format!("/orgs/{org}/credentials/{ks}/certificate.pem"),
        &w.developer,
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/x-pem-file");
    assert!(r.text.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(
        r.text.contains("\r\n"),
        "keytool -rfc's CRLF between base64 lines"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cert.pem");
    std::fs::write(&file, &r.text).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = w
        .state
        .store
        .credential(&w.org, &w.keystore_a, false)
        .await
        .unwrap();
    let signet_store::Metadata::AndroidKeystore(k) = &c.metadata else {
        panic!("not a keystore")
    };
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        format!("sha256 Fingerprint={}", k.certificate.sha256)
    );
    let audit = w
        .state
        .store
        .audit_log(&w.org, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "credential.certificate");
    // Not a keystore: 404.
    let team = upload(
        &w.state.store,
        &w.org,
        serde_json::json!({ "type": "apple-team", "team_id": "ABCDE12345" }),
    )
    .await;
    let r = page(
        "GET",
        &format!("/orgs/{org}/credentials/{team}/certificate.pem"),
        &w.developer,
    )
    .send(&w.app)
    .await;
    assert_eq!(r.status, 404);
}
