//! The organization's people and robots: `signet robot create|list|revoke`, `signet member
//! list|add|set-role|remove`, `signet audit`.
//!
//! Each action is a function of a [`Remote`] and parsed values, apart from the flags, so
//! that the interactive menu can call it.

use std::collections::HashMap;

use anyhow::bail;
use serde_json::json;
use signet_client::{
    AppId, AuditRecord, Member, NewRobot, PageRequest, RobotCreated, Role, TokenId, TokenInfo,
};

use crate::{
    flags::{AuditArgs, MemberCommand, RobotCommand, RoleArg},
    output,
    remote::{self, Remote, describe, table::Table},
};

/// The store's role for a `--role` value.
pub fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::Viewer => Role::Viewer,
        RoleArg::Developer => Role::Developer,
        RoleArg::Admin => Role::Admin,
        RoleArg::Owner => Role::Owner,
    }
}

// --- robots ----------------------------------------------------------------------------

/// Runs one `signet robot` command.
pub fn robot(command: &RobotCommand) -> anyhow::Result<()> {
    match command {
        RobotCommand::Create(args) => {
            let remote = Remote::connect(&args.remote)?;
            let role = role(args.role);
            let name = args
                .name
                .clone()
                .unwrap_or_else(|| format!("ci-{}", role.name()));
            let created = create_robot(&remote, &name, role, &args.apps, args.expires_in_days)?;
            if args.output.json {
                // The token is printed here, once: asked for, in the JSON only.
                return output::json(&json!({
                    "robot": created.robot,
                    "token": created.token.expose(),
                }));
            }
            let apps = if args.apps.is_empty() {
                "every app".to_owned()
            } else {
                format!("apps {}", args.apps.join(", "))
            };
            let expires = created
                .robot
                .expires_at
                .map(|t| format!(", expires {}", output::date_ms(t)))
                .unwrap_or_default();
            println!(
                "Created robot {} `{}`: {}, {apps}{expires}.\n\
                 Its token, shown this once (keep it in your CI's secrets as SIGNET_TOKEN, with \
                 SIGNET_SERVER):\n{}",
                created.robot.id,
                created.robot.name,
                role.name(),
                created.token.expose()
            );
            Ok(())
        }
        RobotCommand::List(args) => {
            let remote = Remote::connect(&args.remote)?;
            let robots = robots(&remote)?;
            if args.output.json {
                return output::json(&robots);
            }
            if robots.is_empty() {
                println!("No robots yet: create one with `signet robot create --role ROLE`.");
                return Ok(());
            }
            let slugs = app_slugs(&remote)?;
            let now = describe::now_ms();
            let mut t = Table::new(&[
                "ID",
                "NAME",
                "ROLE",
                "APPS",
                "CREATED",
                "LAST USED",
                "STATUS",
            ]);
            for r in &robots {
                t.row(vec![
                    r.id.to_string(),
                    r.name.clone(),
                    r.role.map_or("-", Role::name).to_owned(),
                    r.app_ids.as_ref().map_or_else(
                        || "all".to_owned(),
                        |ids| {
                            ids.iter()
                                .map(|id| slugs.get(id).map_or(id.as_str(), String::as_str))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ),
                    output::date_ms(r.created_at),
                    r.last_used_at
                        .map_or_else(|| "never".into(), output::date_ms),
                    status(r, now),
                ]);
            }
            print!("{}", t.render());
            Ok(())
        }
        RobotCommand::Revoke(args) => {
            let remote = Remote::connect(&args.remote)?;
            let robot = revoke_robot(&remote, &args.id, args.yes)?;
            if args.output.json {
                return output::json(&json!({ "revoked": robot }));
            }
            println!("Revoked robot {} `{}`.", robot.id, robot.name);
            Ok(())
        }
    }
}

/// `active`, `revoked`, `expired`, or `expires in N days`.
fn status(r: &TokenInfo, now: i64) -> String {
    if r.revoked_at.is_some() {
        return "revoked".into();
    }
    match r.expires_at {
        Some(at) if at <= now => "expired".into(),
        Some(at) => {
            let days = describe::days_left(at, now);
            format!("expires in {days} day{}", if days == 1 { "" } else { "s" })
        }
        None => "active".into(),
    }
}

/// The organization's app slugs by id.
fn app_slugs(remote: &Remote) -> anyhow::Result<HashMap<AppId, String>> {
    let apps = remote.apps()?;
    Ok(apps.into_iter().map(|a| (a.id, a.slug)).collect())
}

/// The organization's robots (never their tokens).
pub fn robots(remote: &Remote) -> anyhow::Result<Vec<TokenInfo>> {
    Ok(remote.block_on(remote.client.robots(&remote.org))?)
}

/// Creates a robot with `role`, limited to `apps` (slugs or ids) unless empty; its token
/// is in the answer, once.
pub fn create_robot(
    remote: &Remote,
    name: &str,
    role: Role,
    apps: &[String],
    expires_in_days: Option<u32>,
) -> anyhow::Result<RobotCreated> {
    let app_ids = if apps.is_empty() {
        None
    } else {
        let mut ids = Vec::new();
        for app in apps {
            ids.push(describe::app(remote, app)?.app.id);
        }
        Some(ids)
    };
    let robot = NewRobot {
        name: name.to_owned(),
        role,
        app_ids,
        expires_in_days,
    };
    Ok(remote.block_on(remote.client.create_robot(&remote.org, &robot))?)
}

/// Revokes robot `id` after naming it and asking.
pub fn revoke_robot(remote: &Remote, id: &TokenId, yes: bool) -> anyhow::Result<TokenInfo> {
    let Some(robot) = robots(remote)?.into_iter().find(|r| &r.id == id) else {
        bail!("no robot {id} in this organization (see `signet robot list`)");
    };
    if robot.revoked_at.is_some() {
        bail!("robot {id} `{}` is already revoked", robot.name);
    }
    eprintln!(
        "Every job using the token of robot {id} `{}` ({}) gets 401 from now on.",
        robot.name,
        robot.role.map_or("-", Role::name)
    );
    remote::confirm(&format!("Revoke robot {id} `{}`", robot.name), yes)?;
    remote.block_on(remote.client.revoke_robot(&remote.org, id))?;
    Ok(robot)
}

// --- members ---------------------------------------------------------------------------

/// Runs one `signet member` command.
pub fn member(command: &MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::List(args) => {
            let remote = Remote::connect(&args.remote)?;
            let members = members(&remote)?;
            if args.output.json {
                return output::json(&members);
            }
            let mut t = Table::new(&["EMAIL", "ROLE", "USER ID"]);
            for m in &members {
                t.row(vec![
                    m.email.clone(),
                    m.role.name().into(),
                    m.user_id.to_string(),
                ]);
            }
            print!("{}", t.render());
            Ok(())
        }
        MemberCommand::Add(args) => {
            let remote = Remote::connect(&args.remote)?;
            let m = add_member(&remote, &args.email, role(args.role))?;
            if args.output.json {
                return output::json(&m);
            }
            println!("Added {} as {}.", m.email, m.role.name());
            Ok(())
        }
        MemberCommand::SetRole(args) => {
            let remote = Remote::connect(&args.remote)?;
            let (m, before) = set_role(&remote, &args.email, role(args.role), args.yes)?;
            if args.output.json {
                return output::json(&m);
            }
            println!(
                "{} is now {} (was {}).",
                m.email,
                m.role.name(),
                before.name()
            );
            Ok(())
        }
        MemberCommand::Remove(args) => {
            let remote = Remote::connect(&args.remote)?;
            let m = remove_member(&remote, &args.email, args.yes)?;
            if args.output.json {
                return output::json(&json!({ "removed": m }));
            }
            println!("Removed {} ({}).", m.email, m.role.name());
            Ok(())
        }
    }
}

