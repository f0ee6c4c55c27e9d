//! Flags of `signet credentials ios …`: an app's build pairs and slots for one bundle id.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use signet_client::{CertificateRequestId, CredentialId};

use super::{DistributionArg, OutputArgs, RemoteArgs};

/// The app and bundle id acted on.
#[derive(Debug, Args)]
pub struct IosTarget {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// The bundle id, e.g. com.acme.app.
    #[arg(long, value_name = "ID")]
    pub bundle_id: String,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsIosCommand {
    /// What the app uses on iOS: build pairs with their certificates and profiles, and
    /// slots.
    Show(IosShowArgs),
    /// Build credentials: the distribution certificate and provisioning profile of each
    /// distribution type.
    #[command(subcommand)]
    BuildPair(BuildPairCommand),
    /// The push key, App Store Connect API key and Apple team.
    #[command(subcommand)]
    Slot(IosSlotCommand),
    /// Make a distribution certificate's key on the server and write the certificate
    /// signing request to upload on Apple's portal (the key never leaves the server).
    Csr(RemoteCsrArgs),
    /// Join the .cer Apple issued for a request made with `csr` to its key: stored as an
    /// apple-distribution-certificate (.p12, password kept on the server).
    ImportCer(ImportCerArgs),
    /// List the certificate requests made with `csr`, completed or waiting for a .cer.
    Requests(RequestsArgs),
}

#[derive(Debug, Args)]
pub struct RemoteCsrArgs {
    /// Where to write the request (PEM).
    #[arg(long, value_name = "FILE")]
    pub csr_out: PathBuf,
    /// The request's common name (Apple ignores it and uses the team's name).
    #[arg(long, default_value = "signet")]
    pub common_name: String,
    /// The e-mail address Apple's form asks for.
    #[arg(long)]
    pub email: Option<String>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ImportCerArgs {
    /// The request's id, as `csr` printed it (`csr_…`).
    #[arg(value_name = "REQUEST_ID", value_parser = CertificateRequestId::parse)]
    pub request: CertificateRequestId,
    /// The certificate Apple issued (.cer, DER or PEM).
    #[arg(long, value_name = "FILE")]
    pub cer: PathBuf,
    /// The credential's name [default: the certificate's common name].
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IosShowArgs {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// Only this bundle id [default: every one the app has].
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum BuildPairCommand {
    /// List the build pairs, with fingerprints and expiry.
    List(IosShowArgs),
    /// Set the certificate and profile of a distribution type (the server checks that they
    /// belong together).
    Set(BuildPairSetArgs),
    /// Remove the pair of a distribution type (the certificate and profile stay).
    Delete(BuildPairDeleteArgs),
}

#[derive(Debug, Args)]
pub struct BuildPairSetArgs {
    #[command(flatten)]
    pub target: IosTarget,
    /// The distribution type.
    #[arg(long, value_enum)]
    pub distribution: DistributionArg,
    /// The distribution certificate's id.
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub certificate: CredentialId,
    /// The provisioning profile's id.
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub profile: CredentialId,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BuildPairDeleteArgs {
    #[command(flatten)]
    pub target: IosTarget,
    /// The distribution type.
    #[arg(long, value_enum)]
    pub distribution: DistributionArg,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A bundle id's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IosSlot {
    /// The APNs key (.p8) push notifications are sent with.
    PushKey,
    /// The App Store Connect API key.
    AscApiKey,
    /// The Apple team the app belongs to.
    AppleTeam,
}

#[derive(Debug, Subcommand)]
pub enum IosSlotCommand {
    /// Assign a credential to a slot (replacing what it held).
    Set(IosSlotSetArgs),
    /// Empty a slot (the credential stays).
    Clear(IosSlotClearArgs),
}

#[derive(Debug, Args)]
pub struct IosSlotSetArgs {
    #[command(flatten)]
    pub target: IosTarget,
    /// The slot.
    #[arg(value_enum)]
    pub slot: IosSlot,
    /// The credential's id.
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub credential: CredentialId,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IosSlotClearArgs {
    #[command(flatten)]
    pub target: IosTarget,
    /// The slot.
    #[arg(value_enum)]
    pub slot: IosSlot,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
