//! `signet credentials`: the organization's credentials on a server, and what each app
//! builds with.

use clap::{Args, Subcommand};

use super::{CredentialsAndroidCommand, CredentialsIosCommand};

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    pub command: CredentialsCommand,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// An app's Android credentials: build sets (keystores), FCM and service-account slots.
    #[command(subcommand)]
    Android(CredentialsAndroidCommand),
    /// An app's iOS credentials: build pairs (certificate + profile), push key, App Store
    /// Connect API key, Apple team.
    #[command(subcommand)]
    Ios(CredentialsIosCommand),
}
