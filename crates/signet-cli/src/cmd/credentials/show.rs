//! `signet credentials show ID`: everything the server derived from a credential's files,
//! what uses it, and the versions kept since it was replaced.

use serde::Serialize;
use signet_client::{Credential, CredentialId, Impact, Metadata, VersionRecord};
use signet_formats::PLAY_VALIDITY_DEADLINE;
use signet_store::metadata::{CertificateFacts, CertificateKind, TeamType};

use super::{days_left, now_ms};
use crate::{
    flags::CredentialsShowArgs,
    output::{self, Fields},
    remote::Remote,
};

pub fn show_cmd(args: &CredentialsShowArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    show(&remote, &args.id, args.output.json)
}

#[derive(Serialize)]
struct Shown<'a> {
    credential: &'a Credential,
    impact: &'a Impact,
    versions: &'a [VersionRecord],
}

/// Prints one credential with its impact and kept versions.
pub fn show(remote: &Remote, id: &CredentialId, json: bool) -> anyhow::Result<()> {
    let credential = remote
        .block_on(remote.client.credential(&remote.org, id))
        .map_err(|e| super::about(id, e))?;
    let impact = remote.block_on(remote.client.impact(&remote.org, id))?;
    let versions = remote.block_on(remote.client.versions(&remote.org, id))?;
    if json {
        return output::json(&Shown {
            credential: &credential,
            impact: &impact,
            versions: &versions,
        });
    }
    print!("{}", describe(&credential));
    println!("Used by:");
    if impact.used_by.is_empty() {
        println!("  nothing (no build set, build pair or app slot points at it)");
    }
    for line in &impact.used_by {
        println!("  {line}");
    }
    println!("If deleted:");
    println!("  {}", impact.summary);
    for affected in &impact.affected_credentials {
        println!("  affected: {affected}");
    }
    if !versions.is_empty() {
        println!("Kept versions (restorable, exportable by an admin):");
        for v in &versions {
            println!(
                "  version {}: {}, replaced {} by {}, kept until {}",
                v.version,
                v.name,
                output::date_ms(v.replaced_at),
                v.replaced_by,
                output::date_ms(v.purge_after)
            );
        }
    }
    Ok(())
}

