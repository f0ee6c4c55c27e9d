//! What every command that talks to a server shares: which server, token and organization
//! (flags, then `SIGNET_SERVER`/`SIGNET_TOKEN`/`SIGNET_ORG`, then the saved login), a
//! runtime for signet-client's async calls, confirmations, and the errors a person can act
//! on.

pub mod config;
pub mod describe;
pub mod signer;
pub mod slots;
pub mod table;

use std::{collections::HashMap, io::IsTerminal};

use anyhow::Context;
use signet_client::{
    AppCredentials, Client, ClientError, CredentialId, Me, OrgId, PageRequest, SecretString,
};

use crate::{UsageError, flags::RemoteArgs};

pub use config::Config;

/// A connection to a server, as one user or robot, in one organization.
pub struct Remote {
    /// The client, with the token.
    pub client: Client,
    /// The organization acted on.
    pub org: OrgId,
    runtime: tokio::runtime::Runtime,
}

/// A single-threaded runtime for one command's calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The server's URL: the flag or `SIGNET_SERVER` (clap reads both), else the saved one.
pub fn server_url(args: &RemoteArgs, config: &Config) -> anyhow::Result<String> {
    args.server
        .clone()
        .or_else(|| config.server.clone())
        .ok_or_else(|| {
            UsageError(
                "no server: log in with `signet login --server URL`, or set SIGNET_SERVER \
                 (and SIGNET_TOKEN)"
                    .into(),
            )
            .into()
        })
}

/// `SIGNET_TOKEN`, else the saved token, which is only ever sent to the server it was
/// saved for.
fn token(server: &str, config: &Config) -> anyhow::Result<SecretString> {
    if let Some(token) = std::env::var("SIGNET_TOKEN").ok().filter(|t| !t.is_empty()) {
        return Ok(SecretString::new(token));
    }
    match (&config.token, &config.server) {
        (Some(token), Some(saved)) if same_server(saved, server) => Ok(token.clone()),
        (Some(_), Some(saved)) => Err(anyhow::Error::new(ClientError::NoToken).context(format!(
            "not logged in to {server} (the saved login is for {saved}, and its token is sent \
             to no other server): `signet login --server {server}`, or set SIGNET_TOKEN"
        ))),
        _ => Err(anyhow::Error::new(ClientError::NoToken).context(format!(
            "log in first: `signet login --server {server}` (or set SIGNET_TOKEN)"
        ))),
    }
}

/// A warning for a server reached over plain HTTP on another machine: tokens and the
/// secrets of uploads and exports would cross the network in the clear.
pub fn cleartext_warning(server: &str) -> Option<String> {
    let rest = server.trim().strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "{server} is plain HTTP: your token, and the passwords and keys of uploads and \
             exports, cross the network unencrypted; serve it behind TLS (https://)"
        )
    })
}

/// Whether two server URLs name the same server (a trailing `/` aside).
pub fn same_server(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

impl Remote {
    /// Connects as the saved login (or the environment's), in the organization of
    /// `--org`/`SIGNET_ORG`, the saved one, or the only one the caller has.
    pub fn connect(args: &RemoteArgs) -> anyhow::Result<Remote> {
        let config = Config::load()?;
        let server = server_url(args, &config)?;
        let token = token(&server, &config)?;
        let client = Client::new(&server)?.with_token(token);
        if let Some(w) = cleartext_warning(&server) {
            eprintln!("warning: {w}");
        }
        let runtime = runtime()?;
        let wanted = args.org.clone().or_else(|| {
            // The saved organization belongs to the saved server and login.
            config
                .server
                .as_deref()
                .is_some_and(|saved| same_server(saved, &server))
                .then(|| config.org.clone())
                .flatten()
        });
        let org = runtime.block_on(choose_org(&client, wanted.as_deref()))?;
        Ok(Remote {
            client,
            org,
            runtime,
        })
    }

    /// Runs a call to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Every app of the organization, page after page.
    pub fn apps(&self) -> anyhow::Result<Vec<signet_client::App>> {
        Ok(self.block_on(
            self.client
                .all(async |page: PageRequest| self.client.apps(&self.org, &page).await),
        )?)
    }

    /// What uses each credential of the organization: one line per use
    /// (`app acme / android com.acme / build set release`), across every app.
    pub fn usage(&self) -> anyhow::Result<HashMap<CredentialId, Vec<String>>> {
        let apps = self.apps()?;
        let mut usage: HashMap<CredentialId, Vec<String>> = HashMap::new();
        for app in apps {
            let details = self.block_on(self.client.app(&self.org, app.id.as_str()))?;
            for (id, line) in uses(&details) {
                usage.entry(id).or_default().push(line);
            }
        }
        Ok(usage)
    }
}

/// Each credential an app uses, with where.
pub fn uses(app: &AppCredentials) -> Vec<(CredentialId, String)> {
    let slug = &app.app.slug;
    let mut out = Vec::new();
    for set in &app.build_sets {
        let default = if set.is_default { " (default)" } else { "" };
        out.push((
            set.keystore_id.clone(),
            format!(
                "{slug} / android {} / build set {}{default}",
                set.application_id, set.name
            ),
        ));
    }
    for pair in &app.build_pairs {
        let place = format!("{slug} / ios {} / {}", pair.bundle_id, pair.distribution);
        out.push((pair.certificate_id.clone(), place.clone()));
        out.push((pair.profile_id.clone(), place));
    }
    for link in &app.links {
        out.push((
            link.credential_id.clone(),
            format!(
                "{slug} / {} {} / {}",
                link.platform, link.identifier, link.slot
            ),
        ));
    }
    out
}

/// The organization to act in: `wanted` (an id or a name) among the caller's, or the only
/// one. A robot belongs to one.
async fn choose_org(client: &Client, wanted: Option<&str>) -> anyhow::Result<OrgId> {
    match client.me().await? {
        Me::Robot { org, .. } => match wanted {
            Some(w) if w != org.as_str() => Err(UsageError(format!(
                "this robot token belongs to organization {org}, not `{w}`"
            ))
            .into()),
            _ => Ok(org),
        },
        Me::User { orgs, .. } => {
            if let Some(w) = wanted {
                return orgs
                    .iter()
                    .find(|o| o.id.as_str() == w || o.name == w)
                    .map(|o| o.id.clone())
                    .ok_or_else(|| {
                        UsageError(format!(
                            "you are not a member of an organization `{w}`; yours: {}",
                            names(&orgs)
                        ))
                        .into()
                    });
            }
            match orgs.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => Err(UsageError(
                    "you are not a member of any organization yet; ask an admin to add you".into(),
                )
                .into()),
                _ => Err(UsageError(format!(
                    "you belong to several organizations ({}): choose one with --org (or \
                     SIGNET_ORG)",
                    names(&orgs)
                ))
                .into()),
            }
        }
    }
}

