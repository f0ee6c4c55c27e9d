//! `signet ipa …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OutputArgs, RemoteArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

#[derive(Debug, Subcommand)]
pub enum IpaCommand {
    /// Sign with a .p12 identity and a provisioning profile (embedded, entitlements derived).
    Sign(Box<IpaSignArgs>),
    /// Verify every bundle's signature, the sealed resources and the embedded profile.
    Verify(IpaVerifyArgs),
}

#[derive(Debug, Args)]
pub struct IpaSignArgs {
    /// The .ipa to sign.
    pub input: PathBuf,
    /// Where to write the signed .ipa.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The signing identity (.p12).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "app",
        conflicts_with = "app"
    )]
    pub p12: Option<PathBuf>,
    /// The .p12 password.
    #[arg(long, value_name = "SECRET", help = format!("The .p12 password ({SECRET_HELP})"), conflicts_with = "app")]
    pub p12_pass: Option<SecretArg>,
    /// The provisioning profile to embed.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "app",
        conflicts_with = "app"
    )]
    pub profile: Option<PathBuf>,
    /// Sign with this app's build pair, whose key stays on the server (instead of --p12
    /// and --profile): the pair's certificate signs, its profile is embedded.
    #[arg(long, value_name = "APP", requires_all = ["bundle_id", "distribution"], help_heading = "Key held by the server (signet login)")]
    pub app: Option<String>,
    /// The bundle id of the build pair.
    #[arg(
        long,
        value_name = "ID",
        requires = "app",
        help_heading = "Key held by the server (signet login)"
    )]
    pub bundle_id: Option<String>,
    /// The distribution type of the build pair.
    #[arg(long, value_name = "TYPE", requires = "app", value_parser = ["app-store", "ad-hoc", "enterprise", "development"], help_heading = "Key held by the server (signet login)")]
    pub distribution: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IpaVerifyArgs {
    /// The .ipa to verify.
    pub input: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}