/// The record's lines: what every credential has, then its type's metadata, then
/// warnings (`warning: …`).
pub fn describe(c: &Credential) -> String {
    let now = now_ms();
    let mut f = Fields::new(0);
    f.add("Id", c.id.to_string())
        .add("Type", c.kind.name())
        .add("Name", &c.name);
    if let Some(team) = &c.apple_team {
        f.add("Apple team", team);
    }
    if let Some(at) = c.expires_at {
        let left = days_left(at, now);
        let when = if at <= now {
            "expired".to_owned()
        } else {
            format!("in {left} days")
        };
        f.add("Expires", format!("{} ({when})", output::date_ms(at)));
    }
    f.add("Version", c.version.to_string())
        .add("Uploaded", output::date_ms(c.created_at))
        .add("Updated", output::date_ms(c.updated_at));
    if let Some(at) = c.deleted_at {
        f.add("Deleted", output::date_ms(at));
    }
    let mut warnings = Vec::new();
    if c.expires_at.is_some_and(|at| at <= now) {
        warnings.push("it has expired".to_owned());
    } else if c
        .expires_at
        .is_some_and(|at| days_left(at, now) < super::WARN_DAYS)
    {
        warnings.push(format!(
            "it expires within {} days; replace it before then",
            super::WARN_DAYS
        ));
    }
    metadata_fields(&mut f, &c.metadata, &mut warnings);
    let mut out = f.render();
    for w in &warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn metadata_fields(f: &mut Fields, metadata: &Metadata, warnings: &mut Vec<String>) {
    match metadata {
        Metadata::AndroidKeystore(k) => {
            f.add(
                "Keystore type",
                match k.keystore_type {
                    signet_store::metadata::KeystoreFormat::Jks => "JKS",
                    signet_store::metadata::KeystoreFormat::Pkcs12 => "PKCS12",
                },
            )
            .add("Alias", &k.alias);
            if k.aliases.len() > 1 {
                f.add("Aliases", k.aliases.join(", "));
            }
            certificate(f, &k.certificate);
            f.add("Debug key", if k.is_debug { "yes" } else { "no" });
            if k.is_debug {
                warnings.push(
                    "this is the Android debug certificate: Google Play rejects apps signed with \
                     it (\"Market does not accept apks signed with the debug certificate\")"
                        .to_owned(),
                );
            }
            if k.expires_before_play_deadline {
                warnings.push(format!(
                    "the certificate expires on {}, before {}: Google Play requires keys valid \
                     until then",
                    output::date(k.certificate.not_after),
                    PLAY_VALIDITY_DEADLINE.date()
                ));
            }
        }
        Metadata::AppleDistributionCertificate(c) => {
            f.add(
                "Certificate kind",
                match c.kind {
                    CertificateKind::Distribution => "distribution",
                    CertificateKind::Development => "development",
                    CertificateKind::Other => "other",
                },
            )
            .add("Common name", &c.common_name)
            .add("Team id", &c.team_id);
            certificate(f, &c.certificate);
            f.add("Portal id", c.portal_id.as_deref().unwrap_or("(not known)"));
        }
        Metadata::AppleProvisioningProfile(p) => {
            let kind = serde_json::to_value(p.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            f.add("Profile name", &p.name)
                .add("UUID", &p.uuid)
                .add("Kind", kind)
                .add("Team", format!("{} ({})", p.team_name, p.team_id));
            if !p.app_id_name.is_empty() {
                f.add("App id name", &p.app_id_name);
            }
            f.add("App id", &p.application_identifier)
                .add("Bundle id", &p.bundle_id)
                .add("Profile created", output::date(p.created))
                .add(
                    "Devices",
                    if p.provisions_all_devices {
                        "all (enterprise)".to_owned()
                    } else {
                        p.devices.len().to_string()
                    },
                )
                .add("Entitlements", entitlements_summary(&p.entitlements))
                .add(
                    "Certificates allowed",
                    p.certificates
                        .iter()
                        .map(|c| format!("SHA1 {}", super::short_fingerprint(&c.sha1)))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .add("Signed by Apple", if p.apple_signed { "yes" } else { "no" });
            if !p.apple_signed {
                warnings.push(
                    "the profile is not signed by Apple (its signer does not chain to an Apple \
                     root CA)"
                        .to_owned(),
                );
            }
        }
        Metadata::ApplePushKey(k) => {
            f.add("Key id", &k.key_id)
                .add("Team id", &k.team_id)
                .add("Key", format!("EC {}", k.curve));
        }
        Metadata::AscApiKey(k) => {
            f.add("Key id", &k.key_id)
                .add("Issuer id", &k.issuer_id)
                .add("Team id", k.team_id.as_deref().unwrap_or("(not given)"))
                .add(
                    "Roles",
                    if k.roles.is_empty() {
                        "(not given)".to_owned()
                    } else {
                        k.roles.join(", ")
                    },
                );
        }
        Metadata::GoogleServiceAccountKey(k) => {
            f.add("Project", &k.project_id)
                .add("Client e-mail", &k.client_email)
                .add("Private key id", &k.private_key_id);
        }
        Metadata::FcmLegacyKey(k) => {
            f.add("Server key", format!("{}…{}", k.first4, k.last4));
        }
        Metadata::AppleTeam(t) => {
            f.add("Team id", &t.team_id)
                .add("Team name", &t.team_name)
                .add(
                    "Team type",
                    match t.team_type {
                        TeamType::Company => "company",
                        TeamType::Individual => "individual",
                        TeamType::InHouse => "in-house",
                    },
                );
        }
    }
}

fn certificate(f: &mut Fields, c: &CertificateFacts) {
    f.add("Owner", &c.subject)
        .add("Issuer", &c.issuer)
        .add("Serial number", &c.serial)
        .add("Valid from", output::date(c.not_before))
        .add("Valid until", output::date(c.not_after))
        .add(
            "Public key",
            format!("{} {} bits", c.key_algorithm, c.key_size),
        )
        .add("MD5", &c.md5)
        .add("SHA1", &c.sha1)
        .add("SHA256", &c.sha256)
        .add("Base64 SHA1 (key hash)", &c.base64_sha1);
}

/// `get-task-allow=false, aps-environment=production, keychain-access-groups (2)`.
fn entitlements_summary(entitlements: &serde_json::Value) -> String {
    let Some(map) = entitlements.as_object() else {
        return "(none)".to_owned();
    };
    let items: Vec<String> = map
        .iter()
        .filter(|(k, _)| k.as_str() != "application-identifier")
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            serde_json::Value::Bool(b) => format!("{k}={b}"),
            serde_json::Value::Array(a) => format!("{k} ({})", a.len()),
            _ => k.clone(),
        })
        .collect();
    if items.is_empty() {
        "(none beyond the app id)".to_owned()
    } else {
        items.join(", ")
    }
}
