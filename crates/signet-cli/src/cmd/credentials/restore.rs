//! `signet credentials restore ID`: a deleted credential made live again (admin), within
//! the restore window.

use signet_client::{Credential, CredentialId};

use crate::{flags::CredentialsRestoreArgs, output, remote::Remote};

pub fn restore_cmd(args: &CredentialsRestoreArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let credential = restore(&remote, &args.id)?;
    if args.output.json {
        return output::json(&credential);
    }
    println!(
        "Restored {} {} ({}).",
        credential.kind.name(),
        credential.id,
        credential.name
    );
    Ok(())
}

/// Restores a deleted credential.
pub fn restore(remote: &Remote, id: &CredentialId) -> anyhow::Result<Credential> {
    remote
        .block_on(remote.client.restore(&remote.org, id))
        .map_err(|e| super::about(id, e))
}
