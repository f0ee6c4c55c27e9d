//! `signet serve`: the flags made into a [`signet_server::Config`]; starting the server
//! (data dir, master keys, setup token, logging, signals) is `signet_server::run`'s.

use std::time::Duration;

use signet_store::Limits;

use crate::flags::{LogFormat, ServeArgs};

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = signet_server::Config {
        listen: args.listen.clone(),
        store: args.store.config(),
        limits: Limits {
            distribution_certificates: args.max_distribution_certificates,
            push_keys: args.max_push_keys,
            restore_window: Duration::from_secs(args.restore_window_days * 86_400),
        },
        log_format: match args.log_format {
            LogFormat::Text => signet_server::LogFormat::Text,
            LogFormat::Json => signet_server::LogFormat::Json,
        },
        trusted_proxies: args.trusted_proxies.clone(),
        asc_url: args.asc_url.clone(),
    };
    signet_server::run(config)?;
    Ok(())
}