/// The organization's members.
pub fn members(remote: &Remote) -> anyhow::Result<Vec<Member>> {
    Ok(remote.block_on(remote.client.members(&remote.org))?)
}

fn find_member(remote: &Remote, email: &str) -> anyhow::Result<Option<Member>> {
    Ok(members(remote)?.into_iter().find(|m| m.email == email))
}

/// Adds a user, by e-mail, with `role`.
pub fn add_member(remote: &Remote, email: &str, role: Role) -> anyhow::Result<Member> {
    if let Some(m) = find_member(remote, email)? {
        bail!(
            "{email} is already a member ({}); change the role with `signet member set-role`",
            m.role.name()
        );
    }
    Ok(remote.block_on(remote.client.set_member(&remote.org, email, role))?)
}

/// The live robots a member made whose role is above `keeps` (all of them when `None`):
/// what the server revokes when the member is demoted to `keeps`, or leaves.
fn robots_lost(
    remote: &Remote,
    member: &Member,
    keeps: Option<Role>,
) -> anyhow::Result<Vec<TokenInfo>> {
    let creator = format!("user:{}", member.user_id);
    Ok(robots(remote)?
        .into_iter()
        .filter(|r| r.created_by == creator && r.revoked_at.is_none())
        .filter(|r| keeps.is_none_or(|k| r.role.is_none_or(|role| role > k)))
        .collect())
}

