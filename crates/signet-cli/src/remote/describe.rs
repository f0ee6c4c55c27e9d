//! Credentials in a few words, for tables: short fingerprints, expiry in days with a
//! warning under 30 days, and the records behind the ids an app points at.

use std::collections::HashMap;

use signet_client::{AppCredentials, ClientError, Credential, CredentialId, Metadata};
use signet_formats::apple::check::Distribution;

use super::Remote;

/// Under this many days to expiry, a credential is flagged.
pub const WARN_DAYS: i64 = 30;

const DAY_MS: i64 = 86_400_000;

/// Now, in milliseconds since the epoch (the API's times).
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// The first 8 pairs of a colon-separated fingerprint (`AB:CD:…`).
pub fn short_fingerprint(colon_hex: &str) -> String {
    colon_hex.split(':').take(8).collect::<Vec<_>>().join(":")
}

/// Whole days from `now` to `expires_at` (negative once past).
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).div_euclid(DAY_MS)
}

/// The expiry cell: `412 days`, `⚠ 12 days` under [`WARN_DAYS`], `⚠ today`,
/// `⚠ expired`, or `-` for what does not expire.
pub fn expiry(expires_at: Option<i64>, now: i64) -> String {
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

/// A warning line for a credential that has expired or expires within 30 days.
pub fn expiry_warning(what: &str, c: &Credential, now: i64) -> Option<String> {
    let at = c.expires_at?;
    if at <= now {
        return Some(format!("warning: {what} {} ({}) has expired", c.id, c.name));
    }
    let days = days_left(at, now);
    (days < WARN_DAYS).then(|| {
        format!(
            "warning: {what} {} ({}) expires in {days} day{}",
            c.id,
            c.name,
            if days == 1 { "" } else { "s" }
        )
    })
}

/// What identifies a credential at a glance: the SHA-256 of a keystore's certificate (as
/// the Play Console shows it, cut to 8 pairs), the SHA-1 of an Apple certificate (as Xcode
/// and profiles name it), a profile's UUID, a key's id, an FCM key's ends.
pub fn fingerprint(c: &Credential) -> String {
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

/// What a credential is, in a few words: a keystore's key, a profile's kind and bundle
/// id, a key's id, a team.
pub fn summary(c: &Credential) -> String {
    match &c.metadata {
        Metadata::AndroidKeystore(k) => format!(
            "{} {}, SHA-256 {}",
            k.certificate.key_algorithm,
            k.certificate.key_size,
            short_fingerprint(&k.certificate.sha256)
        ),
        Metadata::GoogleServiceAccountKey(s) => s.client_email.clone(),
        Metadata::FcmLegacyKey(k) => format!("{}…{}", k.first4, k.last4),
        Metadata::AppleTeam(t) => format!("{} {}", t.team_id, t.team_name),
        Metadata::AppleDistributionCertificate(cert) => format!(
            "{}, SHA-1 {}",
            cert.common_name,
            short_fingerprint(&cert.certificate.sha1)
        ),
        Metadata::AppleProvisioningProfile(p) => format!(
            "{} {}",
            Distribution::of_profile(p.kind).name(),
            p.bundle_id
        ),
        Metadata::ApplePushKey(k) => format!("key {} (team {})", k.key_id, k.team_id),
        Metadata::AscApiKey(k) => format!("key {} (issuer {})", k.key_id, k.issuer_id),
    }
}

/// The records of the credentials an app points at, as far as the caller may read them.
#[derive(Debug, Default)]
pub struct Records {
    by_id: HashMap<CredentialId, Option<Credential>>,
    /// The caller may not read credentials' records (a robot limited to apps reads its
    /// apps, not the organization's credentials): ids are all there is.
    pub hidden: bool,
}

impl Records {
    /// The record of `id`, if read.
    pub fn get(&self, id: &CredentialId) -> Option<Credential> {
        self.by_id.get(id).cloned().flatten()
    }

    /// How to show an id whose record is missing.
    pub fn missing(&self, id: &CredentialId) -> String {
        missing(id, self.hidden)
    }
}

/// How to show an id whose record is missing: deleted, or (`hidden`) merely not readable
/// by the caller.
pub fn missing(id: &CredentialId, hidden: bool) -> String {
    if hidden {
        id.to_string()
    } else {
        format!("{id} (deleted)")
    }
}

/// The credentials behind `ids`, each read once; an id the server no longer shows (a
/// deleted credential) has no record. A caller refused credentials' records (403) gets
/// none, marked [`Records::hidden`].
pub fn credentials<'a>(
    remote: &Remote,
    ids: impl IntoIterator<Item = &'a CredentialId>,
) -> anyhow::Result<Records> {
    let mut out = Records::default();
    for id in ids {
        if out.by_id.contains_key(id) {
            continue;
        }
        let found = match remote.block_on(remote.client.credential(&remote.org, id)) {
            Ok(c) => Some(c),
            Err(ClientError::Problem(p)) if p.status == 404 => None,
            Err(ClientError::Problem(p)) if p.status == 403 => {
                out.hidden = true;
                return Ok(out);
            }
            Err(e) => return Err(e.into()),
        };
        out.by_id.insert(id.clone(), found);
    }
    Ok(out)
}

/// An app with its build sets, pairs and slots, named in the error when there is none.
pub fn app(remote: &Remote, app: &str) -> anyhow::Result<AppCredentials> {
    remote
        .block_on(remote.client.app(&remote.org, app))
        .map_err(|e| match &e {
            ClientError::Problem(p) if p.status == 404 => {
                anyhow::Error::new(e).context(format!("app `{app}`"))
            }
            _ => e.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_flags_under_thirty_days() {
        let now = 1_000 * DAY_MS;
        assert_eq!(expiry(None, now), "-");
        assert_eq!(expiry(Some(now - 1), now), "⚠ expired");
        assert_eq!(expiry(Some(now), now), "⚠ expired");
        assert_eq!(expiry(Some(now + 1), now), "⚠ today");
        assert_eq!(expiry(Some(now + DAY_MS + 5), now), "⚠ 1 day");
        assert_eq!(expiry(Some(now + 10 * DAY_MS - 1), now), "⚠ 9 days");
        assert_eq!(expiry(Some(now + 30 * DAY_MS), now), "30 days");
        assert_eq!(expiry(Some(now + 400 * DAY_MS + 1), now), "400 days");
    }

    #[test]
    fn fingerprints_keep_eight_pairs() {
        assert_eq!(
            short_fingerprint("AA:BB:CC:DD:EE:FF:00:11:22:33:44"),
            "AA:BB:CC:DD:EE:FF:00:11"
        );
        assert_eq!(short_fingerprint("AA:BB"), "AA:BB");
    }
}