fn names(orgs: &[signet_client::Org]) -> String {
    orgs.iter()
        .map(|o| format!("{} ({})", o.name, o.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the user can be asked: standard input and error are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks before a destructive action. `--yes` answers for the user; off a terminal without
/// it, the action is refused (exit 2), never assumed.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(UsageError(format!(
            "{question}: pass --yes to confirm (standard input is not a terminal)"
        ))
        .into());
    }
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .context("cannot read the answer from the terminal")?;
    if answer {
        Ok(())
    } else {
        Err(Cancelled.into())
    }
}

/// Asks the user to type `expected` (a credential's name) to go on; anything else cancels.
/// Only on a terminal: off one it is a usage error, as [`confirm`] without `--yes` is.
pub fn confirm_typed(prompt: &str, expected: &str) -> anyhow::Result<()> {
    if !interactive() {
        return Err(UsageError(format!(
            "{prompt}: pass --yes to confirm (standard input is not a terminal)"
        ))
        .into());
    }
    let typed: String = dialoguer::Input::new()
        .with_prompt(prompt)
        .allow_empty(true)
        .interact_text()
        .context("cannot read the answer from the terminal")?;
    if typed == expected {
        Ok(())
    } else {
        Err(Cancelled.into())
    }
}

/// The user answered no.
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled; nothing was changed")
    }
}

impl std::error::Error for Cancelled {}

/// The hint for an error from a server, if one helps.
pub fn hint(err: &ClientError) -> Option<String> {
    match err {
        ClientError::Connect { server, .. } => Some(format!(
            "is a signet server running at {server}? Start one with `signet serve`, or give \
             another with --server (or SIGNET_SERVER)"
        )),
        ClientError::NoToken => Some("log in with `signet login --server URL`".into()),
        ClientError::Problem(p) if p.status == 401 => Some(
            "the session expired or was revoked: log in again with `signet login` (a robot \
             token in SIGNET_TOKEN may have been revoked or have expired)"
                .into(),
        ),
        ClientError::Problem(p) if p.status == 412 => Some(
            "someone changed it since it was read: run the command again to act on what is \
             there now"
                .into(),
        ),
        ClientError::Problem(p) if p.status == 429 || p.status == 503 => {
            p.retry_after.map(|s| format!("try again in {s} s"))
        }
        ClientError::Problem(p) if p.kind == "asc-key-missing" => Some(
            "upload the team's App Store Connect API key with `signet credentials upload asc-key \
             AuthKey_<KEY ID>.p8 --issuer-id <UUID>`, then assign it with `signet credentials ios \
             slot set --app <APP> --bundle-id <ID> asc-api-key --credential <its id>`"
                .into(),
        ),
        ClientError::Problem(p) if p.kind == "no-devices" => Some(
            "register a device with `signet ios device add --app <APP> --udid <UDID> --name <NAME>`"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod cleartext_tests {
    use super::cleartext_warning;

    #[test]
    fn plain_http_is_only_fine_on_this_machine() {
        for quiet in [
            "http://127.0.0.1:8420",
            "http://localhost:8420/",
            "http://[::1]:8420",
            "https://signet.example.com",
        ] {
            assert_eq!(cleartext_warning(quiet), None, "{quiet}");
        }
        let w = cleartext_warning("http://signet.example.com:8420").unwrap();
        assert!(
            w.starts_with("http://signet.example.com:8420 is plain HTTP"),
            "{w}"
        );
        assert!(cleartext_warning("http://10.0.0.5").is_some());
    }
}
