//! `signet admin …` flags.

use clap::{Args, Subcommand};

use super::{OutputArgs, ServerStoreArgs};
use crate::secret_arg::SecretArg;

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
