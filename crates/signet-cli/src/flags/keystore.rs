//! `signet keystore …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

#[derive(Debug, Subcommand)]
pub enum KeystoreCommand {
    /// Generate a keystore with a new key pair and self-signed certificate.
    Generate(GenerateArgs),
    /// Show a keystore's entries, certificates and fingerprints.
    Inspect(KeystoreInspectArgs),
    /// Export a key's certificate as PEM, as `keytool -export -rfc` does (the file the Play
    /// Console asks for when you reset an upload key).
    UploadCert(UploadCertArgs),
    /// Convert a keystore between JKS and PKCS#12.
    Convert(ConvertArgs),
    /// Change the store password, or a JKS key's password (keytool -storepasswd, -keypasswd).
    Passwd(PasswdArgs),
    /// Rename an entry (keytool -changealias).
    Rename(RenameArgs),
    /// Delete an entry (keytool -delete).
    Delete(DeleteArgs),
    /// Store a PEM private key and its certificate chain as a key entry, in a new or an
    /// existing keystore (what `openssl pkcs12 -export` makes of them).
    Import(ImportArgs),
}

/// The keystore types signet writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreTypeArg {
    /// PKCS#12, keytool's default since Java 9.
    Pkcs12,
    /// Java KeyStore.
    Jks,
}

/// Key algorithm families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgArg {
    /// RSA (2048, 3072 or 4096 bits).
    Rsa,
    /// ECDSA (P-256 or P-384).
    Ec,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Keystore file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Keystore type.
    #[arg(long = "type", value_enum, default_value_t = StoreTypeArg::Pkcs12)]
    pub store_type: StoreTypeArg,
    /// Alias of the key entry [default: 32 random hex characters].
    #[arg(long)]
    pub alias: Option<String>,
    /// Certificate subject in keytool's syntax, e.g. "CN=Jane Doe, O=Acme, C=US".
    #[arg(long, default_value = "CN=Android Upload Key")]
    pub dname: String,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyAlgArg::Rsa)]
    pub key_alg: KeyAlgArg,
    /// Key size in bits [default: 2048 for RSA, 256 for EC].
    #[arg(long)]
    pub key_size: Option<u32>,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 10_000)]
    pub validity_days: u32,
    /// Store password [default: generated, 32 hex characters].
    #[arg(long, value_name = "SECRET", help = format!("Store password ({SECRET_HELP}) [default: generated]"))]
    pub store_pass: Option<SecretArg>,
    /// Key password; JKS only [default: the store password].
    #[arg(long, value_name = "SECRET", help = format!("Key password, JKS only ({SECRET_HELP}) [default: the store password]"))]
    pub key_pass: Option<SecretArg>,
    /// Write the keystore's path, alias and passwords into this eas-cli credentials.json
    /// (created, or updated keeping its other sections).
    #[arg(long, value_name = "FILE")]
    pub credentials_json: Option<PathBuf>,
    /// Write PKCS#12 with 3DES and a SHA-1 MAC, for old tools and macOS Keychain.
    #[arg(long)]
    pub legacy_pkcs12: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Include generated passwords in --json output.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Keystore file (JKS or PKCS#12, detected by content).
    pub file: PathBuf,
    /// Store password. Without it, a JKS is listed unchecked and a PKCS#12 cannot be read;
    /// on a terminal you are asked for it.
    #[arg(long, value_name = "SECRET", help = format!("Store password ({SECRET_HELP})"))]
    pub store_pass: Option<SecretArg>,
    /// Key password [default: the store password].
    #[arg(long, value_name = "SECRET", help = format!("Key password ({SECRET_HELP}) [default: the store password]"))]
    pub key_pass: Option<SecretArg>,
}

