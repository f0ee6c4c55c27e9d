//! `signet ios …` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

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
    /// Make an app ready to build at Apple through the server's App Store Connect key:
    /// bundle id, capabilities, distribution certificate, provisioning profile, build pair.
    Setup(super::apple::IosSetupArgs),
    /// Find invalid or expired profiles, certificates Apple no longer lists and profiles
    /// missing devices; `--fix` makes new ones.
    Doctor(super::apple::IosDoctorArgs),
    /// The team's registered devices.
    #[command(subcommand)]
    Device(super::apple::DeviceCommand),
    /// The team's signing certificates at Apple.
    #[command(subcommand)]
    Certificate(super::apple::CertificateCommand),
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
#[command(group(clap::ArgGroup::new("key").required(true).args(["push_key", "app"])))]
pub struct ApnsTokenArgs {
    /// The .p8 key Apple issued (AuthKey_<KEYID>.p8), to mint the token here.
    #[arg(long, value_name = "FILE", requires = "team_id")]
    pub push_key: Option<PathBuf>,
    /// The key id [default: from the file name AuthKey_<KEYID>.p8].
    #[arg(long, value_name = "KEYID", requires = "push_key")]
    pub key_id: Option<String>,
    /// The Apple team id (the token's issuer).
    #[arg(long, value_name = "TEAMID", requires = "push_key")]
    pub team_id: Option<String>,
    /// Issued-at time in seconds since the epoch [default: now].
    #[arg(long, value_name = "SECONDS", requires = "push_key")]
    pub iat: Option<i64>,
    /// Have the server mint it with the push key of this app (slug or id): the .p8 never
    /// leaves the server.
    #[arg(long, value_name = "APP", conflicts_with = "push_key")]
    pub app: Option<String>,
    /// With --app: the bundle id whose push key to use [default: the app's only bundle id
    /// with a push key].
    #[arg(long, value_name = "ID", requires = "app")]
    pub bundle_id: Option<String>,
    /// With --app: a new token rather than the one the server cached (Apple refuses
    /// refreshes more often than every 20 minutes).
    #[arg(long, requires = "app")]
    pub fresh: bool,
    #[command(flatten)]
    pub remote: super::RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