fn robot_names(robots: &[TokenInfo]) -> String {
    robots
        .iter()
        .map(|r| format!("{} `{}`", r.id, r.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Changes a member's role; returns the member and the role they had. A demotion that
/// revokes robots they made says which, and asks.
pub fn set_role(
    remote: &Remote,
    email: &str,
    role: Role,
    yes: bool,
) -> anyhow::Result<(Member, Role)> {
    let Some(current) = find_member(remote, email)? else {
        bail!("{email} is not a member; add them with `signet member add`");
    };
    if role < current.role {
        let lost = robots_lost(remote, &current, Some(role))?;
        if !lost.is_empty() {
            eprintln!(
                "Robots {email} made with a role above {} are revoked: {}.",
                role.name(),
                robot_names(&lost)
            );
            remote::confirm(&format!("Make {email} {}", role.name()), yes)?;
        }
    }
    let m = remote.block_on(remote.client.set_member(&remote.org, email, role))?;
    Ok((m, current.role))
}

/// Removes a member after saying what goes with them, and asking.
pub fn remove_member(remote: &Remote, email: &str, yes: bool) -> anyhow::Result<Member> {
    let Some(member) = find_member(remote, email)? else {
        bail!("{email} is not a member of this organization");
    };
    let lost = robots_lost(remote, &member, None)?;
    let robots = if lost.is_empty() {
        String::new()
    } else {
        format!(" The robots they made are revoked: {}.", robot_names(&lost))
    };
    eprintln!(
        "{email} ({}) loses access to this organization.{robots}",
        member.role.name()
    );
    remote::confirm(&format!("Remove {email}"), yes)?;
    remote.block_on(remote.client.remove_member(&remote.org, &member.user_id))?;
    Ok(member)
}

// --- audit -----------------------------------------------------------------------------

/// `signet audit`.
pub fn audit(args: &AuditArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let action = args.signatures.then_some("sign");
    let records = audit_records(&remote, (!args.all).then_some(args.limit), action)?;
    if args.output.json {
        return output::json(&records);
    }
    if records.is_empty() {
        println!(
            "{}",
            if args.signatures {
                "No signature has been made with a key the server holds."
            } else {
                "The audit log is empty."
            }
        );
        return Ok(());
    }
    let names = actor_names(&remote);
    if args.signatures {
        print!("{}", signature_table(&records, &names).render());
        return Ok(());
    }
    let mut t = Table::new(&["TIME", "ACTOR", "ACTION", "TARGET", "IP"]);
    for r in &records {
        t.row(vec![
            output::date_ms(r.at),
            names
                .get(&r.actor)
                .cloned()
                .unwrap_or_else(|| r.actor.clone()),
            r.action.clone(),
            r.target.clone(),
            r.ip.clone(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

/// One row per signature: when, who, from where, which app and build, what was signed,
/// the key's certificate SHA-256 and the digest the signature covers.
fn signature_table(records: &[AuditRecord], names: &HashMap<String, String>) -> Table {
    let mut t = Table::new(&[
        "TIME",
        "ACTOR",
        "IP",
        "APP",
        "BUILD",
        "ARTIFACT",
        "SIGNED",
        "KEY SHA-256",
        "DIGEST",
    ]);
    for r in records {
        let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
        let text = |field: &str| {
            detail
                .get(field)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let build = match (text("application_id"), text("bundle_id")) {
            (id, _) if !id.is_empty() => format!("{id} / {}", text("build_set")),
            (_, bundle) => format!("{bundle} / {}", text("distribution")),
        };
        let key = text("key_sha256");
        t.row(vec![
            output::date_ms(r.at),
            names
                .get(&r.actor)
                .cloned()
                .unwrap_or_else(|| r.actor.clone()),
            r.ip.clone(),
            text("app"),
            build,
            text("artifact"),
            text("purpose"),
            key.get(..23).map_or(key.clone(), |k| format!("{k}…")),
            format!("{}:{}", text("digest_algorithm"), text("digest")),
        ]);
    }
    t
}

/// The newest `limit` records (of one `action`, when given), or all of them, newest first.
pub fn audit_records(
    remote: &Remote,
    limit: Option<u32>,
    action: Option<&str>,
) -> anyhow::Result<Vec<AuditRecord>> {
    let page_of = async |page: PageRequest| match action {
        Some(action) => remote.client.audit_action(&remote.org, action, &page).await,
        None => remote.client.audit(&remote.org, &page).await,
    };
    let Some(limit) = limit else {
        return Ok(remote.block_on(remote.client.all(page_of))?);
    };
    let mut out: Vec<AuditRecord> = Vec::new();
    let mut cursor = None;
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    while out.len() < wanted {
        let left = u32::try_from(wanted - out.len()).unwrap_or(u32::MAX);
        let page = PageRequest {
            cursor,
            limit: Some(left.min(500)),
        };
        let page = remote.block_on(page_of(page))?;
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.truncate(wanted);
    Ok(out)
}

/// `user:<id>` as the member's e-mail and `robot:<id>` as `robot <name>`, where the
/// caller may list them; the raw actor otherwise.
fn actor_names(remote: &Remote) -> HashMap<String, String> {
    let mut names = HashMap::new();
    if let Ok(members) = members(remote) {
        for m in members {
            names.insert(format!("user:{}", m.user_id), m.email);
        }
    }
    // Robots cannot list robots; their names are then left as ids.
    if let Ok(robots) = robots(remote) {
        for r in robots {
            names.insert(format!("robot:{}", r.id), format!("robot {}", r.name));
        }
    }
    names
}
