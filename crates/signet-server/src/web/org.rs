//! An organization's pages: the overview (apps, what expires within 30 days), the audit
//! log, members and robots.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
};
use maud::{Markup, html};
use serde::Deserialize;
use signet_store::{AppId, AuditFilter, Named, PageRequest, Role, TokenId, UserId};

use super::{WebAccess, WebError, WebResult, layout, see_other};
use crate::{AppState, api::path_id};

/// `GET /orgs/{org}`: apps, and credentials expiring within 30 days (expired included).
pub(crate) async fn overview(State(state): State<Arc<AppState>>, access: WebAccess) -> WebResult {
    let all = PageRequest {
        cursor: None,
        limit: Some(500),
    };
    let apps = state.store.apps(&access.org, &all).await?;
    let expiring = state
        .store
        .expiring(&access.org, 30 * layout::DAY_MS, &all)
        .await?;
    let org = access.org.as_str();
    let body = html! {
        h2 { "Apps" }
        @if apps.items.is_empty() { p.muted { "No apps yet." } }
        table #apps {
            tbody {
                @for app in &apps.items {
                    tr.app data-slug=(app.slug) {
                        td { a.app-link href=(format!("/orgs/{org}/apps/{}", app.slug)) { (app.slug) } }
                        td.muted { "since " (layout::date(app.created_at)) }
                    }
                }
            }
        }
        @if apps.next_cursor.is_some() { p.muted { "The first 500 apps are shown." } }
        h2 { "Expiring within 30 days" }
        @if expiring.items.is_empty() { p.muted { "Nothing expires within 30 days." } }
        div.table-wrap {
            table #expiring .stack {
                thead { tr { th { "Credential" } th { "Type" } th { "Expires" } } }
                tbody {
                    @for c in &expiring.items {
                        tr.expiring data-id=(c.id) {
                            td data-label="Credential" { a href=(format!("/orgs/{org}/credentials/{}", c.id)) { (c.name) } }
                            td data-label="Type" { (c.kind.name()) }
                            td data-label="Expires" { (layout::expiry(c.expires_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::org_page(&access, &access.org_name, &body))
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    credential: Option<String>,
    cursor: Option<String>,
}

fn given(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 255)
}

/// `GET /orgs/{org}/audit?action=&actor=&credential=`: newest first, 100 a page.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    let filter = AuditFilter {
        action: given(q.action.as_ref()),
        actor: given(q.actor.as_ref()),
        target: given(q.credential.as_ref()),
    };
    let page = state
        .store
        .audit_log_where(
            &access.org,
            &filter,
            &PageRequest {
                cursor: q.cursor.clone(),
                limit: Some(100),
            },
        )
        .await?;
    // Members by their audit name (`user:<id>`), so the log reads as e-mails.
    let members: std::collections::HashMap<String, String> = state
        .store
        .members(&access.org)
        .await?
        .into_iter()
        .map(|m| (format!("user:{}", m.user_id), m.email))
        .collect();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let next = page.next_cursor.as_ref().map(|c| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("action", &filter.action),
            ("actor", &filter.actor),
            ("credential", &filter.target),
        ] {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        query.append_pair("cursor", c);
        format!("/orgs/{}/audit?{}", access.org, query.finish())
    });
    let body = html! {
        form #audit-filter method="get" {
            (layout::field("action", "Action", &html! {
                input #f-action type="text" name="action" value=(value(&filter.action)) placeholder="credential.delete";
            }, None))
            (layout::field("actor", "Actor", &html! {
                input #f-actor type="text" name="actor" value=(value(&filter.actor)) placeholder="user:…";
            }, None))
            (layout::field("credential", "Credential id", &html! {
                input #f-credential type="text" name="credential" value=(value(&filter.target)) placeholder="cred_…";
            }, None))
            button #audit-filter-submit type="submit" { "Filter" }
        }
        div.table-wrap {
            table #audit .stack {
                thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Target" } th { "From" } } }
                tbody {
                    @for r in &page.items {
                        tr.audit-record {
                            td data-label="When" { (layout::date_time(r.at)) }
                            td data-label="Actor" {
                                @if let Some(email) = members.get(&r.actor) {
                                    (email) " " span.muted { code { (r.actor) } }
                                } @else {
                                    code { (r.actor) }
                                }
                            }
                            td data-label="Action" { (r.action) }
                            td data-label="Target" { code { (r.target) } }
                            td data-label="From" { (r.ip) }
                        }
                    }
                }
            }
        }
        @if page.items.is_empty() { p.muted { "No records match." } }
        @if let Some(next) = next { a #next-page href=(next) { "Older records" } }
    };
    Ok(layout::org_page(&access, "Audit log", &body))
}

fn role_select(id: &str, current: Role, up_to: Role) -> Markup {
    html! {
        select id=(id) name="role" {
            @for role in [Role::Viewer, Role::Developer, Role::Admin, Role::Owner] {
                @if role <= up_to {
                    option value=(role.name()) selected[role == current] { (role.name()) }
                }
            }
        }
    }
}

/// `GET /orgs/{org}/members`.
pub(crate) async fn members(State(state): State<Arc<AppState>>, access: WebAccess) -> WebResult {
    members_page(&state, &access, None, StatusCode::OK).await
}

async fn members_page(
    state: &AppState,
    access: &WebAccess,
    error: Option<&str>,
    status: StatusCode,
) -> WebResult {
    let members = state.store.members(&access.org).await?;
    let admin = access.may("POST", "/orgs/{org}/members");
    let org = access.org.as_str();
    let body = html! {
        @if let Some(e) = error { p #form-error .form-error { (e) } }
        div.table-wrap {
            table #members .stack {
                thead { tr { th { "E-mail" } th { "Role" } @if admin { th { "" } } } }
                tbody {
                    @for m in &members {
                        tr.member data-email=(m.email) {
                            td data-label="E-mail" { (m.email) }
                            @if admin && (m.role < Role::Owner || access.role == Role::Owner) {
                                td data-label="Role" {
                                    form.inline id=(format!("member-role-{}", m.user_id)) method="post"
                                        action=(format!("/orgs/{org}/members/{}/role", m.user_id)) {
                                        (layout::csrf(&access.session.csrf))
                                        (role_select(&format!("role-{}", m.user_id), m.role, access.role))
                                        button.member-role-submit type="submit" { "Change" }
                                    }
                                }
                                td {
                                    form.inline id=(format!("member-remove-{}", m.user_id)) method="post"
                                        action=(format!("/orgs/{org}/members/{}/remove", m.user_id)) {
                                        (layout::csrf(&access.session.csrf))
                                        button.member-remove-submit.danger type="submit" { "Remove" }
                                    }
                                }
                            } @else {
                                td data-label="Role" { (m.role.name()) }
                                @if admin { td {} }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            h2 { "Add a member" }
            form #member-add-form method="post" action=(format!("/orgs/{org}/members")) {
                (layout::csrf(&access.session.csrf))
                (layout::field("email", "E-mail of a signet user", &html! {
                    input #f-email type="email" name="email" required;
                }, None))
                (layout::field("role", "Role", &role_select("f-role", Role::Developer, access.role), None))
                button #member-add-submit .primary type="submit" { "Add" }
            }
        }
    };
    let mut response = layout::org_page(access, "Members", &body);
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct MemberForm {
    email: String,
    role: String,
}

fn parse_role(role: &str) -> Result<Role, WebError> {
    Role::parse(role).ok_or_else(|| WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown role"))
}

/// Sets a member's role as `PUT /v1/orgs/{org}/members` does (the owner role: owners
/// only), answering the members page with the refusal when there is one.
async fn put_member(state: &AppState, access: &WebAccess, email: &str, role: &str) -> WebResult {
    let role = parse_role(role)?;
    let current = state
        .store
        .members(&access.org)
        .await?
        .into_iter()
        .find(|m| m.email == email)
        .map(|m| m.role);
    if (role == Role::Owner || current == Some(Role::Owner)) && access.role < Role::Owner {
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "only an owner can grant or take the owner role",
        ));
    }
    match state
        .store
        .set_member(&access.session.actor, &access.org, email, role)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/orgs/{}/members", access.org))),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            members_page(state, access, Some(e.detail()), e.status()).await
        }
    }
}

/// `POST /orgs/{org}/members`: add a user by e-mail.
pub(crate) async fn add_member(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Form(form): Form<MemberForm>,
) -> WebResult {
    put_member(&state, &access, form.email.trim(), &form.role).await
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    role: String,
}

/// `POST /orgs/{org}/members/{user}/role`.
pub(crate) async fn set_role(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, user)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> WebResult {
    let user: UserId = path_id(&user)?;
    let email = state
        .store
        .members(&access.org)
        .await?
        .into_iter()
        .find(|m| m.user_id == user)
        .map(|m| m.email)
        .ok_or_else(crate::error::ApiError::not_found)?;
    put_member(&state, &access, &email, &form.role).await
}

/// `POST /orgs/{org}/members/{user}/remove` (an owner: owners only).
pub(crate) async fn remove_member(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, user)): Path<(String, String)>,
) -> WebResult {
    let user: UserId = path_id(&user)?;
    let target = state
        .store
        .role_of(&access.org, &user)
        .await?
        .ok_or_else(crate::error::ApiError::not_found)?;
    if target == Role::Owner && access.role < Role::Owner {
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "only an owner can remove an owner",
        ));
    }
    match state
        .store
        .remove_member(&access.session.actor, &access.org, &user)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/orgs/{}/members", access.org))),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            members_page(&state, &access, Some(e.detail()), e.status()).await
        }
    }
}

