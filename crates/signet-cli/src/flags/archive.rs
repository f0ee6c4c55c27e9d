//! `signet apk …` and `signet aab …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

/// `signet apk …`: what `aab` has, and key rotation.
#[derive(Debug, Subcommand)]
pub enum ApkCommand {
    /// Sign with a key from a keystore; existing signatures are replaced.
    Sign(ArchiveSignArgs),
    /// Verify every signature scheme present.
    Verify(ArchiveVerifyArgs),
    /// Print a signing certificate lineage (a lineage file, or a rotated APK's), as
    /// `apksigner lineage --print-certs`.
    Lineage(ApkLineageArgs),
}

/// `signet aab …`.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Sign with a key from a keystore; existing signatures are replaced.
    Sign(ArchiveSignArgs),
    /// Verify every signature scheme present.
    Verify(ArchiveVerifyArgs),
}

#[derive(Debug, Args)]
pub struct ArchiveSignArgs {
    /// The archive to sign.
    pub input: PathBuf,
    /// Where to write the signed archive (may be the input).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Keystore (JKS or PKCS#12).
    #[arg(long, value_name = "FILE")]
    pub ks: PathBuf,
    /// Keystore password.
    #[arg(long, value_name = "SECRET", help = format!("Keystore password ({SECRET_HELP})"))]
    pub ks_pass: Option<SecretArg>,
    /// Alias of the key [default: the only private key entry].
    #[arg(long, value_name = "ALIAS")]
    pub ks_key_alias: Option<String>,
    /// Key password [default: the keystore password].
    #[arg(long, value_name = "SECRET", help = format!("Key password ({SECRET_HELP}) [default: the keystore password]"))]
    pub key_pass: Option<SecretArg>,
    /// Min SDK to sign for [default: from AndroidManifest.xml].
    #[arg(long, value_name = "N")]
    pub min_sdk_version: Option<u32>,
    /// JAR signing (v1).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub v1_signing_enabled: Option<bool>,
    /// APK Signature Scheme v2.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub v2_signing_enabled: Option<bool>,
    /// APK Signature Scheme v3.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub v3_signing_enabled: Option<bool>,
    /// APK Signature Scheme v4: also write `<out>.idsig` [default: false].
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub v4_signing_enabled: Option<bool>,
    /// Sign even with the Android debug certificate.
    #[arg(long)]
    pub allow_debug_key: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ArchiveVerifyArgs {
    /// The archive to verify.
    pub input: PathBuf,
    /// Print the signers' certificates.
    #[arg(long)]
    pub print_certs: bool,
    /// Min SDK to verify for [default: from AndroidManifest.xml].
    #[arg(long, value_name = "N")]
    pub min_sdk_version: Option<u32>,
    /// Print each scheme's result, as `apksigner verify -v`.
    #[arg(short, long)]
    pub verbose: bool,
    /// Also verify this APK Signature Scheme v4 file (`<apk>.idsig`) against the APK, as
    /// apksigner's flag.
    #[arg(long, value_name = "FILE")]
    pub v4_signature_file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ApkLineageArgs {
    /// A lineage file (as `apk rotate` or `apksigner rotate` write), or an APK signed with
    /// one (its lineage is read from its verified v3 signature).
    pub input: PathBuf,
    /// Also print each certificate's key, as `apksigner lineage -v`.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}
