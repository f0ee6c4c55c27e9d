//! Raw command-line flags, as clap parses them. Commands validate them into the values the
//! library crates take (`crate::cmd`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::secret_arg::SecretArg;

/// signet: manage and use the credentials mobile apps are signed with.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Android keystores: generate, inspect, export the upload certificate, convert.
    #[command(subcommand)]
    Keystore(KeystoreCommand),
    /// Android APKs: sign (v1, v2, v3) and verify, as apksigner does.
    #[command(subcommand)]
    Apk(ArchiveCommand),
    /// Android App Bundles: sign and verify (JAR signing, as jarsigner does).
    #[command(subcommand)]
    Aab(ArchiveCommand),
    /// Apple credentials.
    #[command(subcommand)]
    Ios(IosCommand),
    /// iOS apps: sign an .ipa for distribution, verify one.
    #[command(subcommand)]
    Ipa(IpaCommand),
    /// Server administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run the credentials server (SQLite in the data dir, or PostgreSQL).
    Serve(ServeArgs),
    /// Inspect any supported credential file, detected by content.
    Inspect(InspectArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add a new master key to the data dir's key file and make it current. Existing
    /// secrets stay readable under their old key until they are rewrapped.
    RotateKey(RotateKeyArgs),
    /// Re-wrap every stored data key under the current master key (safe while servers
    /// run); afterwards the old keys can be removed.
    Rewrap(RewrapArgs),
    /// Remove a master key that no longer seals any secret (after rotate-key and rewrap).
    RemoveKey(RemoveKeyArgs),
    /// Create a user; with --owner, also an organization the user owns (first-run
    /// bootstrap, instead of the setup token).
    CreateUser(CreateUserArgs),
}

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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub struct RewrapArgs {
    #[command(flatten)]
    pub store: ServerStoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RemoveKeyArgs {
    #[command(flatten)]
    pub store: ServerStoreArgs,
    /// The key id to remove.
    #[arg(long)]
    pub key_id: String,
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[command(flatten)]
    pub store: ServerStoreArgs,
    /// The user's e-mail (their login).
    #[arg(long)]
    pub email: String,
    /// The password: pass:…, env:VAR, file:PATH or stdin (prompted when absent).
    #[arg(long, value_name = "SECRET")]
    pub password: Option<SecretArg>,
    /// Also create an organization (named by --org) that the user owns.
    #[arg(long, requires = "org")]
    pub owner: bool,
    /// The organization's name, with --owner.
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    pub store: ServerStoreArgs,
    /// Id of the new key; refused if the key file or the database already knows it
    /// [default: k- and 12 random hex digits].
    #[arg(long)]
    pub key_id: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

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

#[derive(Debug, Subcommand)]
pub enum IosCommand {
    /// Mint an APNs provider token (ES256 JWT) with a .p8 push key.
    ApnsToken(ApnsTokenArgs),
    /// Cross-check a certificate, a provisioning profile and a push key before a build.
    Check(IosCheckArgs),
    /// Create a private key and the certificate signing request Apple's portal asks for.
    Csr(IosCsrArgs),
    /// Bundle a private key and the .cer Apple issued into a .p12 identity.
    P12(IosP12Args),
}

#[derive(Debug, Args)]
pub struct IosCsrArgs {
    /// Where to write the new private key (PEM PKCS#8, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key_out: PathBuf,
    /// Where to write the request (PEM).
    #[arg(long, value_name = "FILE")]
    pub csr_out: PathBuf,
    /// The request's common name (Apple ignores it and uses the team's name).
    #[arg(long, default_value = "signet")]
    pub common_name: String,
    /// The e-mail address Apple's form asks for.
    #[arg(long)]
    pub email: Option<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct IosP12Args {
    /// The private key the request was made with (PEM or DER PKCS#8).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The certificate Apple issued (.cer, DER or PEM).
    #[arg(long, value_name = "FILE")]
    pub cer: PathBuf,
    /// The .p12 to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The .p12 password [default: generated, shown once].
    #[arg(long, value_name = "SECRET", help = format!("The .p12 password ({SECRET_HELP}) [default: generated]"))]
    pub pass: Option<SecretArg>,
    /// AES-256/SHA-256 instead of the 3DES/SHA-1 that macOS Keychain imports.
    #[arg(long)]
    pub modern: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Apple distribution types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistributionArg {
    /// App Store and TestFlight.
    AppStore,
    /// Ad hoc, to registered devices.
    AdHoc,
    /// In-house (Apple Developer Enterprise Program).
    Enterprise,
    /// Development builds.
    Development,
}

#[derive(Debug, Args)]
pub struct IosCheckArgs {
    /// The signing identity (.p12).
    #[arg(long, value_name = "FILE")]
    pub p12: Option<PathBuf>,
    /// The .p12 password.
    #[arg(long, value_name = "SECRET", help = format!("The .p12 password ({SECRET_HELP})"))]
    pub p12_pass: Option<SecretArg>,
    /// The provisioning profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// The APNs key (.p8).
    #[arg(long, value_name = "FILE")]
    pub push_key: Option<PathBuf>,
    /// The push key's id [default: from AuthKey_<KEYID>.p8].
    #[arg(long, value_name = "KEYID")]
    pub key_id: Option<String>,
    /// The team the push key belongs to.
    #[arg(long, value_name = "TEAMID")]
    pub team_id: Option<String>,
    /// The app's bundle id.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    /// What the build is for.
    #[arg(long, value_enum)]
    pub distribution: Option<DistributionArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ApnsTokenArgs {
    /// The .p8 key Apple issued (AuthKey_<KEYID>.p8).
    #[arg(long, value_name = "FILE")]
    pub push_key: PathBuf,
    /// The key id [default: from the file name AuthKey_<KEYID>.p8].
    #[arg(long, value_name = "KEYID")]
    pub key_id: Option<String>,
    /// The Apple team id (the token's issuer).
    #[arg(long, value_name = "TEAMID")]
    pub team_id: String,
    /// Issued-at time in seconds since the epoch [default: now].
    #[arg(long, value_name = "SECONDS")]
    pub iat: Option<i64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

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
    #[command(flatten)]
    pub output: OutputArgs,
}

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

/// Secret arguments: `pass:VALUE`, `env:VAR`, `file:PATH` or `stdin` (apksigner's syntax).
const SECRET_HELP: &str = "pass:VALUE, env:VAR, file:PATH or stdin";

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
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

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// File to inspect: a keystore, or a PEM or DER certificate.
    pub file: PathBuf,
    /// Password, for keystores.
    #[arg(long, value_name = "SECRET", help = format!("Password, for keystores ({SECRET_HELP})"))]
    pub pass: Option<SecretArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}
