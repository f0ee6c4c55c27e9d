//! `signet keystore rename`: keytool's `-changealias`.

use anyhow::Context;
use serde::Serialize;
use signet_formats::KeystoreType;

use super::write_back::{Destination, open_for_edit};
use crate::{flags::RenameArgs, output};

#[derive(Serialize)]
struct RenameReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    alias: String,
    new_alias: String,
    aliases: Vec<String>,
}

pub fn rename(args: &RenameArgs) -> anyhow::Result<()> {
    let dest = Destination::new(&args.target.file, args.target.out.as_deref(), args.force)?;
    let name = args.target.file.display();
    let (mut store, store_pass) = open_for_edit(&args.target)?;
    let context = || format!("{name}");
    let old = store
        .entry(&args.alias)
        .with_context(context)?
        .alias()
        .to_owned();
    let new_alias = store
        .rename(&args.alias, &args.new_alias)
        .with_context(context)?;
    let written = dest
        .write(&store, &store_pass, |w| {
            w.entry(&new_alias)?;
            Ok(())
        })
        .with_context(context)?;

    let report = RenameReport {
        file: dest.shown.display().to_string(),
        kind: written.kind(),
        alias: old,
        new_alias,
        aliases: written.aliases(),
    };
    if args.output.json {
        return output::json(&report);
    }
    println!(
        "Renamed `{}` to `{}` in {}",
        report.alias, report.new_alias, report.file
    );
    Ok(())
}
