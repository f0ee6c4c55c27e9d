//! `signet login`, `logout` and `whoami`: the saved session.

use anyhow::Context;
use serde_json::json;
use signet_client::{Client, ClientError, Me, Org, SecretString};

use crate::{
    UsageError,
    flags::{LoginArgs, LogoutArgs, RemoteArgs, WhoamiArgs},
    output,
    remote::{self, Config, Remote},
    secret_arg,
};

pub fn login(args: &LoginArgs) -> anyhow::Result<()> {
    let mut config = Config::load()?;
    let server = remote::server_url(
        &RemoteArgs {
            server: args.server.clone(),
            org: None,
        },
        &config,
    )?;
    let client = Client::new(&server)?;
    if let Some(w) = remote::cleartext_warning(&server) {
        eprintln!("warning: {w}");
    }
    let runtime = remote::runtime()?;
    let (token, email) = match &args.token {
        Some(token) => (SecretString::new(token.resolve()?.expose()), None),
        None => {
            let email = match &args.email {
                Some(e) => e.clone(),
                None if remote::interactive() => dialoguer::Input::<String>::new()
                    .with_prompt("E-mail")
                    .interact_text()
                    .context("cannot read the e-mail from the terminal")?,
                None => {
                    return Err(UsageError(
                        "--email is needed when standard input is not a terminal (or --token \
                         for a robot)"
                            .into(),
                    )
                    .into());
                }
            };
            let password =
                secret_arg::resolve_or_prompt(args.password.as_ref(), Some("Password: "))?
                    .ok_or_else(|| {
                        UsageError(
                            "--password is needed when standard input is not a terminal \
                         (pass:VALUE, env:VAR, file:PATH or stdin)"
                                .into(),
                        )
                    })?;
            let logged_in = runtime
                .block_on(client.login(&email, &SecretString::new(password.expose())))
                .map_err(|e| match e {
                    // Not a session that expired (the hint a 401 gets elsewhere).
                    ClientError::Problem(p) if p.status == 401 => anyhow::anyhow!("{}", p.detail),
                    other => other.into(),
                })?;
            (logged_in.token, Some(email))
        }
    };
    let client = client.with_token(token.clone());
    let me = runtime.block_on(client.me())?;
    let (org, role) = match &me {
        Me::Robot { org, role, .. } => {
            if let Some(wanted) = &args.org {
                if wanted != org.as_str() {
                    return Err(UsageError(format!(
                        "this robot token belongs to organization {org}, not `{wanted}`"
                    ))
                    .into());
                }
            }
            (
                Some((org.to_string(), org.to_string())),
                Some(role.name().to_owned()),
            )
        }
        Me::User { orgs, .. } => match pick_org(orgs, args.org.as_deref())? {
            Some(o) => (
                Some((o.id.to_string(), o.name.clone())),
                o.role.map(|r| r.name().to_owned()),
            ),
            None => (None, None),
        },
    };
    // A previous session of this machine on the same server is revoked, not left behind.
    if let (Some(old), Some(old_server)) = (&config.token, &config.server) {
        if old_server == &server
            && old.expose() != token.expose()
            && old.expose().starts_with("sgu_")
        {
            let old_client = Client::new(&server)?.with_token(old.clone());
            let _ = runtime.block_on(old_client.logout());
        }
    }
    config.server = Some(server.clone());
    config.token = Some(token);
    config.org = org.as_ref().map(|(id, _)| id.clone());
    config.email.clone_from(&email);
    let path = config.save()?;
    if args.output.json {
        return output::json(&json!({
            "server": server,
            "kind": match me { Me::User { .. } => "user", Me::Robot { .. } => "robot" },
            "email": email,
            "org": org.as_ref().map(|(id, _)| id),
            "role": role,
            "config": path.display().to_string(),
        }));
    }
    let who = email.map_or_else(|| "a robot token".to_owned(), |e| e.clone());
    match (&org, &role) {
        (Some((_, name)), Some(role)) => {
            println!("Logged in to {server} as {who} (organization {name}, role {role}).");
        }
        _ => println!(
            "Logged in to {server} as {who}. You belong to several organizations: choose one \
             with --org on each command, or log in again with --org."
        ),
    }
    eprintln!("Saved to {} (mode 0600).", path.display());
    Ok(())
}

