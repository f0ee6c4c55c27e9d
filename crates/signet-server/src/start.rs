//! Starting a server: the store opened from the data dir (SQLite there by default, or the
//! database a URL names) with the master keys of `SIGNET_MASTER_KEY` or the data dir's
//! key file, the key checks every replica must pass, the one-time setup token, logging,
//! the listener and the signals that stop it. `signet serve` fills a [`Config`] from its
//! flags and calls [`run`]; `signet admin` commands open the store with [`open_store`],
//! so none of them makes a key file for a database that needs another one.

use std::{
    io::Write as _,
    net::IpAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use signet_store::{Keyring, Limits, SetupToken, Store, StoreError};

use crate::AppState;

/// The master key file in a data dir.
pub const MASTER_KEY_FILE: &str = "master.key";

/// The one-time setup token's file in the data dir.
pub const SETUP_TOKEN_FILE: &str = "setup-token";

/// What the log says while no user exists and this server holds the setup token.
const SETUP_HINT: &str = "no users yet: POST /v1/setup with the one-time token in this file, \
                          or run `signet admin create-user --owner`";

/// Where a server keeps its data: the data dir and, optionally, another database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The data directory: master key file, SQLite database, setup token. Made (0700)
    /// when missing.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; `None` is SQLite in the data dir.
    pub database_url: Option<String>,
}

impl StoreConfig {
    /// The database URL: the one given, else SQLite in the data dir.
    fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("signet.db").display()
            ),
        }
    }
}

/// How the log is written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything a server is started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on (`127.0.0.1:8420`).
    pub listen: String,
    /// The data dir and the database.
    pub store: StoreConfig,
    /// The limits the store enforces.
    pub limits: Limits,
    /// How the log is written.
    pub log_format: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// App Store Connect's base URL (`SIGNET_ASC_URL`; Apple's by default).
    pub asc_url: String,
}

