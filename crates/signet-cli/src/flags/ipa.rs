//! `signet ipa …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

#[derive(Debug, Subcommand)]
pub enum IpaCommand {
    /// Sign with a .p12 identity and a provisioning profile (embedded, entitlements derived).
    Sign(IpaSignArgs),
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
    #[arg(long, value_name = "FILE")]
    pub p12: PathBuf,
    /// The .p12 password.
    #[arg(long, value_name = "SECRET", help = format!("The .p12 password ({SECRET_HELP})"))]
    pub p12_pass: Option<SecretArg>,
    /// The provisioning profile to embed.
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
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