/// `GET /orgs/{org}/robots`.
pub(crate) async fn robots(State(state): State<Arc<AppState>>, access: WebAccess) -> WebResult {
    robots_page(&state, &access, None, None, StatusCode::OK).await
}

async fn robots_page(
    state: &AppState,
    access: &WebAccess,
    created: Option<(&str, &str)>,
    error: Option<(&str, &str)>,
    status: StatusCode,
) -> WebResult {
    let robots = state.store.robots(&access.org).await?;
    let apps = state
        .store
        .apps(
            &access.org,
            &PageRequest {
                cursor: None,
                limit: Some(500),
            },
        )
        .await?;
    let org = access.org.as_str();
    let field_error = |name: &str| error.filter(|(f, _)| *f == name).map(|(_, e)| e);
    let body = html! {
        @if let Some((name, token)) = created {
            div.card #robot-created {
                p { "The token of " strong { (name) } ". It is shown once: copy it now." }
                code #robot-token .token { (token) }
                button.copy type="button" data-copy=(token) { "Copy" }
            }
        }
        @if let Some(("", e)) = error { p #form-error .form-error { (e) } }
        div.table-wrap {
            table #robots .stack {
                thead { tr { th { "Name" } th { "Role" } th { "Apps" } th { "Expires" } th { "Last used" } th { "" } } }
                tbody {
                    @for r in robots.iter().filter(|r| r.revoked_at.is_none()) {
                        tr.robot data-id=(r.id) {
                            td data-label="Name" { (r.name) }
                            td data-label="Role" { (r.role.map_or("", Role::name)) }
                            td data-label="Apps" {
                                @match &r.app_ids {
                                    None => "all",
                                    Some(ids) => {
                                        @for id in ids {
                                            (apps.items.iter().find(|a| &a.id == id).map_or(id.as_str(), |a| a.slug.as_str())) " "
                                        }
                                    }
                                }
                            }
                            td data-label="Expires" { (layout::expiry(r.expires_at)) }
                            td data-label="Last used" { (r.last_used_at.map_or_else(|| "never".to_owned(), layout::date_time)) }
                            td {
                                form.inline id=(format!("robot-revoke-{}", r.id)) method="post"
                                    action=(format!("/orgs/{org}/robots/{}/revoke", r.id)) {
                                    (layout::csrf(&access.session.csrf))
                                    button.robot-revoke-submit.danger type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Create a robot token" }
        form #robot-create-form method="post" action=(format!("/orgs/{org}/robots")) {
            (layout::csrf(&access.session.csrf))
            (layout::field("name", "Name", &html! { input #f-name type="text" name="name" required; }, field_error("name")))
            (layout::field("role", "Role", &role_select("f-role", Role::Developer, access.role.min(Role::Admin)), field_error("role")))
            (layout::field("expires_in_days", "Expires in (days, empty: never)", &html! {
                input #f-expires_in_days type="number" name="expires_in_days" min="1" max="3650";
            }, field_error("expires_in_days")))
            (layout::field("app_ids", "Limited to apps (none checked: all)", &html! {
                div {
                    @for app in &apps.items {
                        label { input type="checkbox" name="app_ids" value=(app.id); " " (app.slug) } " "
                    }
                }
            }, field_error("app_ids")))
            button #robot-create-submit .primary type="submit" { "Create" }
        }
    };
    let mut response = layout::org_page(access, "Robots", &body);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /orgs/{org}/robots`: creates it and shows its token, once.
pub(crate) async fn create_robot(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> WebResult {
    // Checkboxes repeat `app_ids`: read the pairs as they come.
    let mut name = String::new();
    let mut role = String::new();
    let mut days = String::new();
    let mut app_ids = Vec::new();
    for (k, v) in form_urlencoded::parse(&raw) {
        match &*k {
            "name" => name = v.into_owned(),
            "role" => role = v.into_owned(),
            "expires_in_days" => days = v.into_owned(),
            "app_ids" => app_ids.push(Named::<AppId>::parse(&v)),
            _ => {}
        }
    }
    let refuse = |field: &'static str, e: &str| {
        let e = e.to_owned();
        let state = Arc::clone(&state);
        let access = access.clone();
        async move {
            robots_page(
                &state,
                &access,
                None,
                Some((field, &e)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let Some(role) = Role::parse(&role) else {
        return refuse("role", "viewer, developer or admin").await;
    };
    if role > access.role {
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "a robot cannot have a higher role than its creator",
        ));
    }
    let expires_at = match days.trim() {
        "" => None,
        d => match d.parse::<u32>() {
            Ok(d @ 1..=3650) => Some(layout::now_ms() + i64::from(d) * layout::DAY_MS),
            _ => return refuse("expires_in_days", "1 to 3650").await,
        },
    };
    let apps = (!app_ids.is_empty()).then_some(app_ids.as_slice());
    match state
        .store
        .create_robot(
            &access.session.actor,
            &access.org,
            name.trim(),
            role,
            apps,
            expires_at,
        )
        .await
    {
        Ok((info, token)) => {
            robots_page(
                &state,
                &access,
                Some((&info.name, token.as_str())),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            let field = match e.field() {
                Some("name") => "name",
                Some("role") => "role",
                Some("app_ids") => "app_ids",
                _ => "",
            };
            let message = e.reason().unwrap_or(e.detail()).to_owned();
            robots_page(&state, &access, None, Some((field, &message)), e.status()).await
        }
    }
}

/// `POST /orgs/{org}/robots/{id}/revoke`.
pub(crate) async fn revoke_robot(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, id)): Path<(String, String)>,
) -> WebResult {
    let id: TokenId = path_id(&id)?;
    state
        .store
        .revoke_robot(&access.session.actor, &access.org, &id)
        .await?;
    Ok(see_other(&format!("/orgs/{}/robots", access.org)).into_response())
}
