//! Raw command-line flags, as clap parses them. Commands validate them into the values the
//! library crates take (`crate::cmd`).
//!
//! One module per command group; the groups' types are re-exported here.

mod admin;
mod apple;
mod archive;
mod build_credentials;
mod credentials;
mod credentials_android;
mod credentials_ios;
mod credentials_sync;
mod inspect;
mod ios;
mod ipa;
mod keystore;
mod remote;
mod serve;
mod team;

use clap::{Args, Parser, Subcommand};

pub use admin::{AdminCommand, CreateUserArgs, RemoveKeyArgs, RewrapArgs, RotateKeyArgs};
pub use apple::{CertificateCommand, DeviceCommand, IosDoctorArgs, IosSetupArgs};
pub use archive::{
    ApkCommand, ApkLineageArgs, ApkRotateArgs, ArchiveCommand, ArchiveSignArgs, ArchiveVerifyArgs,
};
pub use build_credentials::{BuildCredentialsCommand, BuildPlatformArg, FetchArgs};
pub use credentials::{
    CredentialsArgs, CredentialsCommand, CredentialsDeleteArgs, CredentialsExpiringArgs,
    CredentialsExportArgs, CredentialsListArgs, CredentialsRestoreArgs, CredentialsShowArgs,
    KindArg, PlatformArg, TeamTypeArg, UploadAppleTeamArgs, UploadAscKeyArgs, UploadCommand,
    UploadDistCertArgs, UploadFcmKeyArgs, UploadKeystoreArgs, UploadProfileArgs, UploadPushKeyArgs,
    UploadServiceAccountArgs,
};
pub use credentials_android::{
    AndroidShowArgs, AndroidSlot, AndroidSlotCommand, AndroidTarget, BuildSetCommand,
    BuildSetCreateArgs, CredentialsAndroidCommand, OptInPlaySigningArgs,
};
pub use credentials_ios::{
    BuildPairCommand, CredentialsIosCommand, ImportCerArgs, IosShowArgs, IosSlot, IosSlotCommand,
    IosTarget, RemoteCsrArgs, RequestsArgs,
};
pub use credentials_sync::{SyncArgs, SyncPlatform, TargetArg};
pub use inspect::InspectArgs;
pub use ios::{ApnsTokenArgs, DistributionArg, IosCheckArgs, IosCommand, IosCsrArgs, IosP12Args};
pub use ipa::{IpaCommand, IpaSignArgs, IpaVerifyArgs};
pub use keystore::{
    ConvertArgs, DeleteArgs, EditArgs, GenerateArgs, ImportArgs, KeyAlgArg, KeystoreCommand,
    KeystoreInspectArgs, PasswdArgs, RenameArgs, StoreArgs, StoreTypeArg, UploadCertArgs,
};
pub use remote::{
    AppCommand, AppCreateArgs, AppListArgs, LoginArgs, LogoutArgs, RemoteArgs, WhoamiArgs,
};
pub use serve::{LogFormat, ServeArgs, ServerStoreArgs};
pub use team::{AuditArgs, MemberCommand, RobotCommand, RoleArg};

/// signet: manage and use the credentials mobile apps are signed with.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Android keystores: generate, inspect, export the upload certificate, convert, change
    /// passwords, rename, delete, import a PEM key.
    #[command(subcommand)]
    Keystore(KeystoreCommand),
    /// Android APKs: sign (v1, v2, v3) and verify, as apksigner does; key rotation.
    #[command(subcommand)]
    Apk(ApkCommand),
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
    /// Inspect any supported file, detected by content: keystores, certificates, provisioning
    /// profiles, .p8 keys, IPAs.
    Inspect(InspectArgs),
    /// Log in to a signet server (saved in the config dir, 0600).
    Login(LoginArgs),
    /// Log out: revoke the session on the server and forget it here.
    Logout(LogoutArgs),
    /// Show who you are logged in as, where, and your role.
    Whoami(WhoamiArgs),
    /// The organization's apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Credentials on the server, and what each app builds with.
    Credentials(CredentialsArgs),
    /// Robot tokens for CI: a role, optionally limited to apps.
    #[command(subcommand)]
    Robot(RobotCommand),
    /// The organization's members and their roles.
    #[command(subcommand)]
    Member(MemberCommand),
    /// The organization's audit log, newest first.
    Audit(AuditArgs),
    /// Build credentials for CI.
    #[command(subcommand)]
    BuildCredentials(BuildCredentialsCommand),
}

/// Secret arguments: `pass:VALUE`, `env:VAR`, `file:PATH` or `stdin` (apksigner's syntax).
const SECRET_HELP: &str = "pass:VALUE, env:VAR, file:PATH or stdin";

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
