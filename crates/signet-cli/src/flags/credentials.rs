//! `signet credentials …` flags: the organization's credentials on a server.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use signet_client::{CredentialId, Kind};

use super::{OutputArgs, RemoteArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

/// `signet credentials [-p android|ios] [--app A]`, or one of its actions.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    pub subcommand: Option<CredentialsCommand>,
    /// The platform whose credentials the interactive menu manages.
    #[arg(short = 'p', long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// The app (slug or id) whose credentials the interactive menu manages.
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
}

/// A platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    /// Android.
    Android,
    /// iOS.
    Ios,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// List credentials: type, name, team, short fingerprint, expiry, what uses them.
    List(CredentialsListArgs),
    /// Show one credential: everything derived from its files, what uses it, kept versions.
    Show(CredentialsShowArgs),
    /// Upload a credential (checked here first, then validated and stored by the server).
    #[command(subcommand)]
    Upload(UploadCommand),
    /// Delete a credential (restorable for the server's restore window), after showing
    /// what stops working. Nothing is revoked at Apple or Google.
    Delete(CredentialsDeleteArgs),
    /// Restore a deleted credential.
    Restore(CredentialsRestoreArgs),
    /// Write a credential's files to disk (admin): keystore, .p12, profile, .p8, JSON key.
    Export(CredentialsExportArgs),
    /// Credentials that expire within N days, soonest first (expired ones included).
    Expiring(CredentialsExpiringArgs),
    /// Move a project's credentials between eas-cli's credentials.json (and its files)
    /// and the server, either way.
    Sync(super::SyncArgs),
    /// An app's Android credentials: build sets (keystores), FCM and service-account slots.
    #[command(subcommand)]
    Android(super::CredentialsAndroidCommand),
    /// An app's iOS credentials: build pairs (certificate + profile), push key, App Store
    /// Connect API key, Apple team.
    #[command(subcommand)]
    Ios(super::CredentialsIosCommand),
}

/// Credential types, by their API names (the upload subcommands' names are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Android keystores.
    #[value(name = "android-keystore", alias = "keystore")]
    AndroidKeystore,
    /// Google service account keys.
    #[value(name = "google-service-account-key", alias = "service-account")]
    GoogleServiceAccountKey,
    /// FCM legacy server keys.
    #[value(name = "fcm-legacy-key", alias = "fcm-key")]
    FcmLegacyKey,
    /// Apple teams.
    #[value(name = "apple-team")]
    AppleTeam,
    /// Apple distribution (and development) certificates.
    #[value(name = "apple-distribution-certificate", alias = "dist-cert")]
    AppleDistributionCertificate,
    /// Apple provisioning profiles.
    #[value(name = "apple-provisioning-profile", alias = "profile")]
    AppleProvisioningProfile,
    /// APNs push keys.
    #[value(name = "apple-push-key", alias = "push-key")]
    ApplePushKey,
    /// App Store Connect API keys.
    #[value(name = "asc-api-key", alias = "asc-key")]
    AscApiKey,
}

impl KindArg {
    /// The store's type.
    pub fn kind(self) -> Kind {
        match self {
            KindArg::AndroidKeystore => Kind::AndroidKeystore,
            KindArg::GoogleServiceAccountKey => Kind::GoogleServiceAccountKey,
            KindArg::FcmLegacyKey => Kind::FcmLegacyKey,
            KindArg::AppleTeam => Kind::AppleTeam,
            KindArg::AppleDistributionCertificate => Kind::AppleDistributionCertificate,
            KindArg::AppleProvisioningProfile => Kind::AppleProvisioningProfile,
            KindArg::ApplePushKey => Kind::ApplePushKey,
            KindArg::AscApiKey => Kind::AscApiKey,
        }
    }
}

