//! What the editing commands (`passwd`, `rename`, `delete`, `import`) share: the keystore
//! opened with its store password, proved, and the result written back in place or to
//! `--out`. Nothing is written unless every step succeeded and the new bytes open with the
//! new password; the file is replaced by a rename, so a reader sees the old keystore or
//! the whole new one, never a half-written or password-less file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use signet_formats::{Keystore, Password};

use super::{open_bytes, read_file};
use crate::{UsageError, flags::EditArgs, output_file};

/// Where an edited keystore goes.
pub struct Destination {
    /// The file written, as the user named it.
    pub shown: PathBuf,
    /// The file written (in place: the file a symbolic link names).
    path: PathBuf,
    /// In place: the keystore replaced is the one read, its mode kept.
    in_place: bool,
    force: bool,
    /// In place: the bytes the file held when the edit began, so that a keystore replaced
    /// during the edit (while a password was typed, say) is not overwritten unseen.
    original: Option<Vec<u8>>,
}

impl Destination {
    /// `--out` (refused early when it exists without `--force`), else `file` in place,
    /// through a symbolic link to the file it names, as keytool writes.
    pub fn new(file: &Path, out: Option<&Path>, force: bool) -> anyhow::Result<Destination> {
        match out {
            Some(out) => {
                output_file::check_writable(out, force)?;
                Ok(Destination {
                    shown: out.to_path_buf(),
                    path: out.to_path_buf(),
                    in_place: false,
                    force,
                    original: None,
                })
            }
            None => {
                let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
                Ok(Destination {
                    shown: file.to_path_buf(),
                    original: std::fs::read(&path).ok(),
                    path,
                    in_place: true,
                    force,
                })
            }
        }
    }

    /// Writes `store` under `store_password`, after proving that the bytes open with it and
    /// hold the same aliases, and that `check` accepts what was read back; returns that.
    pub fn write(
        &self,
        store: &Keystore,
        store_password: &Password,
        check: impl FnOnce(&Keystore) -> anyhow::Result<()>,
    ) -> anyhow::Result<Keystore> {
        let bytes = store.to_bytes(store_password)?;
        let written = Keystore::open(&bytes, Some(store_password))
            .context("the changed keystore does not read back; nothing was written")?;
        if written.aliases().len() != store.aliases().len() {
            bail!("the changed keystore lost entries; nothing was written");
        }
        check(&written).context("the changed keystore does not read back; nothing was written")?;
        if self.in_place {
            if std::fs::read(&self.path).ok() != self.original {
                // The caller names the file.
                bail!(
                    "the file changed while it was being edited; nothing was written (run the command again)"
                );
            }
            // The keystore replaced keeps its permissions (a new file is 0600).
            let mode = std::fs::metadata(&self.path).ok().map(|m| permissions(&m));
            let tmp = output_file::prepare(&self.path, &bytes, true)?;
            if let Some(mode) = mode {
                output_file::set_mode(tmp.path(), mode)?;
            }
            // A keystore that import creates must not replace one made meanwhile.
            output_file::persist(tmp, &self.path, mode.is_some())?;
        } else {
            output_file::write_atomic(&self.path, &bytes, self.force, true)?;
        }
        Ok(written)
    }
}

#[cfg(unix)]
fn permissions(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn permissions(_: &std::fs::Metadata) -> u32 {
    0o600
}

/// The keystore of `args`, opened with its store password (asked for on a terminal): an
/// edit proves the password before it changes anything, so a JKS file is never listed
/// unchecked here.
pub fn open_for_edit(args: &EditArgs) -> anyhow::Result<(Keystore, Password)> {
    let bytes = read_file(&args.file)?;
    let opened = open_bytes(&bytes, &args.file, args.store_pass.as_ref(), None)?;
    let password = opened.store_pass.ok_or_else(|| {
        UsageError("changing a keystore needs its store password: pass --store-pass".into())
    })?;
    Ok((opened.store, password))
}
