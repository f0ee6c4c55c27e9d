//! `signet serve`: the credentials server on SQLite in the data dir (the default) or on
//! PostgreSQL, and the store set-up that `signet admin` commands share with it.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use signet_store::{Keyring, Limits, SetupToken, Store, StoreError};

use crate::{
    cmd::admin::MASTER_KEY_FILE,
    flags::{LogFormat, ServeArgs, ServerStoreArgs},
};

/// What the log says while no user exists and this server holds the setup token.
const SETUP_HINT: &str = "no users yet: POST /v1/setup with the one-time token in this file, \
                          or run `signet admin create-user --owner`";

/// The one-time setup token's file in the data dir.
pub const SETUP_TOKEN_FILE: &str = "setup-token";

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
    if rest.contains('/') {
        format!("{scheme}://{authority}/{tail}")
    } else {
        format!("{scheme}://{authority}")
    }
}

/// Creates the data dir (0700) if needed.
pub fn data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::output_file::set_mode(dir, 0o700)
}

/// The database URL: the flag or environment, else SQLite in the data dir.
fn database_url(args: &ServerStoreArgs) -> String {
    match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            args.data_dir.join("signet.db").display()
        ),
    }
}

/// Opens the store the way `serve` does: master keys from `SIGNET_MASTER_KEY` or the
/// data dir's key file (followed for rotations; created only for a database that holds
/// no sealed secret), the database from the flag, the environment or SQLite in the data
/// dir. Every `signet admin` command opens it so too, so none makes a key file for a
/// database that needs another one.
pub async fn open_store(args: &ServerStoreArgs) -> anyhow::Result<Store> {
    data_dir(&args.data_dir)?;
    let key_file = args.data_dir.join(MASTER_KEY_FILE);
    let url = database_url(args);
    let opened = match std::env::var("SIGNET_MASTER_KEY") {
        Ok(value) => {
            let keyring = Keyring::from_env_value(&value).context("SIGNET_MASTER_KEY")?;
            Store::open(&url, keyring).await
        }
        Err(_) => Store::open_with_key_file(&url, key_file.clone()).await,
    };
    opened.map_err(|e| match e {
        // Complete as it is: which file, which key ids, what to do.
        StoreError::KeyFileNeeded { .. } => anyhow::Error::new(e),
        StoreError::Io(_) | StoreError::BadKeyConfig(_) | StoreError::BadKeyId(_) => {
            anyhow::Error::new(e).context(key_file.display().to_string())
        }
        e => {
            anyhow::Error::new(e).context(format!("cannot open the database {}", redact_url(&url)))
        }
    })
}

fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let limits = Limits {
            distribution_certificates: args.max_distribution_certificates,
            push_keys: args.max_push_keys,
            restore_window: Duration::from_secs(args.restore_window_days * 86_400),
        };
        let store = open_store(&args.store).await?.with_limits(limits);
        // Secrets under a key this server does not hold (another replica's own key file,
        // a key file from another data dir, a key removed too early) cannot be served, and
        // what it sealed would be unreadable to the others: refuse to start.
        let loaded = store.keyring().key_ids().iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        let missing: Vec<String> = store
            .key_usage()
            .await?
            .into_iter()
            .filter(|(key_id, _)| !loaded.contains(key_id))
            .map(|(key_id, count)| format!("{key_id} ({count} secrets)"))
            .collect();
        if missing.is_empty() {
            // Two replicas that made keys of their own on one database are told here,
            // before either seals what the other cannot open.
            store.register_keys().await?;
        } else {
            anyhow::bail!(
                "the database holds secrets sealed under master keys this server does not have: {}; \
                 give it the key file (or SIGNET_MASTER_KEY) that holds them; replicas share one",
                missing.join(", ")
            );
        }
        let setup_file = args.store.data_dir.join(SETUP_TOKEN_FILE);
        let existing = std::fs::read_to_string(&setup_file).ok();
        match store.issue_setup_token(existing.as_deref()).await? {
            SetupToken::NotNeeded => {
                let _ = std::fs::remove_file(&setup_file);
            }
            SetupToken::Kept => tracing::info!(file = %setup_file.display(), "{SETUP_HINT}"),
            SetupToken::Issued(token) => {
                crate::output_file::write_atomic(
                    &setup_file,
                    format!("{}\n", token.as_str()).as_bytes(),
                    true,
                    true,
                )?;
                tracing::info!(file = %setup_file.display(), "{SETUP_HINT}");
            }
            SetupToken::HeldElsewhere => {
                let _ = std::fs::remove_file(&setup_file);
                tracing::info!(
                    "no users yet: another server holds the setup token in its data dir; \
                     or run `signet admin create-user --owner`"
                );
            }
        }
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let backend = match store.backend() {
            signet_store::Backend::Sqlite => "sqlite",
            signet_store::Backend::Postgres => "postgres",
        };
        tracing::info!(
            address = %listener.local_addr().map_or_else(|_| args.listen.clone(), |a| a.to_string()),
            backend,
            data_dir = %args.store.data_dir.display(),
            "signet serve listening"
        );
        let state = Arc::new(
            signet_server::AppState::new(store, Some(setup_file))
                .with_trusted_proxies(args.trusted_proxies.clone()),
        );
        signet_server::serve(listener, state, shutdown_signal())
            .await
            .context("server failed")?;
        tracing::info!("stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example.com:5432/signet?sslmode=require"),
            "postgres://app:***@db.example.com:5432/signet"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite:///var/lib/signet/signet.db?mode=rwc"),
            "sqlite:///var/lib/signet/signet.db"
        );
    }
}