#[derive(Debug, Args)]
pub struct CredentialsListArgs {
    /// Only this type.
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<KindArg>,
    /// Only what this app (slug or id) uses.
    #[arg(long, value_name = "APP", conflicts_with = "deleted")]
    pub app: Option<String>,
    /// Deleted credentials (restorable until they are purged) instead of live ones.
    #[arg(long)]
    pub deleted: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CredentialsShowArgs {
    /// The credential's id (cred_…).
    pub id: CredentialId,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CredentialsDeleteArgs {
    /// The credential's id (cred_…).
    pub id: CredentialId,
    /// Delete without asking (needed when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// For a keystore: export it (admin) to FILE first, its passwords to FILE.password
    /// (both 0600) [default: asked on a terminal; no backup otherwise].
    #[arg(long, value_name = "FILE")]
    pub backup_to: Option<PathBuf>,
    /// Overwrite an existing backup file.
    #[arg(long, requires = "backup_to")]
    pub force: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CredentialsRestoreArgs {
    /// The deleted credential's id (cred_…).
    pub id: CredentialId,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CredentialsExportArgs {
    /// The credential's id (cred_…).
    pub id: CredentialId,
    /// The file to write (mode 0600): the keystore, .p12, .mobileprovision, .p8, the
    /// service account's JSON, or the FCM server key.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// Write the password of a keystore or .p12 to this file (0600; a keystore's key
    /// password on a second line when it differs).
    #[arg(long, value_name = "FILE")]
    pub password_out: Option<PathBuf>,
    /// Print passwords (and, with --json, include them).
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CredentialsExpiringArgs {
    /// The horizon in days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub days: u32,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `signet credentials upload <type> …`: one subcommand per credential type of SPEC §1.
#[derive(Debug, Subcommand)]
pub enum UploadCommand {
    /// An Android keystore (JKS or PKCS#12), opened here with its passwords first.
    Keystore(UploadKeystoreArgs),
    /// An Apple distribution certificate: a .p12 with its password, or the private key and
    /// the .cer Apple issued for it.
    DistCert(UploadDistCertArgs),
    /// An Apple provisioning profile (.mobileprovision).
    Profile(UploadProfileArgs),
    /// An APNs push key (.p8).
    PushKey(UploadPushKeyArgs),
    /// A Google service account key (its JSON file), for FCM v1 or Play submissions.
    ServiceAccount(UploadServiceAccountArgs),
    /// An FCM legacy server key.
    FcmKey(UploadFcmKeyArgs),
    /// An App Store Connect API key (.p8).
    AscKey(UploadAscKeyArgs),
    /// An Apple team.
    AppleTeam(UploadAppleTeamArgs),
}

/// What every upload takes: a display name, the server, `--json`.
#[derive(Debug, Args)]
pub struct UploadCommon {
    /// A display name [default: derived from the file by the server].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct UploadKeystoreArgs {
    /// The keystore file.
    pub file: PathBuf,
    /// The store password [default: asked on a terminal].
    #[arg(long, value_name = "SECRET", help = format!("The store password ({SECRET_HELP}) [default: asked on a terminal]"))]
    pub store_pass: Option<SecretArg>,
    /// The key's alias [default: the only key entry].
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// The key password [default: the store password].
    #[arg(long, value_name = "SECRET", help = format!("The key password ({SECRET_HELP}) [default: the store password]"))]
    pub key_pass: Option<SecretArg>,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadDistCertArgs {
    /// The identity as a .p12.
    #[arg(long, value_name = "FILE", required_unless_present_all = ["key", "cer"], conflicts_with_all = ["key", "cer"])]
    pub p12: Option<PathBuf>,
    /// The .p12's password; with --key and --cer, the password of the .p12 the server
    /// makes [default: generated].
    #[arg(long, value_name = "SECRET", help = format!("The .p12 password ({SECRET_HELP}); with --key/--cer, the one to give the .p12 made of them [default: generated]"))]
    pub p12_pass: Option<SecretArg>,
    /// Instead of --p12: the private key the request was made with (PEM or DER PKCS#8).
    #[arg(long, value_name = "FILE", requires = "cer")]
    pub key: Option<PathBuf>,
    /// Instead of --p12: the certificate Apple issued (.cer, DER or PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cer: Option<PathBuf>,
    /// The team the certificate must belong to.
    #[arg(long, value_name = "TEAMID")]
    pub team_id: Option<String>,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadProfileArgs {
    /// The .mobileprovision file.
    pub file: PathBuf,
    /// The bundle id the profile must match.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    /// The team the profile must belong to.
    #[arg(long, value_name = "TEAMID")]
    pub team_id: Option<String>,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadPushKeyArgs {
    /// The .p8 file Apple issued (AuthKey_<KEYID>.p8).
    pub file: PathBuf,
    /// The key id [default: from the file name AuthKey_<KEYID>.p8].
    #[arg(long, value_name = "KEYID")]
    pub key_id: Option<String>,
    /// The team the key belongs to.
    #[arg(long, value_name = "TEAMID")]
    pub team_id: String,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadServiceAccountArgs {
    /// The JSON key file Google Cloud issued.
    pub file: PathBuf,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadFcmKeyArgs {
    /// The server key.
    #[arg(long, value_name = "SECRET", help = format!("The FCM server key ({SECRET_HELP})"))]
    pub server_key: SecretArg,
    #[command(flatten)]
    pub common: UploadCommon,
}

#[derive(Debug, Args)]
pub struct UploadAscKeyArgs {
    /// The .p8 file App Store Connect issued (AuthKey_<KEYID>.p8).
    pub file: PathBuf,
    /// The key id [default: from the file name AuthKey_<KEYID>.p8].
    #[arg(long, value_name = "KEYID")]
    pub key_id: Option<String>,
    /// The issuer id (a UUID, shown in App Store Connect above the keys).
    #[arg(long, value_name = "UUID")]
    pub issuer_id: String,
    /// The team the key belongs to.
    #[arg(long, value_name = "TEAMID")]
    pub team_id: Option<String>,
    /// The key's roles in App Store Connect (repeat for several).
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    #[command(flatten)]
    pub common: UploadCommon,
}

/// An Apple team's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TeamTypeArg {
    /// A company or organization.
    Company,
    /// An individual.
    Individual,
    /// Apple Developer Enterprise Program.
    InHouse,
}

#[derive(Debug, Args)]
pub struct UploadAppleTeamArgs {
    /// The team id (10 characters).
    #[arg(long, value_name = "TEAMID")]
    pub team_id: String,
    /// The team's name [default: the team id].
    #[arg(long, value_name = "NAME")]
    pub team_name: Option<String>,
    /// The team's type [default: company].
    #[arg(long, value_enum)]
    pub team_type: Option<TeamTypeArg>,
    #[command(flatten)]
    pub common: UploadCommon,
}
