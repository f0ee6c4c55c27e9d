//! `signet admin …`: server administration that works on the data dir directly.

use anyhow::Context;
use signet_store::Keyring;

use crate::{UsageError, flags::RotateKeyArgs, output};

/// The master key file in a data dir.
pub const MASTER_KEY_FILE: &str = "master.key";

pub fn rotate_key(args: &RotateKeyArgs) -> anyhow::Result<()> {
    if std::env::var_os("SIGNET_MASTER_KEY").is_some() {
        return Err(UsageError(
            "SIGNET_MASTER_KEY is set: the keys live in that variable, so add the new key there \
             (id:base64 first) instead of rotating the key file"
                .into(),
        )
        .into());
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let path = args.data_dir.join(MASTER_KEY_FILE);
    let mut ring = Keyring::load_or_create(&path).with_context(|| format!("{}", path.display()))?;
    let previous = ring.current().to_owned();
    let id = match &args.key_id {
        Some(id) => id.clone(),
        None => {
            let now = time::OffsetDateTime::now_utc();
            format!(
                "k{:04}{:02}{:02}T{:02}{:02}{:02}",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            )
        }
    };
    ring.rotate(&id).map_err(|e| UsageError(e.to_string()))?;
    ring.save(&path)
        .with_context(|| format!("{}", path.display()))?;
    if args.output.json {
        return output::json(&serde_json::json!({
            "key_file": path.display().to_string(),
            "current": ring.current(),
            "previous": previous,
            "key_ids": ring.key_ids(),
        }));
    }
    println!(
        "Master key `{}` added to {} and made current (previous: `{previous}`).\n\
         New secrets are sealed under it; rewrap the existing ones before removing `{previous}`.",
        ring.current(),
        path.display()
    );
    Ok(())
}