#[derive(Debug, Args)]
pub struct KeystoreInspectArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Show only this entry.
    #[arg(long)]
    pub alias: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct UploadCertArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Alias of the key entry [default: the only private key entry].
    #[arg(long)]
    pub alias: Option<String>,
    /// PEM file to write [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Type to convert to.
    #[arg(long = "type", value_enum)]
    pub store_type: StoreTypeArg,
    /// Keystore file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Store password of the new keystore [default: the old store password].
    #[arg(long, value_name = "SECRET", help = format!("Store password of the new keystore ({SECRET_HELP}) [default: the old one]"))]
    pub new_store_pass: Option<SecretArg>,
    /// Key password in the new keystore; JKS only [default: the new store password].
    #[arg(long, value_name = "SECRET", help = format!("Key password in the new keystore, JKS only ({SECRET_HELP}) [default: the new store password]"))]
    pub new_key_pass: Option<SecretArg>,
    /// Write PKCS#12 with 3DES and a SHA-1 MAC, for old tools and macOS Keychain.
    #[arg(long)]
    pub legacy_pkcs12: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The keystore an editing command changes, and where the result goes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Keystore file (JKS or PKCS#12, detected by content); changed in place unless --out
    /// is given.
    pub file: PathBuf,
    /// Store password; on a terminal you are asked for it.
    #[arg(long, value_name = "SECRET", help = format!("Store password ({SECRET_HELP})"))]
    pub store_pass: Option<SecretArg>,
    /// Write the changed keystore to this file and leave FILE as it is.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    #[command(flatten)]
    pub target: EditArgs,
    /// New store password. For PKCS#12 it protects the keys too; a JKS key keeps its own
    /// key password (as with keytool -storepasswd) unless --new-key-pass changes it.
    #[arg(long, value_name = "SECRET", help = format!("New store password ({SECRET_HELP}); JKS key passwords stay as they are"))]
    pub new_store_pass: Option<SecretArg>,
    /// New key password of the key entry --alias; JKS only (PKCS#12 has one password).
    #[arg(long, value_name = "SECRET", help = format!("New key password of the entry --alias, JKS only ({SECRET_HELP})"))]
    pub new_key_pass: Option<SecretArg>,
    /// Current key password [default: the store password].
    #[arg(long, value_name = "SECRET", help = format!("Current key password ({SECRET_HELP}) [default: the store password]"))]
    pub key_pass: Option<SecretArg>,
    /// The key entry whose password --new-key-pass changes [default: the only private key
    /// entry].
    #[arg(long)]
    pub alias: Option<String>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    #[command(flatten)]
    pub target: EditArgs,
    /// The entry to rename.
    #[arg(long)]
    pub alias: String,
    /// Its new alias (stored in lower case in a JKS file, as Java does).
    #[arg(long)]
    pub new_alias: String,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub target: EditArgs,
    /// The entry to delete.
    #[arg(long)]
    pub alias: String,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Keystore file to add the entry to (JKS or PKCS#12, detected by content), created when
    /// missing; changed in place unless --out is given.
    pub file: PathBuf,
    /// The private key: PKCS#8, PEM ("PRIVATE KEY") or DER.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Its certificate chain: PEM certificates, the key's own first, each followed by its
    /// issuer (or one DER certificate).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// Alias of the new key entry.
    #[arg(long)]
    pub alias: String,
    /// Store password (of the existing keystore, or of the new one).
    #[arg(long, value_name = "SECRET", help = format!("Store password ({SECRET_HELP})"))]
    pub store_pass: Option<SecretArg>,
    /// Key password; JKS only [default: the store password].
    #[arg(long, value_name = "SECRET", help = format!("Key password, JKS only ({SECRET_HELP}) [default: the store password]"))]
    pub key_pass: Option<SecretArg>,
    /// Type of a new keystore (an existing one keeps its type).
    #[arg(long = "type", value_enum)]
    pub store_type: Option<StoreTypeArg>,
    /// A new PKCS#12 keystore with 3DES and a SHA-1 MAC, for old tools and macOS Keychain.
    #[arg(long)]
    pub legacy_pkcs12: bool,
    /// Write the keystore to this file and leave FILE as it is.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace an entry of the same alias, and overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}
