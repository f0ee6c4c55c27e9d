//! `signet serve` flags, and where a server keeps its data (`admin` takes it too).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Where a server keeps its data: the data dir and, optionally, PostgreSQL.
#[derive(Debug, Args)]
pub struct ServerStoreArgs {
    /// The data directory: master key file, SQLite database, setup token.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "signet-data",
        env = "SIGNET_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data dir].
    #[arg(
        long,
        value_name = "URL",
        env = "SIGNET_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl ServerStoreArgs {
    /// The data dir and database as `signet_server` takes them.
    pub fn config(&self) -> signet_server::StoreConfig {
        signet_server::StoreConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8420",
        env = "SIGNET_LISTEN"
    )]
    pub listen: String,
    #[command(flatten)]
    pub store: ServerStoreArgs,
    /// Distribution certificates allowed per Apple team.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_distribution_certificates: usize,
    /// APNs keys allowed per Apple team.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_push_keys: usize,
    /// Days a deleted credential can be restored.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub restore_window_days: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// A reverse proxy (TLS terminator, load balancer) whose `X-Forwarded-For` names the
    /// client; repeat for each. Without it the client is the TCP peer, and behind a proxy
    /// every client would share the proxy's login budget and audit address.
    #[arg(
        long = "trusted-proxy",
        value_name = "IP",
        env = "SIGNET_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// App Store Connect's base URL (the Apple side of `ios setup`, `doctor`, devices and
    /// certificates); tests point it at a simulator.
    #[arg(
        long = "asc-url",
        value_name = "URL",
        env = "SIGNET_ASC_URL",
        default_value = "https://api.appstoreconnect.apple.com"
    )]
    pub asc_url: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
