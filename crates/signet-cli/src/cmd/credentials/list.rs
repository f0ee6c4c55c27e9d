//! `signet credentials list [--type T] [--app A] [--deleted]`.

use std::collections::HashSet;

use signet_client::{CredentialFilter, Kind, PageRequest};

use super::{Listed, expiry_cell, now_ms, short_id, with_usage};
use crate::{
    flags::CredentialsListArgs,
    output,
    remote::{self, Remote, table::Table},
};

/// Which credentials to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only this type.
    pub kind: Option<Kind>,
    /// Only what this app (slug or id) uses.
    pub app: Option<String>,
    /// Deleted ones instead of live ones.
    pub deleted: bool,
}

pub fn list_cmd(args: &CredentialsListArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let query = ListQuery {
        kind: args.kind.map(crate::flags::KindArg::kind),
        app: args.app.clone(),
        deleted: args.deleted,
    };
    list(&remote, &query, args.output.json)
}

/// The credentials `query` selects, each with what uses it (and, deleted, when it is
/// purged).
pub fn fetch(remote: &Remote, query: &ListQuery) -> anyhow::Result<Vec<Listed>> {
    let filter = CredentialFilter {
        kind: query.kind,
        deleted: query.deleted,
    };
    let credentials = remote.block_on(remote.client.all(async |page: PageRequest| {
        remote.client.credentials(&remote.org, filter, &page).await
    }))?;
    let mut listed = with_usage(remote, credentials)?;
    if let Some(app) = &query.app {
        let details = remote.block_on(remote.client.app(&remote.org, app))?;
        let used: HashSet<_> = remote::uses(&details)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        listed.retain(|l| used.contains(&l.credential.id));
    }
    if query.deleted {
        let window = remote
            .block_on(remote.client.org(&remote.org))?
            .limits
            .restore_window_days;
        let window_ms = i64::try_from(window)
            .unwrap_or(i64::MAX / 2)
            .saturating_mul(86_400_000);
        for l in &mut listed {
            l.purge_after = l
                .credential
                .deleted_at
                .map(|at| at.saturating_add(window_ms));
        }
    }
    Ok(listed)
}

/// Prints the table (or `--json`).
pub fn list(remote: &Remote, query: &ListQuery, json: bool) -> anyhow::Result<()> {
    let listed = fetch(remote, query)?;
    if json {
        return output::json(&listed);
    }
    let now = now_ms();
    let mut t = if query.deleted {
        Table::new(&[
            "ID",
            "TYPE",
            "NAME",
            "TEAM",
            "FINGERPRINT",
            "DELETED",
            "PURGED AFTER",
        ])
    } else {
        Table::new(&[
            "ID",
            "TYPE",
            "NAME",
            "TEAM",
            "FINGERPRINT",
            "EXPIRES IN",
            "USED BY",
        ])
    };
    for l in &listed {
        let c = &l.credential;
        let mut row = vec![
            c.id.to_string(),
            c.kind.name().to_owned(),
            c.name.clone(),
            c.apple_team.clone().unwrap_or_else(|| "-".to_owned()),
            short_id(c),
        ];
        if query.deleted {
            row.push(c.deleted_at.map_or_else(String::new, output::date_ms));
            row.push(l.purge_after.map_or_else(String::new, output::date_ms));
        } else {
            row.push(expiry_cell(c.expires_at, now));
            row.push(l.used_by_cell());
        }
        t.row(row);
    }
    if t.is_empty() {
        println!("{}", empty_message(query));
        return Ok(());
    }
    print!("{}", t.render());
    Ok(())
}

fn empty_message(query: &ListQuery) -> String {
    if query.deleted {
        return "No deleted credentials (none waiting to be purged).".to_owned();
    }
    match (&query.app, query.kind) {
        (None, None) => {
            "No credentials yet: upload one with `signet credentials upload <type> …`.".to_owned()
        }
        (Some(app), None) => format!("App {app} uses no credentials yet."),
        (None, Some(kind)) => format!("No {} credentials.", kind.name()),
        (Some(app), Some(kind)) => format!("App {app} uses no {} credentials.", kind.name()),
    }
}
