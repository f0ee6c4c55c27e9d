//! `signet app list|create`.

use crate::{
    flags::{AppCreateArgs, AppListArgs},
    output,
    remote::{Remote, table::Table},
};

pub fn list(args: &AppListArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let apps = remote.apps()?;
    if args.output.json {
        return output::json(&apps);
    }
    if apps.is_empty() {
        println!("No apps yet: create one with `signet app create SLUG`.");
        return Ok(());
    }
    let mut t = Table::new(&["SLUG", "ID", "CREATED"]);
    for app in &apps {
        t.row(vec![
            app.slug.clone(),
            app.id.to_string(),
            output::date_ms(app.created_at),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

pub fn create(args: &AppCreateArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let app = remote.block_on(remote.client.create_app(&remote.org, &args.slug))?;
    if args.output.json {
        return output::json(&app);
    }
    println!("Created app {} ({}).", app.slug, app.id);
    Ok(())
}
