//! Flags of `signet build-credentials fetch`: one build's credentials, for CI.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{DistributionArg, OutputArgs, RemoteArgs};

/// One platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildPlatformArg {
    /// Android.
    Android,
    /// iOS.
    Ios,
}

#[derive(Debug, Subcommand)]
pub enum BuildCredentialsCommand {
    /// Fetch one build's credentials into a directory (files 0600 and a credentials.json
    /// that `eas build --local` reads), for CI: a robot token in SIGNET_TOKEN.
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// Which platform.
    #[arg(long, short = 'p', value_enum)]
    pub platform: BuildPlatformArg,
    /// Android: the application id [default: the app's only one].
    #[arg(long, value_name = "ID")]
    pub application_id: Option<String>,
    /// Android: the build set [default: the default one].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// iOS: the bundle id [default: the app's only one].
    #[arg(long, value_name = "BUNDLE_ID")]
    pub bundle_id: Option<String>,
    /// iOS: the distribution type.
    #[arg(long, value_enum, default_value = "app-store")]
    pub distribution: DistributionArg,
    /// Where to write credentials.json and the files (made 0700 if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
