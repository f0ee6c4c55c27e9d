//! Flags of the organization's people and robots: `signet robot …`, `signet member …`,
//! `signet audit`.

use clap::{Args, Subcommand, ValueEnum};
use signet_client::TokenId;

use super::{OutputArgs, RemoteArgs};

/// A role in an organization (SPEC §3), each a superset of the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Lists and inspects metadata.
    Viewer,
    /// Also creates, updates and assigns credentials; fetches build credentials.
    Developer,
    /// Also deletes and restores, exports secrets, manages members below owner and robots.
    Admin,
    /// Also manages owners and deletes the organization.
    Owner,
}

#[derive(Debug, Subcommand)]
pub enum RobotCommand {
    /// Create a robot token for CI, with a role, optionally limited to apps (the token is
    /// shown once).
    Create(RobotCreateArgs),
    /// List the robot tokens (never the tokens themselves).
    List(RobotListArgs),
    /// Revoke a robot token: every job using it gets 401 from then on.
    Revoke(RobotRevokeArgs),
}

#[derive(Debug, Args)]
pub struct RobotCreateArgs {
    /// Its role (at most yours, below owner).
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Limit it to this app (slug or id); repeat for several [default: every app].
    #[arg(long = "app", value_name = "APP")]
    pub apps: Vec<String>,
    /// A name to tell it by [default: ci-ROLE].
    #[arg(long)]
    pub name: Option<String>,
    /// Days until it expires (1 to 3650) [default: never].
    #[arg(long, value_name = "N")]
    pub expires_in_days: Option<u32>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RobotListArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RobotRevokeArgs {
    /// The robot's id (tok_…, from `signet robot list`).
    #[arg(value_parser = TokenId::parse)]
    pub id: TokenId,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List the members and their roles.
    List(MemberListArgs),
    /// Add a user (by e-mail; the user must exist on the server) with a role.
    Add(MemberRoleArgs),
    /// Change a member's role (robots they made above the new role are revoked).
    SetRole(MemberRoleArgs),
    /// Remove a member (robots they made are revoked).
    Remove(MemberRemoveArgs),
}

#[derive(Debug, Args)]
pub struct MemberListArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MemberRoleArgs {
    /// The user's e-mail.
    pub email: String,
    /// The role.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Confirm without asking (needed off a terminal when robots would be revoked).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MemberRemoveArgs {
    /// The member's e-mail.
    pub email: String,
    /// Confirm without asking (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// How many records, newest first.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Every record, following the pages.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Only the signatures made with keys the server holds (`apk|aab|ipa sign --app`):
    /// when, by whom, from where, with which key, over which digest.
    #[arg(long)]
    pub signatures: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
