//! An application id's slots: the FCM server key and the Google service accounts.

use anyhow::{Context, bail};
use signet_client::{CredentialId, Link};

use crate::{
    flags::{AndroidSlot, AndroidTarget},
    remote::{self, Remote, describe},
};

/// The API's name of a slot.
pub fn slot_name(slot: AndroidSlot) -> &'static str {
    match slot {
        AndroidSlot::FcmKey => "fcm-key",
        AndroidSlot::GoogleServiceAccountFcm => "google-service-account-fcm",
        AndroidSlot::GoogleServiceAccountSubmissions => "google-service-account-submissions",
    }
}

/// What stops when a slot is emptied.
fn slot_impact(slot: &str, application_id: &str) -> String {
    match slot {
        "fcm-key" => format!(
            "push notifications to {application_id} sent with the FCM legacy server key stop"
        ),
        "google-service-account-fcm" => {
            format!("FCM v1 push notifications to {application_id} lose their service account")
        }
        _ => format!("submissions of {application_id} to Google Play lose their service account"),
    }
}

/// Assigns `credential` to a slot; returns the assignment and the credential it replaced.
pub fn set_slot(
    remote: &Remote,
    target: &AndroidTarget,
    slot: AndroidSlot,
    credential: &CredentialId,
) -> anyhow::Result<(Link, Option<CredentialId>)> {
    let details = describe::app(remote, &target.app)?;
    let slot = slot_name(slot);
    let before = details
        .links
        .iter()
        .find(|l| {
            l.platform == "android" && l.identifier == target.application_id && l.slot == slot
        })
        .map(|l| l.credential_id.clone());
    let link = remote.block_on(remote.client.set_slot(
        &remote.org,
        details.app.id.as_str(),
        "android",
        &target.application_id,
        slot,
        credential,
    ))?;
    Ok((link, before.filter(|b| b != credential)))
}

/// Empties a slot after showing what stops and asking; the credential stays.
pub fn clear_slot(
    remote: &Remote,
    target: &AndroidTarget,
    slot: AndroidSlot,
    yes: bool,
) -> anyhow::Result<Link> {
    let details = describe::app(remote, &target.app)?;
    let slot = slot_name(slot);
    let Some(link) = details
        .links
        .iter()
        .find(|l| {
            l.platform == "android" && l.identifier == target.application_id && l.slot == slot
        })
        .cloned()
    else {
        bail!(
            "{slot} of {} in app {} is empty",
            target.application_id,
            details.app.slug
        );
    };
    eprintln!(
        "Without it, {}. Credential {} stays on the server.",
        slot_impact(slot, &target.application_id),
        link.credential_id
    );
    remote::confirm(&format!("Clear {slot} of {}", target.application_id), yes)?;
    remote
        .block_on(remote.client.remove_slot(
            &remote.org,
            details.app.id.as_str(),
            "android",
            &target.application_id,
            slot,
        ))
        .context("clearing the slot")?;
    Ok(link)
}
