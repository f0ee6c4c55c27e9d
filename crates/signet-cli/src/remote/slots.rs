//! An app's slots (`fcm-key`, `push-key`, `asc-api-key`, …) for one application or bundle
//! id: assigned, or emptied after saying what stops. The platform commands name the slots.

use anyhow::{Context, bail};
use signet_client::{CredentialId, Link};

use super::{Remote, confirm, describe};

/// Where a slot is: the app (slug or id), `android` or `ios`, the application or bundle id,
/// and the slot's API name.
pub struct SlotRef<'a> {
    /// The app.
    pub app: &'a str,
    /// `android` or `ios`.
    pub platform: &'a str,
    /// The application id or bundle id.
    pub identifier: &'a str,
    /// The slot.
    pub slot: &'a str,
}

/// Assigns `credential` to a slot; returns the assignment and the credential it replaced.
pub fn set(
    remote: &Remote,
    at: &SlotRef<'_>,
    credential: &CredentialId,
) -> anyhow::Result<(Link, Option<CredentialId>)> {
    let details = describe::app(remote, at.app)?;
    let before = find(&details.links, at).map(|l| l.credential_id.clone());
    let link = remote.block_on(remote.client.set_slot(
        &remote.org,
        details.app.id.as_str(),
        at.platform,
        at.identifier,
        at.slot,
        credential,
    ))?;
    Ok((link, before.filter(|b| b != credential)))
}

/// Empties a slot after showing what stops (`impact`) and asking; the credential stays.
pub fn clear(remote: &Remote, at: &SlotRef<'_>, impact: &str, yes: bool) -> anyhow::Result<Link> {
    let details = describe::app(remote, at.app)?;
    let Some(link) = find(&details.links, at).cloned() else {
        bail!(
            "{} of {} in app {} is empty",
            at.slot,
            at.identifier,
            details.app.slug
        );
    };
    eprintln!(
        "Without it, {impact}. Credential {} stays on the server.",
        link.credential_id
    );
    confirm(&format!("Clear {} of {}", at.slot, at.identifier), yes)?;
    remote
        .block_on(remote.client.remove_slot(
            &remote.org,
            details.app.id.as_str(),
            at.platform,
            at.identifier,
            at.slot,
        ))
        .context("clearing the slot")?;
    Ok(link)
}

fn find<'l>(links: &'l [Link], at: &SlotRef<'_>) -> Option<&'l Link> {
    links
        .iter()
        .find(|l| l.platform == at.platform && l.identifier == at.identifier && l.slot == at.slot)
}
