//! `signet credentials …`. (Only `sync` here so far.)

use clap::Subcommand;

use super::SyncArgs;

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Sync eas-cli's credentials.json with the server: `--to-local` writes the server's
    /// build credentials into it, `--to-remote` uploads it (validated first, the old
    /// credentials backed up, all or nothing).
    Sync(SyncArgs),
}
