//! `signet credentials expiring [--days N]`: what expires within N days, soonest first,
//! expired ones included (SPEC §1's report).

use signet_client::PageRequest;

use super::{Listed, expiry_cell, now_ms, short_id, with_usage};
use crate::{
    flags::CredentialsExpiringArgs,
    output,
    remote::{Remote, table::Table},
};

pub fn expiring_cmd(args: &CredentialsExpiringArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    expiring(&remote, args.days, args.output.json)
}

/// The credentials that expire within `days`, each with what uses it.
pub fn fetch(remote: &Remote, days: u32) -> anyhow::Result<Vec<Listed>> {
    let credentials =
        remote.block_on(remote.client.all(async |page: PageRequest| {
            remote.client.expiring(&remote.org, days, &page).await
        }))?;
    with_usage(remote, credentials)
}

/// Prints the report (or `--json`).
pub fn expiring(remote: &Remote, days: u32, json: bool) -> anyhow::Result<()> {
    let listed = fetch(remote, days)?;
    if json {
        return output::json(&listed);
    }
    if listed.is_empty() {
        println!("Nothing expires within {days} days.");
        return Ok(());
    }
    let now = now_ms();
    let mut t = Table::new(&[
        "ID",
        "TYPE",
        "NAME",
        "TEAM",
        "FINGERPRINT",
        "EXPIRES",
        "IN",
        "USED BY",
    ]);
    for l in &listed {
        let c = &l.credential;
        t.row(vec![
            c.id.to_string(),
            c.kind.name().to_owned(),
            c.name.clone(),
            c.apple_team.clone().unwrap_or_else(|| "-".to_owned()),
            short_id(c),
            c.expires_at.map_or_else(String::new, output::date_ms),
            expiry_cell(c.expires_at, now),
            l.used_by_cell(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}
