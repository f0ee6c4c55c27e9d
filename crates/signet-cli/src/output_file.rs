//! Writing output files: never over an existing file unless asked, never half-written.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

/// Fails early, before any work, when `path` exists and `force` is off.
pub fn check_writable(path: &Path, force: bool) -> anyhow::Result<()> {
    if !force && path.symlink_metadata().is_ok() {
        bail!(OutputExists(path.to_path_buf()));
    }
    Ok(())
}

/// The output file exists and `--force` was not given.
#[derive(Debug)]
pub struct OutputExists(pub PathBuf);

impl std::fmt::Display for OutputExists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} already exists", self.0.display())
    }
}

impl std::error::Error for OutputExists {}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// reader sees the old file or the whole new one. Secret files get mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool, secret: bool) -> anyhow::Result<()> {
    let tmp = prepare(path, bytes, secret)?;
    persist(tmp, path, force)
}

/// An empty temporary file in `path`'s directory, to be [`persist`]ed as `path`.
pub fn temp_beside(path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".signet-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

/// Writes `bytes` (synced) to a temporary file beside `path`, for [`persist`] later.
pub fn prepare(path: &Path, bytes: &[u8], secret: bool) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut tmp = temp_beside(path)?;
    if !secret {
        set_mode(tmp.path(), 0o644)?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(tmp)
}

/// Renames a finished temporary file into place.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path, force: bool) -> anyhow::Result<()> {
    let persisted = if force {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::Error::new(OutputExists(path.to_path_buf()))
        } else {
            anyhow::Error::new(e.error).context(format!("cannot write {}", path.display()))
        }
    })
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions on {}", path.display()))
}

#[cfg(not(unix))]
pub fn set_mode(_path: &Path, _mode: u32) -> anyhow::Result<()> {
    Ok(())
}
