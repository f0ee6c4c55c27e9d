//! The pages' shell (header, navigation, sign-out form), the vendored CSS and script, and
//! what several pages show the same way: dates, expiry badges, hidden CSRF fields.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;

use super::WebAccess;

const CSS: &str = include_str!("signet.css");
const JS: &str = include_str!("signet.js");

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

pub(crate) async fn css() -> Response {
    static_file(CSS, "text/css; charset=utf-8")
}

pub(crate) async fn js() -> Response {
    static_file(JS, "text/javascript; charset=utf-8")
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Now, in the store's milliseconds.
pub(crate) fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    now.unix_timestamp() * 1000 + i64::from(now.millisecond())
}

/// A date from milliseconds, `YYYY-MM-DD`.
pub(crate) fn date(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_or_else(
        |_| "—".to_owned(),
        |t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
    )
}

/// A date and time from milliseconds, `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn date_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_or_else(
        |_| "—".to_owned(),
        |t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        },
    )
}

/// The expiry of a credential with its badge: expired, or within 30 days.
pub(crate) fn expiry(expires_at: Option<i64>) -> Markup {
    let Some(at) = expires_at else {
        return html! { span.muted { "never" } };
    };
    let now = now_ms();
    let days = (at - now).div_euclid(DAY_MS);
    html! {
        (date(at))
        @if at <= now {
            " " span.badge.badge-expired { "expired" }
        } @else if at - now < 30 * DAY_MS {
            " " span.badge.badge-expiring { "expires in " (days) (if days == 1 { " day" } else { " days" }) }
        }
    }
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A page of an organization: the header with its navigation (only the pages the role
/// reaches) and the sign-out form.
pub(crate) fn org_page(access: &WebAccess, title: &str, body: &Markup) -> Response {
    let org = access.org.as_str();
    let nav = [
        ("GET", "/orgs/{org}", format!("/orgs/{org}"), "Overview"),
        (
            "GET",
            "/orgs/{org}/credentials",
            format!("/orgs/{org}/credentials"),
            "Credentials",
        ),
        (
            "GET",
            "/orgs/{org}/upload",
            format!("/orgs/{org}/upload"),
            "Upload",
        ),
        (
            "GET",
            "/orgs/{org}/deleted",
            format!("/orgs/{org}/deleted"),
            "Deleted",
        ),
        (
            "GET",
            "/orgs/{org}/audit",
            format!("/orgs/{org}/audit"),
            "Audit log",
        ),
        (
            "GET",
            "/orgs/{org}/members",
            format!("/orgs/{org}/members"),
            "Members",
        ),
        (
            "GET",
            "/orgs/{org}/robots",
            format!("/orgs/{org}/robots"),
            "Robots",
        ),
    ];
    let header = html! {
        header.top {
            a.brand href="/" { "signet" }
            span.org-name { (access.org_name) }
            span.role { (access.role.name()) }
            form #logout-form method="post" action="/logout" {
                (csrf(&access.session.csrf))
                button #logout-submit type="submit" { "Sign out" }
            }
            nav {
                @for (method, template, href, label) in &nav {
                    @if access.may(method, template) {
                        a href=(href) { (label) }
                    }
                }
            }
        }
    };
    shell(title, Some(&header), body).into_response()
}

/// The document around a page's body.
pub(crate) fn shell(title: &str, header: Option<&Markup>, body: &Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · signet" }
                    link rel="stylesheet" href="/static/signet.css";
                    script src="/static/signet.js" defer {}
                }
                body {
                    @if let Some(h) = header { (h) }
                    main {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
}

/// An error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    shell(
        title,
        None,
        &html! {
            p #error-message .form-error { (message) }
            p { a href="/" { "Back to signet" } }
        },
    )
}

/// A field of a form: its label, the control, and the refusal of it when there is one.
pub(crate) fn field(name: &str, label: &str, control: &Markup, error: Option<&str>) -> Markup {
    html! {
        div.field.has-error[error.is_some()] data-field=(name) {
            label for=(format!("f-{name}")) { (label) }
            (control)
            @if let Some(e) = error {
                p.field-error id=(format!("error-{name}")) { (e) }
            }
        }
    }
}
