//! `signet ios …`: Apple credentials.

use anyhow::Context;
use signet_formats::apple::p8;

use crate::{UsageError, cmd::keystore::read_file, flags::ApnsTokenArgs, output};

#[derive(serde::Serialize)]
struct TokenJson<'a> {
    token: &'a str,
    key_id: &'a str,
    team_id: &'a str,
    issued_at: i64,
    /// APNs accepts a token for an hour and asks for it to be refreshed no more often
    /// than every 20 minutes.
    expires_at: i64,
}

pub fn apns_token(args: &ApnsTokenArgs) -> anyhow::Result<()> {
    let file_name = args
        .push_key
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let key_id = match &args.key_id {
        Some(k) => k.clone(),
        None => p8::key_id_from_file_name(file_name)
            .ok_or_else(|| {
                UsageError(format!(
                    "pass --key-id: `{file_name}` is not named AuthKey_<KEYID>.p8"
                ))
            })?
            .to_owned(),
    };
    let bytes = read_file(&args.push_key)?;
    let key = p8::AuthKey::parse(&bytes).with_context(|| format!("{}", args.push_key.display()))?;
    let iat = args
        .iat
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let token = key
        .provider_token(&key_id, &args.team_id, iat)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.output.json {
        return output::json(&TokenJson {
            token: &token,
            key_id: &key_id,
            team_id: &args.team_id,
            issued_at: iat,
            expires_at: iat + 3600,
        });
    }
    println!("{token}");
    Ok(())
}
