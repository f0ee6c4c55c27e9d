//! `signet credentials list | show | upload | delete | restore | export | expiring`: the
//! organization's credentials on a server.
//!
//! Each action is a plain function taking a [`Remote`] and parsed inputs (`list::list`,
//! `show::show`, `upload::upload`, `delete::delete`, …), apart from the `*_cmd` functions
//! that read the flags, so that the interactive menu can call the same actions. Here, what
//! they share: dispatch, and the cells of the tables (expiry in days, short fingerprints).

pub mod delete;
pub mod expiring;
pub mod export;
pub mod list;
pub mod menu;
pub mod restore;
pub mod show;
pub mod upload;

use serde::Serialize;
use signet_client::{Credential, Metadata};
use time::OffsetDateTime;

use crate::{
    flags::{CredentialsArgs, CredentialsCommand, PlatformArg, RemoteArgs},
    remote::Remote,
};

/// Days before expiry from which a credential is marked in tables (SPEC: under 30).
pub const WARN_DAYS: i64 = 30;

const DAY_MS: i64 = 86_400_000;

/// `signet credentials …`.
pub fn run(args: &CredentialsArgs) -> anyhow::Result<()> {
    match &args.subcommand {
        Some(CredentialsCommand::List(a)) => list::list_cmd(a),
        Some(CredentialsCommand::Show(a)) => show::show_cmd(a),
        Some(CredentialsCommand::Upload(a)) => upload::upload_cmd(a),
        Some(CredentialsCommand::Delete(a)) => delete::delete_cmd(a),
        Some(CredentialsCommand::Restore(a)) => restore::restore_cmd(a),
        Some(CredentialsCommand::Export(a)) => export::export_cmd(a),
        Some(CredentialsCommand::Expiring(a)) => expiring::expiring_cmd(a),
        None => menu::run(
            &RemoteArgs {
                server: std::env::var("SIGNET_SERVER").ok(),
                org: std::env::var("SIGNET_ORG").ok(),
            },
            args.platform.map(|p| match p {
                PlatformArg::Android => menu::Platform::Android,
                PlatformArg::Ios => menu::Platform::Ios,
            }),
            args.app.as_deref(),
        ),
    }
}

/// Now, in milliseconds since the epoch (the API's times).
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Whole days from `now` to `expires_at` (negative once expired).
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).div_euclid(DAY_MS)
}

/// The expiry column: `412 days`, `⚠ 12 days` under [`WARN_DAYS`], `⚠ expired`, or `-` for
/// what does not expire.
pub fn expiry_cell(expires_at: Option<i64>, now: i64) -> String {
    let Some(at) = expires_at else {
        return "-".to_owned();
    };
    if at <= now {
        return "⚠ expired".to_owned();
    }
    let days = days_left(at, now);
    let text = match days {
        0 => "today".to_owned(),
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    };
    if days < WARN_DAYS {
        format!("⚠ {text}")
    } else {
        text
    }
}

/// The first 8 pairs of a colon-separated fingerprint.
pub fn short_fingerprint(fingerprint: &str) -> String {
    fingerprint.split(':').take(8).collect::<Vec<_>>().join(":")
}

/// What identifies a credential at a glance: the SHA-256 of a keystore's certificate (as
/// the Play Console shows it), the SHA-1 of an Apple certificate (as Xcode and profiles
/// name it), a profile's UUID, a key's id, an FCM key's ends.
pub fn short_id(c: &Credential) -> String {
    match &c.metadata {
        Metadata::AndroidKeystore(k) => short_fingerprint(&k.certificate.sha256),
        Metadata::AppleDistributionCertificate(k) => short_fingerprint(&k.certificate.sha1),
        Metadata::AppleProvisioningProfile(p) => format!("uuid {}", p.uuid),
        Metadata::ApplePushKey(k) => format!("key {}", k.key_id),
        Metadata::AscApiKey(k) => format!("key {}", k.key_id),
        Metadata::GoogleServiceAccountKey(k) => format!(
            "key {}",
            k.private_key_id.get(..8).unwrap_or(&k.private_key_id)
        ),
        Metadata::FcmLegacyKey(k) => format!("{}…{}", k.first4, k.last4),
        Metadata::AppleTeam(t) => format!("team {}", t.team_id),
    }
}

/// A credential with what uses it, as lists print it (`--json` too).
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// The record.
    #[serde(flatten)]
    pub credential: Credential,
    /// What uses it, one line each (`acme / android com.acme / build set release`).
    pub used_by: Vec<String>,
    /// For a deleted one: when it is destroyed (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge_after: Option<i64>,
}

impl Listed {
    /// `used_by` as one cell.
    pub fn used_by_cell(&self) -> String {
        if self.used_by.is_empty() {
            "-".to_owned()
        } else {
            self.used_by.join("; ")
        }
    }
}

/// Attaches what uses each credential (every app of the organization is read).
pub fn with_usage(remote: &Remote, credentials: Vec<Credential>) -> anyhow::Result<Vec<Listed>> {
    let mut usage = remote.usage()?;
    Ok(credentials
        .into_iter()
        .map(|credential| Listed {
            used_by: usage.remove(&credential.id).unwrap_or_default(),
            credential,
            purge_after: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_cells() {
        let now = 1_000 * DAY_MS;
        assert_eq!(expiry_cell(None, now), "-");
        assert_eq!(expiry_cell(Some(now - 1), now), "⚠ expired");
        assert_eq!(expiry_cell(Some(now), now), "⚠ expired");
        assert_eq!(expiry_cell(Some(now + 1), now), "⚠ today");
        assert_eq!(expiry_cell(Some(now + DAY_MS + 5), now), "⚠ 1 day");
        assert_eq!(expiry_cell(Some(now + 10 * DAY_MS - 1), now), "⚠ 9 days");
        assert_eq!(expiry_cell(Some(now + 30 * DAY_MS), now), "30 days");
    }

    #[test]
    fn short_fingerprints_keep_eight_pairs() {
        assert_eq!(
            short_fingerprint("AA:BB:CC:DD:EE:FF:00:11:22:33"),
            "AA:BB:CC:DD:EE:FF:00:11"
        );
        assert_eq!(short_fingerprint("AA:BB"), "AA:BB");
    }
}
