//! Flags of `signet credentials android …`: an app's build credential sets and slots for
//! one application id.

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use signet_client::CredentialId;

use super::{KeyAlgArg, OutputArgs, RemoteArgs};

/// The app and application id acted on.
#[derive(Debug, Args)]
pub struct AndroidTarget {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// The Android application id (package name), e.g. com.acme.app.
    #[arg(long, value_name = "ID")]
    pub application_id: String,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsAndroidCommand {
    /// What the app uses on Android: build sets with their keystores, and slots.
    Show(AndroidShowArgs),
    /// Build credential sets: the keystore builds sign with, by name; one default per
    /// application id.
    #[command(subcommand)]
    BuildSet(BuildSetCommand),
    /// The FCM server key and the Google service accounts (FCM v1, Play submissions).
    #[command(subcommand)]
    Slot(AndroidSlotCommand),
    /// Opt in to Play App Signing (as `expo opt-in-google-play-signing`): back up the
    /// current keystore here for the Play Console, have the server generate a new upload
    /// key and make it the default, keep the old key marked as Google's app-signing key.
    /// Admin role (it exports the current key).
    OptInPlaySigning(OptInPlaySigningArgs),
}

#[derive(Debug, Args)]
pub struct OptInPlaySigningArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The new upload key's build set.
    #[arg(long, value_name = "NAME", default_value = "upload")]
    pub build_set: String,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AndroidShowArgs {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// Only this application id [default: every one the app has].
    #[arg(long, value_name = "ID")]
    pub application_id: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum BuildSetCommand {
    /// List the build sets, with their keystores' fingerprints and expiry.
    List(AndroidShowArgs),
    /// Create a build set with a new keystore generated for it on the server (the key never
    /// reaches this machine) or an uploaded one. The first set of an application id is its default.
    Create(BuildSetCreateArgs),
    /// Make a build set the default (builds that name no set use it).
    Default(BuildSetNameArgs),
    /// Rename a build set.
    Rename(BuildSetRenameArgs),
    /// Make a build set sign with another keystore (shows what changes, then asks).
    Swap(BuildSetSwapArgs),
    /// Delete a build set (its keystore stays); the default goes last.
    Delete(BuildSetDeleteArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["keystore", "generate"])))]
pub struct BuildSetCreateArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The build set's name (e.g. release), unique per application id.
    pub name: String,
    /// An uploaded keystore's id (`signet credentials list --type android-keystore`).
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub keystore: Option<CredentialId>,
    /// Have the server generate a new keystore (PKCS#12, RSA 2048, random alias and
    /// password); the key and passwords stay there (an admin can export them).
    #[arg(long)]
    pub generate: bool,
    /// With --generate: the key's alias [default: 32 random hex characters].
    #[arg(long, requires = "generate")]
    pub alias: Option<String>,
    /// With --generate: the certificate's subject in keytool's syntax [default: CN=Android
    /// Upload Key].
    #[arg(long, value_name = "DN", requires = "generate")]
    pub dname: Option<String>,
    /// With --generate: the key algorithm [default: rsa].
    #[arg(long, value_enum, requires = "generate")]
    pub key_alg: Option<KeyAlgArg>,
    /// Make it the default even when the application id has one.
    #[arg(long)]
    pub default: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BuildSetNameArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The build set's name.
    pub name: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BuildSetRenameArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The build set's name.
    pub name: String,
    /// Its new name.
    pub new_name: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BuildSetSwapArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The build set's name.
    pub name: String,
    /// The keystore builds sign with from now on.
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub keystore: CredentialId,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BuildSetDeleteArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The build set's name.
    pub name: String,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// An application id's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AndroidSlot {
    /// The FCM legacy server key.
    FcmKey,
    /// The Google service account FCM v1 sends with.
    GoogleServiceAccountFcm,
    /// The Google service account Play submissions use.
    GoogleServiceAccountSubmissions,
}

#[derive(Debug, Subcommand)]
pub enum AndroidSlotCommand {
    /// Assign a credential to a slot (replacing what it held).
    Set(AndroidSlotSetArgs),
    /// Empty a slot (the credential stays).
    Clear(AndroidSlotClearArgs),
}

#[derive(Debug, Args)]
pub struct AndroidSlotSetArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The slot.
    #[arg(value_enum)]
    pub slot: AndroidSlot,
    /// The credential's id.
    #[arg(long, value_name = "ID", value_parser = CredentialId::parse)]
    pub credential: CredentialId,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AndroidSlotClearArgs {
    #[command(flatten)]
    pub target: AndroidTarget,
    /// The slot.
    #[arg(value_enum)]
    pub slot: AndroidSlot,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
