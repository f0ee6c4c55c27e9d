//! Flags of `signet credentials sync`: eas-cli's credentials.json, both ways.

use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};

use super::{DistributionArg, OutputArgs, RemoteArgs};

/// Which platforms a sync covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncPlatform {
    /// The Android keystore.
    Android,
    /// The iOS distribution certificates and provisioning profiles.
    Ios,
    /// Both: what the server has (`--to-local`) or what credentials.json has (`--to-remote`).
    All,
}

/// `NAME=BUNDLE_ID`: an iOS target of credentials.json and its bundle id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArg {
    /// The target name, as credentials.json keys it.
    pub name: String,
    /// Its bundle id.
    pub bundle_id: String,
}

impl std::str::FromStr for TargetArg {
    type Err = String;

    fn from_str(s: &str) -> Result<TargetArg, String> {
        match s.split_once('=') {
            Some((name, bundle_id)) if !name.is_empty() && !bundle_id.is_empty() => Ok(TargetArg {
                name: name.to_owned(),
                bundle_id: bundle_id.to_owned(),
            }),
            _ => Err("expected NAME=BUNDLE_ID (a target name, `=`, its bundle id)".into()),
        }
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("direction").required(true).args(["to_local", "to_remote"])))]
pub struct SyncArgs {
    /// Write the server's build credentials into credentials.json and the files it names.
    #[arg(long)]
    pub to_local: bool,
    /// Upload what credentials.json holds and make the app's builds use it.
    #[arg(long)]
    pub to_remote: bool,
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// Which platforms.
    #[arg(long, short = 'p', value_enum, default_value = "all")]
    pub platform: SyncPlatform,
    /// Android: the application id [default: the app's only one].
    #[arg(long, value_name = "ID")]
    pub application_id: Option<String>,
    /// Android: the build set [default: the default one; `release` when creating the first].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// iOS, one target: its bundle id [default: the app's only one].
    #[arg(long, value_name = "BUNDLE_ID", conflicts_with = "target")]
    pub bundle_id: Option<String>,
    /// iOS, several targets: a target of credentials.json and its bundle id (repeat it;
    /// the first is the application target).
    #[arg(long, value_name = "NAME=BUNDLE_ID")]
    pub target: Vec<TargetArg>,
    /// iOS: the distribution type whose certificate and profile to sync.
    #[arg(long, value_enum, default_value = "app-store")]
    pub distribution: DistributionArg,
    /// The project directory, where credentials.json is.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project_dir: PathBuf,
    /// Replace what differs without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
