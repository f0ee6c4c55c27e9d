//! One app's page: Android (application ids, build sets with their keystores, slots) and
//! iOS (bundle ids, the pair per distribution, slots); making a build set the default and
//! renaming it.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Form,
    extract::{Path, State},
};
use maud::{Markup, html};
use serde::Deserialize;
use signet_store::{Credential, CredentialId, SLOTS, Scope};

use super::{WebAccess, WebResult, credentials, layout, see_other};
use crate::{AppState, error::ApiError};

/// `GET /orgs/{org}/apps/{app}`.
pub(crate) async fn app_page(State(state): State<Arc<AppState>>, access: WebAccess) -> WebResult {
    let app = access.app()?;
    let ac = state.store.app_credentials(&access.org, app).await?;
    let mut ids: Vec<&CredentialId> = ac.build_sets.iter().map(|s| &s.keystore_id).collect();
    for p in &ac.build_pairs {
        ids.extend([&p.certificate_id, &p.profile_id]);
    }
    ids.extend(ac.links.iter().map(|l| &l.credential_id));
    let mut creds: HashMap<String, Credential> = HashMap::new();
    for id in ids {
        if !creds.contains_key(id.as_str()) {
            let c = state.store.credential(&access.org, id, true).await?;
            creds.insert(id.to_string(), c);
        }
    }
    let mut application_ids: Vec<&str> = ac
        .build_sets
        .iter()
        .map(|s| s.application_id.as_str())
        .chain(
            ac.links
                .iter()
                .filter(|l| l.platform == "android")
                .map(|l| l.identifier.as_str()),
        )
        .collect();
    application_ids.sort_unstable();
    application_ids.dedup();
    let mut bundle_ids: Vec<&str> = ac
        .build_pairs
        .iter()
        .map(|p| p.bundle_id.as_str())
        .chain(
            ac.links
                .iter()
                .filter(|l| l.platform == "ios")
                .map(|l| l.identifier.as_str()),
        )
        .collect();
    bundle_ids.sort_unstable();
    bundle_ids.dedup();

    let org = access.org.as_str();
    let base = format!("/orgs/{org}/apps/{}", app.slug);
    let may_default = access.may(
        "POST",
        "/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
    );
    let may_rename = access.may(
        "POST",
        "/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/rename",
    );
    let credential_link = |id: &CredentialId| -> Markup {
        match creds.get(id.as_str()) {
            Some(c) => html! {
                a href=(format!("/orgs/{org}/credentials/{id}")) { (c.name) }
                @if c.deleted_at.is_some() { " " span.badge.badge-expired { "deleted" } }
            },
            None => html! { code { (id) } },
        }
    };
    let slots = |platform: &str, identifier: &str| -> Markup {
        html! {
            table.slots {
                tbody {
                    @for (_, slot, _) in SLOTS.iter().filter(|(p, _, _)| *p == platform) {
                        tr.slot data-slot=(slot) {
                            th { (slot) }
                            td {
                                @match ac.links.iter().find(|l| l.platform == platform && l.identifier == identifier && l.slot == *slot) {
                                    Some(link) => {
                                        (credential_link(&link.credential_id))
                                        @if let Some(c) = creds.get(link.credential_id.as_str()) {
                                            " · " (layout::expiry(c.expires_at))
                                        }
                                    }
                                    None => span.muted { "empty" },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        section #android {
            h2 { "Android" }
            @if application_ids.is_empty() { p.muted { "No application ids yet." } }
            @for application_id in &application_ids {
                section.application-id data-application-id=(application_id) {
                    h3 { code { (application_id) } }
                    div.table-wrap {
                        table.build-sets.stack {
                            thead { tr { th { "Build set" } th { "Keystore" } th { "" } } }
                            tbody {
                                @for set in ac.build_sets.iter().filter(|s| s.application_id == *application_id) {
                                    @let set_base = format!("{base}/android/{}/build-sets/{}", enc(application_id), enc(&set.name));
                                    tr.build-set data-name=(set.name) {
                                        td data-label="Build set" {
                                            (set.name)
                                            @if set.is_default { " " span.badge.badge-default { "default" } }
                                        }
                                        td data-label="Keystore" { (credential_link(&set.keystore_id)) }
                                        td {
                                            @if may_default && !set.is_default {
                                                form.inline.set-default id=(format!("set-default-{}", set.id)) method="post" action=(format!("{set_base}/default")) {
                                                    (layout::csrf(&access.session.csrf))
                                                    button.set-default-submit type="submit" { "Make default" }
                                                }
                                            }
                                            @if may_rename {
                                                form.inline.rename id=(format!("rename-{}", set.id)) method="post" action=(format!("{set_base}/rename")) {
                                                    (layout::csrf(&access.session.csrf))
                                                    input type="text" name="new_name" value=(set.name) aria-label="New name" required;
                                                    button.rename-submit type="submit" { "Rename" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @for set in ac.build_sets.iter().filter(|s| s.application_id == *application_id) {
                        @if let Some(c) = creds.get(set.keystore_id.as_str()) {
                            div.card.keystore data-id=(c.id) {
                                h3 { "Keystore of " (set.name) ": " a href=(format!("/orgs/{org}/credentials/{}", c.id)) { (c.name) } }
                                (credentials::details(&access, c))
                            }
                        }
                    }
                    h3 { "Slots" }
                    (slots("android", application_id))
                }
            }
        }
        section #ios {
            h2 { "iOS" }
            @if bundle_ids.is_empty() { p.muted { "No bundle ids yet." } }
            @for bundle_id in &bundle_ids {
                section.bundle-id data-bundle-id=(bundle_id) {
                    h3 { code { (bundle_id) } }
                    div.table-wrap {
                        table.build-pairs.stack {
                            thead { tr { th { "Distribution" } th { "Certificate" } th { "Profile" } } }
                            tbody {
                                @for pair in ac.build_pairs.iter().filter(|p| p.bundle_id == *bundle_id) {
                                    tr.build-pair data-distribution=(pair.distribution) {
                                        td data-label="Distribution" { (pair.distribution) }
                                        td data-label="Certificate" {
                                            (credential_link(&pair.certificate_id))
                                            @if let Some(m) = creds.get(pair.certificate_id.as_str()).and_then(|c| c.metadata.certificate()) {
                                                dl.facts {
                                                    dt { "Kind" } dd.certificate-kind { (credentials::serde_name(&m.kind)) }
                                                    dt { "Team" } dd.team { (m.team_id) }
                                                    dt { "Serial" } dd { code.serial { (m.certificate.serial) } }
                                                    dt { "Expires" } dd { (layout::expiry(creds.get(pair.certificate_id.as_str()).and_then(|c| c.expires_at))) }
                                                }
                                            }
                                        }
                                        td data-label="Profile" {
                                            (credential_link(&pair.profile_id))
                                            @if let Some(p) = creds.get(pair.profile_id.as_str()).and_then(|c| c.metadata.profile()) {
                                                dl.facts {
                                                    dt { "Name" } dd.profile-name { (p.name) }
                                                    dt { "Kind" } dd.profile-kind { (credentials::serde_name(&p.kind)) }
                                                    dt { "Expires" } dd { (layout::expiry(creds.get(pair.profile_id.as_str()).and_then(|c| c.expires_at))) }
                                                    dt { "Devices" } dd.device-count {
                                                        @if p.provisions_all_devices { "all" } @else { (p.devices.len()) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    h3 { "Slots" }
                    (slots("ios", bundle_id))
                }
            }
        }
    };
    Ok(layout::org_page(&access, &app.slug, &body))
}

/// A path segment, percent-encoded.
pub(crate) fn enc(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `POST …/build-sets/{name}/default`: as the API's make-default, with the set's
/// current version.
pub(crate) async fn make_default(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, _, application_id, name)): Path<(String, String, String, String)>,
) -> WebResult {
    let app = access.app()?;
    let current = state
        .store
        .app_credentials(&access.org, app)
        .await?
        .build_sets
        .into_iter()
        .find(|s| s.application_id == application_id && s.name == name)
        .ok_or_else(ApiError::not_found)?;
    state
        .store
        .put_build_set(
            &access.session.actor,
            &access.org,
            app,
            &application_id,
            &name,
            &current.keystore_id.into(),
            true,
            Some(current.version),
            &Scope::Org,
        )
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/apps/{}",
        access.org,
        enc(&app.slug)
    )))
}

#[derive(Deserialize)]
pub(crate) struct RenameForm {
    new_name: String,
}

/// `POST …/build-sets/{name}/rename`.
pub(crate) async fn rename_build_set(
    State(state): State<Arc<AppState>>,
    access: WebAccess,
    Path((_, _, application_id, name)): Path<(String, String, String, String)>,
    Form(form): Form<RenameForm>,
) -> WebResult {
    let app = access.app()?;
    let current = state
        .store
        .app_credentials(&access.org, app)
        .await?
        .build_sets
        .into_iter()
        .find(|s| s.application_id == application_id && s.name == name)
        .ok_or_else(ApiError::not_found)?;
    state
        .store
        .rename_build_set(
            &access.session.actor,
            &access.org,
            app,
            &application_id,
            &name,
            form.new_name.trim(),
            current.version,
        )
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/apps/{}",
        access.org,
        enc(&app.slug)
    )))
}
