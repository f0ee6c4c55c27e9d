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
use signet_client::Credential;

use crate::{
    flags::{CredentialsArgs, CredentialsCommand, PlatformArg, RemoteArgs},
    remote::Remote,
};

pub use crate::remote::describe::{
    WARN_DAYS, days_left, expiry as expiry_cell, fingerprint as short_id, now_ms, short_fingerprint,
};

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
        Some(CredentialsCommand::Sync(a)) => crate::cmd::credentials_sync::run(a),
        Some(CredentialsCommand::Android(c)) => crate::cmd::credentials_android::run(c),
        Some(CredentialsCommand::Ios(c)) => crate::cmd::credentials_ios::run(c),
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

/// An error about credential `id`: a 404 says which credential was not found.
pub fn about(id: &signet_client::CredentialId, e: signet_client::ClientError) -> anyhow::Error {
    match e.status() {
        Some(404) => anyhow::Error::new(e).context(format!(
            "credential {id} is not in this organization (or was destroyed after its restore \
             window)"
        )),
        _ => e.into(),
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