/// The organization to save: the one asked for, the only one, or one chosen on a
/// terminal; none when there are several and no one can be asked.
fn pick_org<'a>(orgs: &'a [Org], wanted: Option<&str>) -> anyhow::Result<Option<&'a Org>> {
    if let Some(w) = wanted {
        return orgs
            .iter()
            .find(|o| o.id.as_str() == w || o.name == w)
            .map(Some)
            .ok_or_else(|| {
                UsageError(format!("you are not a member of an organization `{w}`")).into()
            });
    }
    match orgs {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several if remote::interactive() => {
            let items: Vec<String> = several
                .iter()
                .map(|o| format!("{} ({})", o.name, o.role.map_or("", |r| r.name())))
                .collect();
            let i = dialoguer::Select::new()
                .with_prompt("Organization")
                .items(&items)
                .default(0)
                .interact()
                .context("cannot read the choice from the terminal")?;
            Ok(several.get(i))
        }
        _ => Ok(None),
    }
}

pub fn logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let config = Config::load()?;
    let (Some(token), Some(server)) = (config.token.clone(), config.server.clone()) else {
        println!("Not logged in.");
        return Ok(());
    };
    // The saved session is revoked on its own server, and its token sent nowhere else.
    if let Some(other) = &args.remote.server {
        if !remote::same_server(other, &server) {
            return Err(UsageError(format!(
                "the saved login is for {server}, not {other}: `signet logout` without \
                 --server (or SIGNET_SERVER) logs out of it"
            ))
            .into());
        }
    }
    let revoked = if token.expose().starts_with("sgu_") {
        let client = Client::new(&server)?.with_token(token);
        match remote::runtime()?.block_on(client.logout()) {
            // Already revoked or expired: nothing left to revoke.
            Err(ClientError::Problem(p)) if p.status == 401 => Ok(()),
            other => other,
        }
    } else {
        Ok(())
    };
    let path = Config::remove()?;
    match revoked {
        Ok(()) => {
            println!("Logged out of {server}.");
            if let Some(path) = path {
                eprintln!("Removed {}.", path.display());
            }
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(
            "forgotten here, but the server was not told: the session stays valid until it \
             expires or is revoked (`signet whoami` lists your sessions after a new login)",
        )),
    }
}

pub fn whoami(args: &WhoamiArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let me = remote.block_on(remote.client.me())?;
    // A robot limited to apps may not read the organization: its own record says enough.
    let org = match (&me, remote.block_on(remote.client.org(&remote.org))) {
        (_, Ok(org)) => Some(org),
        (Me::Robot { .. }, Err(ClientError::Problem(p))) if p.status == 403 => None,
        (_, Err(e)) => return Err(e.into()),
    };
    let role = match (&org, &me) {
        (Some(o), _) => o.role,
        (None, Me::Robot { role, .. }) => *role,
        (None, Me::User { .. }) => unreachable!("a user's organization is read or refused"),
    };
    if args.output.json {
        let who = match &me {
            Me::User { user, .. } => json!({ "kind": "user", "user": user }),
            Me::Robot {
                token_id, app_ids, ..
            } => json!({ "kind": "robot", "token_id": token_id, "app_ids": app_ids }),
        };
        let org = match &org {
            Some(o) => json!(o),
            None => json!({ "id": remote.org, "role": role }),
        };
        return output::json(&json!({
            "server": remote.client.server(),
            "caller": who,
            "org": org,
        }));
    }
    let mut f = output::Fields::new(0);
    f.add("Server", remote.client.server());
    match &me {
        Me::User { user, sessions, .. } => {
            f.add("User", format!("{} ({})", user.email, user.id));
            f.add("Sessions", sessions.len().to_string());
        }
        Me::Robot {
            token_id, app_ids, ..
        } => {
            f.add("Robot", token_id.to_string());
            f.add(
                "Apps",
                app_ids.as_ref().map_or_else(
                    || "all".to_owned(),
                    |ids| {
                        ids.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ),
            );
        }
    }
    match &org {
        Some(o) => f.add("Organization", format!("{} ({})", o.name, o.id)),
        None => f.add("Organization", remote.org.to_string()),
    };
    f.add("Role", role.name());
    print!("{}", f.render());
    Ok(())
}
