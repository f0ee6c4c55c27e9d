//! An application id's slots: the FCM server key and the Google service accounts.

use signet_client::{CredentialId, Link};

use crate::{
    flags::{AndroidSlot, AndroidTarget},
    remote::{self, Remote},
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
    remote::slots::set(remote, &slot_ref(target, slot), credential)
}

/// Empties a slot after showing what stops and asking; the credential stays.
pub fn clear_slot(
    remote: &Remote,
    target: &AndroidTarget,
    slot: AndroidSlot,
    yes: bool,
) -> anyhow::Result<Link> {
    let at = slot_ref(target, slot);
    remote::slots::clear(
        remote,
        &at,
        &slot_impact(at.slot, &target.application_id),
        yes,
    )
}

fn slot_ref(target: &AndroidTarget, slot: AndroidSlot) -> remote::slots::SlotRef<'_> {
    remote::slots::SlotRef {
        app: &target.app,
        platform: "android",
        identifier: &target.application_id,
        slot: slot_name(slot),
    }
}
