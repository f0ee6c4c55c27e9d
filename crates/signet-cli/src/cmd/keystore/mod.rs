//! `signet keystore generate | inspect | upload-cert | convert | passwd | rename | delete |
//! import`: one module per command; here, what they share (opening a keystore from the
//! command line, the type flags); in `write_back`, what the editing commands share.

mod convert;
mod delete;
mod generate;
mod import;
mod inspect;
mod passwd;
mod rename;
mod upload_cert;
mod write_back;

use std::path::Path;

use anyhow::Context;
use signet_formats::{Keystore, KeystoreType, Password, Pkcs12Encryption};

use crate::{
    flags::{StoreArgs, StoreTypeArg},
    secret_arg::resolve_or_prompt,
};

pub use convert::convert;
pub use delete::delete;
pub use generate::generate;
pub use import::import;
pub use inspect::{inspect, inspect_opened};
pub use passwd::passwd;
pub use rename::rename;
pub use upload_cert::upload_cert;

fn keystore_type(arg: StoreTypeArg) -> KeystoreType {
    match arg {
        StoreTypeArg::Pkcs12 => KeystoreType::Pkcs12,
        StoreTypeArg::Jks => KeystoreType::Jks,
    }
}

fn pkcs12_encryption(legacy: bool) -> Pkcs12Encryption {
    if legacy {
        Pkcs12Encryption::Legacy
    } else {
        Pkcs12Encryption::Modern
    }
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A keystore opened from the command line, with the passwords it was opened with.
pub struct Opened {
    pub store: Keystore,
    pub store_pass: Option<Password>,
    pub key_pass: Option<Password>,
}

/// Opens the keystore named by `args`, asking for the store password on a terminal.
pub fn open(args: &StoreArgs) -> anyhow::Result<Opened> {
    let bytes = read_file(&args.file)?;
    open_bytes(
        &bytes,
        &args.file,
        args.store_pass.as_ref(),
        args.key_pass.as_ref(),
    )
}

pub fn open_bytes(
    bytes: &[u8],
    path: &Path,
    store_pass: Option<&crate::secret_arg::SecretArg>,
    key_pass: Option<&crate::secret_arg::SecretArg>,
) -> anyhow::Result<Opened> {
    // Detect first, so a file that is no keystore says so before a password is asked for.
    detect(bytes, path)?;
    let store_pass = resolve_or_prompt(store_pass, Some("Keystore password: "))?;
    let key_pass = key_pass
        .map(crate::secret_arg::SecretArg::resolve)
        .transpose()?;
    open_with(bytes, path, store_pass, key_pass)
}

/// Refuses a file that is no keystore, naming it.
pub fn detect(bytes: &[u8], path: &Path) -> anyhow::Result<()> {
    signet_formats::detect(bytes).with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Opens a keystore with passwords already resolved (the errors, and the hints `main`
/// gives for them, are those of every keystore command).
pub fn open_with(
    bytes: &[u8],
    path: &Path,
    store_pass: Option<Password>,
    key_pass: Option<Password>,
) -> anyhow::Result<Opened> {
    let store = Keystore::open(bytes, store_pass.as_ref())
        .with_context(|| format!("{}", path.display()))?;
    Ok(Opened {
        store,
        store_pass,
        key_pass,
    })
}

impl Opened {
    /// The password to decrypt keys with: `--key-pass`, else the store password.
    pub fn key_password(&self) -> Option<&Password> {
        self.key_pass.as_ref().or(self.store_pass.as_ref())
    }
}
