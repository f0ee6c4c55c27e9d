//! `signet apk …` and `signet aab …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OutputArgs, RemoteArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

/// `signet apk …`: what `aab` has, and key rotation.
#[derive(Debug, Subcommand)]
pub enum ApkCommand {
    /// Sign with a key from a keystore; existing signatures are replaced.
    Sign(ArchiveSignArgs),
    /// Verify every signature scheme present.
    Verify(ArchiveVerifyArgs),
    /// Rotate the signing key: write a signing certificate lineage from the old key to the
    /// new one (or extend one with `--in`), as `apksigner rotate`.
    Rotate(ApkRotateArgs),
    /// Print a signing certificate lineage (a lineage file, or a rotated APK's), as
    /// `apksigner lineage --print-certs`.
    Lineage(ApkLineageArgs),
}

/// `signet aab …`.
// Parsed once per run: the size of the sign flags does not matter.
#[allow(clippy::large_enum_variant)]
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
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "app",
        conflicts_with = "app"
    )]
    pub ks: Option<PathBuf>,
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
    /// Signing certificate lineage (from `apk rotate` or `apksigner rotate`, or an APK
    /// signed with one): the key of `--ks` signs v3 with the lineage as proof of rotation,
    /// and the lineage's oldest key (`--old-ks`) signs v1 and v2, as apksigner does.
    #[arg(long, value_name = "FILE", requires = "old_ks")]
    pub lineage: Option<PathBuf>,
    #[command(flatten)]
    pub old: OldSignerArgs,
    #[command(flatten)]
    pub held: HeldKeyArgs,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Signing with a key held by `signet serve` (`--app`): the archive stays here, the
/// server signs what signet computed and returns signatures and certificates.
#[derive(Debug, Args)]
#[command(next_help_heading = "Key held by the server (signet login)")]
pub struct HeldKeyArgs {
    /// Sign with this app's build set key, which stays on the server (instead of --ks).
    #[arg(long, value_name = "APP", conflicts_with_all = ["lineage", "ks_pass", "ks_key_alias", "key_pass"])]
    pub app: Option<String>,
    /// The application id (package name) whose build set signs [default: the app's only
    /// one].
    #[arg(long, value_name = "ID", requires = "app")]
    pub application_id: Option<String>,
    /// The build set [default: the application id's default].
    #[arg(long, value_name = "NAME", requires = "app")]
    pub name: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The key a rotation starts from (`--old-ks …`): the lineage's newest for `apk rotate`,
/// its oldest (the v1/v2 signer) for `apk sign --lineage`.
// The fields are the flags, whose prefix names the key.
#[allow(clippy::struct_field_names)]
#[derive(Debug, Args)]
pub struct OldSignerArgs {
    /// Keystore of the old key (JKS or PKCS#12).
    #[arg(long, value_name = "FILE")]
    pub old_ks: Option<PathBuf>,
    /// Old keystore's password.
    #[arg(long, value_name = "SECRET", requires = "old_ks", help = format!("Old keystore's password ({SECRET_HELP})"))]
    pub old_ks_pass: Option<SecretArg>,
    /// Alias of the old key [default: the only private key entry].
    #[arg(long, value_name = "ALIAS", requires = "old_ks")]
    pub old_ks_key_alias: Option<String>,
    /// Old key's password.
    #[arg(long, value_name = "SECRET", requires = "old_ks", help = format!("Old key's password ({SECRET_HELP}) [default: the old keystore's password]"))]
    pub old_key_pass: Option<SecretArg>,
}

/// The key a rotation moves to (`--new-ks …`).
#[allow(clippy::struct_field_names)]
#[derive(Debug, Args)]
pub struct NewSignerArgs {
    /// Keystore of the new key (JKS or PKCS#12).
    #[arg(long, value_name = "FILE")]
    pub new_ks: PathBuf,
    /// New keystore's password.
    #[arg(long, value_name = "SECRET", help = format!("New keystore's password ({SECRET_HELP})"))]
    pub new_ks_pass: Option<SecretArg>,
    /// Alias of the new key [default: the only private key entry].
    #[arg(long, value_name = "ALIAS")]
    pub new_ks_key_alias: Option<String>,
    /// New key's password.
    #[arg(long, value_name = "SECRET", help = format!("New key's password ({SECRET_HELP}) [default: the new keystore's password]"))]
    pub new_key_pass: Option<SecretArg>,
}

#[derive(Debug, Args)]
pub struct ApkRotateArgs {
    /// Where to write the lineage.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A lineage to extend (a lineage file, or an APK signed with one); the old key must be
    /// its newest.
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub old: OldSignerArgs,
    #[command(flatten)]
    pub new: NewSignerArgs,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
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
