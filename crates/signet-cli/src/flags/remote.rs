//! Flags of the commands that talk to a server: which server and organization, the
//! session (`login`, `logout`, `whoami`) and apps.

use clap::{Args, Subcommand};

use super::{OutputArgs, SECRET_HELP};
use crate::secret_arg::SecretArg;

/// Which server and organization. The token comes from `SIGNET_TOKEN` or the saved login
/// (never a flag of these commands, so it stays out of the process list).
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The server [default: the saved login's].
    #[arg(long, value_name = "URL", env = "SIGNET_SERVER", global = true)]
    pub server: Option<String>,
    /// The organization (id or name) [default: the saved one, or your only one].
    #[arg(long, value_name = "ORG", env = "SIGNET_ORG", global = true)]
    pub org: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's URL (http://HOST:PORT or https://HOST).
    #[arg(long, value_name = "URL", env = "SIGNET_SERVER")]
    pub server: Option<String>,
    /// Your e-mail [default: asked on a terminal].
    #[arg(long, value_name = "EMAIL", conflicts_with = "token")]
    pub email: Option<String>,
    /// Your password [default: asked on a terminal].
    #[arg(long, value_name = "SECRET", help = format!("Your password ({SECRET_HELP}) [default: asked on a terminal]"))]
    pub password: Option<SecretArg>,
    /// Save a robot token instead of logging in with a password.
    #[arg(long, value_name = "SECRET", help = format!("A robot token to use instead of a password login ({SECRET_HELP})"), conflicts_with = "password")]
    pub token: Option<SecretArg>,
    /// The organization to use (id or name) when you belong to several.
    #[arg(long, value_name = "ORG", env = "SIGNET_ORG")]
    pub org: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// List the organization's apps.
    List(AppListArgs),
    /// Create an app.
    Create(AppCreateArgs),
}

#[derive(Debug, Args)]
pub struct AppListArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AppCreateArgs {
    /// The app's slug (lower-case letters, digits and dashes), unique in the organization.
    pub slug: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
