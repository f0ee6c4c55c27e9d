//! `signet inspect` flags.

use std::path::PathBuf;

use clap::Args;

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// File to inspect: a keystore (JKS, PKCS#12 or a .p12 identity), a PEM or DER
    /// certificate, a provisioning profile, a .p8 key or an IPA.
    pub file: PathBuf,
    /// Password, for keystores.
    #[arg(long, value_name = "SECRET", help = format!("Password, for keystores ({SECRET_HELP})"))]
    pub pass: Option<SecretArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}
