//! Flags of the `signet ios` commands that act at Apple through the server's App Store
//! Connect key: `setup`, `doctor`, `device`, `certificate`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{DistributionArg, OutputArgs, RemoteArgs};

#[derive(Debug, Args)]
pub struct IosSetupArgs {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// The bundle id, e.g. com.acme.app (registered at Apple if missing).
    #[arg(long, value_name = "ID")]
    pub bundle_id: String,
    /// What the builds are for.
    #[arg(long, value_enum)]
    pub distribution: DistributionArg,
    /// The app's entitlements (.entitlements or .plist): the capabilities to enable.
    #[arg(long, value_name = "FILE")]
    pub entitlements: Option<PathBuf>,
    /// At the team's certificate limit, never ask (off a terminal it never asks anyway).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IosDoctorArgs {
    /// The app (slug or id).
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// Only this bundle id's pairs.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    /// Make new certificates and profiles where they are wanting.
    #[arg(long)]
    pub fix: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which of the app's App Store Connect keys: the bundle id's slot, or the app's only key.
#[derive(Debug, Args)]
pub struct AscTarget {
    /// The app (slug or id) whose App Store Connect key is used.
    #[arg(long, value_name = "APP")]
    pub app: String,
    /// The bundle id whose asc-api-key slot holds the key [default: the app's only one].
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device with the team (ad hoc and development profiles include it at
    /// the next `ios setup`).
    Add(DeviceAddArgs),
    /// The team's registered devices.
    List(DeviceListArgs),
}

/// Apple's device platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DevicePlatform {
    /// iPhone, iPad, Apple TV, Apple Watch, Vision Pro.
    Ios,
    /// A Mac.
    MacOs,
}

impl DevicePlatform {
    /// Apple's name.
    pub fn apple(self) -> &'static str {
        match self {
            DevicePlatform::Ios => "IOS",
            DevicePlatform::MacOs => "MAC_OS",
        }
    }
}

#[derive(Debug, Args)]
pub struct DeviceAddArgs {
    #[command(flatten)]
    pub target: AscTarget,
    /// The UDID (Finder or Xcode shows it).
    #[arg(long, value_name = "UDID")]
    pub udid: String,
    /// A name to know it by.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Its platform.
    #[arg(long, value_enum, default_value = "ios")]
    pub platform: DevicePlatform,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeviceListArgs {
    #[command(flatten)]
    pub target: AscTarget,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Apple's signing certificates of the team beside signet's: which ones signet holds
    /// the key for, and what uses them.
    List(DeviceListArgs),
    /// Revoke a certificate at Apple (admin): the profiles that allow it become invalid.
    Revoke(CertificateRevokeArgs),
}

#[derive(Debug, Args)]
pub struct CertificateRevokeArgs {
    #[command(flatten)]
    pub target: AscTarget,
    /// Apple's id of the certificate (`signet ios certificate list` shows it).
    pub id: String,
    /// Revoke without asking (required off a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
