//! `signet admin …`: server administration that works on the data dir directly.

use anyhow::Context;
use signet_server::{MASTER_KEY_FILE, SETUP_TOKEN_FILE, open_store};
use signet_store::Keyring;

use crate::{
    UsageError,
    flags::{CreateUserArgs, RemoveKeyArgs, RewrapArgs, RotateKeyArgs},
    output,
};

/// `signet admin rotate-key`: a new current key in the key file. The database is opened
/// as `serve` opens it (so a missing key file is made only for a database without sealed
/// secrets), and a key id it already holds secrets under is never given to a new key.
pub fn rotate_key(args: &RotateKeyArgs) -> anyhow::Result<()> {
    if std::env::var_os("SIGNET_MASTER_KEY").is_some() {
        return Err(UsageError(
            "SIGNET_MASTER_KEY is set: the keys live in that variable, so add the new key there \
             (id:base64 first) instead of rotating the key file"
                .into(),
        )
        .into());
    }
    let in_database: Vec<String> = block_on(async {
        let store = open_store(&args.store.config()).await?;
        let usage = store.key_usage().await;
        store.close().await;
        Ok(usage?.into_iter().map(|(id, _)| id).collect())
    })?;
    let path = args.store.data_dir.join(MASTER_KEY_FILE);
    let mut ring = Keyring::load(&path).with_context(|| format!("{}", path.display()))?;
    let previous = ring.current().to_owned();
    let id = match &args.key_id {
        Some(id) if in_database.contains(id) => {
            return Err(UsageError(format!(
                "key id `{id}` is already used: the database holds secrets sealed under it; \
                 choose another id (or omit --key-id for a random one)"
            ))
            .into());
        }
        Some(id) => id.clone(),
        None => loop {
            let id = Keyring::new_key_id()?;
            if !ring.has(&id) && !in_database.contains(&id) {
                break id;
            }
        },
    };
    ring.rotate(&id).map_err(|e| UsageError(e.to_string()))?;
    ring.save(&path)
        .with_context(|| format!("{}", path.display()))?;
    // Recorded in the database now, so a replica whose key file lacks it is refused at
    // its next start instead of failing to open what this key seals.
    block_on(async {
        let store = open_store(&args.store.config()).await?;
        let registered = store.register_keys().await;
        store.close().await;
        Ok(registered?)
    })?;
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

/// Runs an administrator's command on a single-threaded runtime.
fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(work)
}

/// `signet admin rewrap`: moves every data key under the current master key. Servers
/// that follow the key file seal under the new key from their next write on; a write
/// that was sealing under the old key as the file changed is caught by a later pass.
pub fn rewrap(args: &RewrapArgs) -> anyhow::Result<()> {
    block_on(async {
        // Servers see a rotation at their next write; a write already sealing under the
        // old key when the file changed commits within moments. Let those land first.
        let key_file = args.store.data_dir.join(MASTER_KEY_FILE);
        if let Ok(age) = std::fs::metadata(&key_file)
            .and_then(|m| m.modified())
            .map(|t| t.elapsed().unwrap_or_default())
        {
            if let Some(rest) = std::time::Duration::from_secs(2).checked_sub(age) {
                tokio::time::sleep(rest).await;
            }
        }
        let store = open_store(&args.store.config()).await?;
        let current = store.keyring().current().to_owned();
        let mut total = 0;
        let mut passes = 0;
        let usage = loop {
            passes += 1;
            total += store.rewrap_all().await.context("rewrap failed")?;
            let usage = store.key_usage().await?;
            let stale = usage.iter().any(|(k, n)| *k != current && *n > 0);
            if !stale || passes == 5 {
                break usage;
            }
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        };
        let remaining: i64 = usage
            .iter()
            .filter(|(k, _)| *k != current)
            .map(|(_, n)| n)
            .sum();
        store.close().await;
        if args.output.json {
            output::json(&serde_json::json!({
                "current": current,
                "rewrapped": total,
                "remaining_under_other_keys": remaining,
                "usage": usage.iter().map(|(k, n)| serde_json::json!({ "key_id": k, "secrets": n })).collect::<Vec<_>>(),
            }))?;
        } else {
            println!("Rewrapped {total} secrets under `{current}`.");
            for (k, n) in &usage {
                println!("  {k}: {n} secrets");
            }
        }
        if remaining > 0 {
            anyhow::bail!(
                "{remaining} secrets are still under other keys (written meanwhile by a server \
                 that has not reloaded the key file); run rewrap again"
            );
        }
        Ok(())
    })
}

/// `signet admin create-user`: a user, and with `--owner` an organization they own.
pub fn create_user(args: &CreateUserArgs) -> anyhow::Result<()> {
    let password =
        crate::secret_arg::resolve_or_prompt(args.password.as_ref(), Some("Password: "))?
            .ok_or_else(|| {
                UsageError("pass --password (pass:…, env:VAR, file:PATH or stdin)".into())
            })?;
    block_on(async {
        let store = open_store(&args.store.config()).await?;
        let org_name = if args.owner {
            args.org.as_deref()
        } else {
            None
        };
        let result = store
            .create_user(
                &signet_store::Actor::system("admin create-user"),
                &args.email,
                password.expose(),
                org_name,
            )
            .await;
        store.close().await;
        let (user, org) = result?;
        // A setup token is moot once a user exists.
        let _ = std::fs::remove_file(args.store.data_dir.join(SETUP_TOKEN_FILE));
        if args.output.json {
            return output::json(&serde_json::json!({ "user": user, "org": org }));
        }
        println!("Created user {} ({}).", user.email, user.id);
        if let Some(org) = org {
            println!(
                "Created organization {} ({}), owned by {}.",
                org.name, org.id, user.email
            );
        }
        Ok(())
    })
}

/// `signet admin remove-key`: drops a master key from the key file, refusing while any
/// secret is still sealed under it (it would become unreadable) or while it is current.
pub fn remove_key(args: &RemoveKeyArgs) -> anyhow::Result<()> {
    if std::env::var_os("SIGNET_MASTER_KEY").is_some() {
        return Err(UsageError(
            "SIGNET_MASTER_KEY is set: remove the key from that variable instead".into(),
        )
        .into());
    }
    block_on(async {
        let store = open_store(&args.store.config()).await?;
        let usage = store.key_usage().await;
        store.close().await;
        let in_use = usage?
            .into_iter()
            .find(|(k, _)| *k == args.key_id)
            .map_or(0, |(_, n)| n);
        if in_use > 0 {
            anyhow::bail!(
                "{in_use} secrets are still sealed under `{}`; run `signet admin rewrap` first",
                args.key_id
            );
        }
        let path = args.store.data_dir.join(MASTER_KEY_FILE);
        let mut ring = Keyring::load(&path).with_context(|| format!("{}", path.display()))?;
        ring.remove(&args.key_id)
            .map_err(|e| UsageError(e.to_string()))?;
        ring.save(&path)
            .with_context(|| format!("{}", path.display()))?;
        let store = open_store(&args.store.config()).await?;
        let forgotten = store.unregister_key(&args.key_id).await;
        store.close().await;
        forgotten?;
        println!(
            "Removed master key `{}` from {}.",
            args.key_id,
            path.display()
        );
        Ok(())
    })
}