/// Why a server did not start (or stopped), or its store could not be opened. Messages
/// name files, addresses and key ids, never a key or a database password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data dir could not be made.
    #[error("cannot create {}", .path.display())]
    CreateDataDir {
        /// The data dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The data dir could not be made private (0700).
    #[error("cannot set permissions on {}", .path.display())]
    DataDirMode {
        /// The data dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `SIGNET_MASTER_KEY` holds no usable keys.
    #[error("SIGNET_MASTER_KEY")]
    MasterKeyEnv(#[source] StoreError),
    /// The key file could not be read or written, or holds no usable keys.
    #[error("{}", .path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The database could not be opened.
    #[error("cannot open the database {url}")]
    Database {
        /// The database URL, its password left out ([`redact_url`]).
        url: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The database holds secrets sealed under master keys this server does not have:
    /// it could not serve them, and what it sealed would be unreadable to the others.
    #[error(
        "the database holds secrets sealed under master keys this server does not have: {}; \
         give it the key file (or SIGNET_MASTER_KEY) that holds them; replicas share one",
        describe_missing(.0)
    )]
    KeysMissing(
        /// Each key id the server lacks, with how many secrets are sealed under it.
        Vec<(String, i64)>,
    ),
    /// A file could not be made in a directory (the setup token's temporary file).
    #[error("cannot create a file in {}", .dir.display())]
    CreateFile {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written (the setup token's).
    #[error("cannot write {}", .path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `SIGNET_ASC_URL` (`--asc-url`) is not an http(s) URL.
    #[error("SIGNET_ASC_URL (--asc-url) is not an http(s) URL: {0}")]
    AscUrl(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}")]
    Listen {
        /// The address given.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not be started.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The server stopped with an error.
    #[error("server failed")]
    Serve(#[source] std::io::Error),
    /// The store refused or failed (among them [`StoreError::KeyFileNeeded`], whose
    /// message is complete as it is: which file, which key ids, what to do). The message
    /// is the store error's, which is also the source, so that callers find it.
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn describe_missing(missing: &[(String, i64)]) -> String {
    missing
        .iter()
        .map(|(key_id, count)| format!("{key_id} ({count} secrets)"))
        .collect::<Vec<_>>()
        .join(", ")
}

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

/// Creates the data dir if needed and makes it private (0700).
fn prepare_data_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir).map_err(|source| StartError::CreateDataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| StartError::DataDirMode {
                path: dir.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}

/// Opens the store as a server does: master keys from `SIGNET_MASTER_KEY` or the data
/// dir's key file (followed for rotations; created only for a database that holds no
/// sealed secret), the database from `config` or SQLite in the data dir, which is made
/// when missing.
pub async fn open_store(config: &StoreConfig) -> Result<Store, StartError> {
    prepare_data_dir(&config.data_dir)?;
    let key_file = config.data_dir.join(MASTER_KEY_FILE);
    let url = config.database_url();
    let opened = match std::env::var("SIGNET_MASTER_KEY") {
        Ok(value) => {
            let keyring = Keyring::from_env_value(&value).map_err(StartError::MasterKeyEnv)?;
            Store::open(&url, keyring).await
        }
        Err(_) => Store::open_with_key_file(&url, key_file.clone()).await,
    };
    opened.map_err(|e| match e {
        e @ StoreError::KeyFileNeeded { .. } => StartError::Store(e),
        e @ (StoreError::Io(_) | StoreError::BadKeyConfig(_) | StoreError::BadKeyId(_)) => {
            StartError::KeyFile {
                path: key_file,
                source: e,
            }
        }
        e => StartError::Database {
            url: redact_url(&url),
            source: e,
        },
    })
}

/// Runs a server until SIGINT or SIGTERM: logging to stderr, the store opened and its
/// keys checked, the setup token written while no user exists, then [`crate::serve`] on
/// the listen address, on a multi-threaded runtime of its own.
pub fn run(config: Config) -> Result<(), StartError> {
    init_logging(config.log_format);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)?
        .block_on(start(config))
}

async fn start(config: Config) -> Result<(), StartError> {
    signet_apple::check_base_url(&config.asc_url)
        .map_err(|_| StartError::AscUrl(config.asc_url.clone()))?;
    let store = open_store(&config.store).await?.with_limits(config.limits);
    // Secrets under a key this server does not hold (another replica's own key file, a
    // key file from another data dir, a key removed too early) cannot be served, and what
    // it sealed would be unreadable to the others: refuse to start.
    let loaded: Vec<String> = store
        .keyring()
        .key_ids()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let missing: Vec<(String, i64)> = store
        .key_usage()
        .await?
        .into_iter()
        .filter(|(key_id, _)| !loaded.contains(key_id))
        .collect();
    if !missing.is_empty() {
        return Err(StartError::KeysMissing(missing));
    }
    // Two replicas that made keys of their own on one database are told here, before
    // either seals what the other cannot open.
    store.register_keys().await?;
    let setup_file = config.store.data_dir.join(SETUP_TOKEN_FILE);
    let existing = std::fs::read_to_string(&setup_file).ok();
    match store.issue_setup_token(existing.as_deref()).await? {
        SetupToken::NotNeeded => {
            let _ = std::fs::remove_file(&setup_file);
        }
        SetupToken::Kept => tracing::info!(file = %setup_file.display(), "{SETUP_HINT}"),
        SetupToken::Issued(token) => {
            write_private(&setup_file, format!("{}\n", token.as_str()).as_bytes())?;
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
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: config.listen.clone(),
            source,
        })?;
    let backend = match store.backend() {
        signet_store::Backend::Sqlite => "sqlite",
        signet_store::Backend::Postgres => "postgres",
    };
    tracing::info!(
        address = %listener.local_addr().map_or_else(|_| config.listen.clone(), |a| a.to_string()),
        backend,
        data_dir = %config.store.data_dir.display(),
        "signet serve listening"
    );
    let state = Arc::new(
        AppState::new(store, Some(setup_file))
            .with_trusted_proxies(config.trusted_proxies)
            .with_asc_url(&config.asc_url),
    );
    crate::serve(listener, state, shutdown_signal())
        .await
        .map_err(StartError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// Writes `bytes` to a temporary file (mode 0600) beside `path`, synced, then renames it
/// over `path`: a reader sees the old file or the whole new one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StartError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".signet-")
        .tempfile_in(dir)
        .map_err(|source| StartError::CreateFile {
            dir: dir.to_path_buf(),
            source,
        })?;
    let write_error = |source| StartError::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(write_error)?;
    tmp.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
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

/// Resolves at SIGINT (Ctrl-C) or SIGTERM.
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
