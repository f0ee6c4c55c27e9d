//! The saved login: `$XDG_CONFIG_HOME/signet/config.json` (`~/.config/signet/…` when
//! unset), mode 0600 in a 0700 directory, written through a temporary file and a rename.
//! `SIGNET_SERVER`, `SIGNET_TOKEN` and `SIGNET_ORG` override what it holds.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use signet_client::SecretString;

/// What `signet login` saves.
#[derive(Default, Serialize, Deserialize)]
pub struct Config {
    /// The server's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The session (or robot) token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "secret_serde"
    )]
    pub token: Option<SecretString>,
    /// The organization chosen (id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Who logged in (for `whoami` without a round trip; the server is asked anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("org", &self.org)
            .field("email", &self.email)
            .finish()
    }
}

mod secret_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use signet_client::SecretString;

    #[allow(clippy::ref_option)] // serde's `with` hands the field by reference
    pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_some(t.expose()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(SecretString::new))
    }
}

/// The config file's path.
pub fn path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!("neither XDG_CONFIG_HOME nor HOME is set: signet cannot save a login"),
        },
    };
    Ok(base.join("signet").join("config.json"))
}

impl Config {
    /// The saved config; empty when there is none.
    pub fn load() -> anyhow::Result<Config> {
        let path = path()?;
        Config::load_from(&path)
    }

    fn load_from(path: &Path) -> anyhow::Result<Config> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_slice(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a signet config (line {}, column {}); remove it and log in again",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }

    /// Saves it, 0600 in a 0700 directory.
    pub fn save(&self) -> anyhow::Result<PathBuf> {
        let path = path()?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::output_file::set_mode(dir, 0o700)?;
        let text = zeroize::Zeroizing::new(serde_json::to_vec_pretty(self)?);
        crate::output_file::write_atomic(&path, &text, true, true)?;
        Ok(path)
    }

    /// Removes the saved login (a missing file is fine).
    pub fn remove() -> anyhow::Result<Option<PathBuf>> {
        let path = path()?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_round_trips_and_hides_its_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = Config {
            server: Some("http://127.0.0.1:8420".into()),
            token: Some(SecretString::new("sgu_abc")),
            org: Some("org_1".into()),
            email: None,
        };
        std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
        let read = Config::load_from(&path).unwrap();
        assert_eq!(
            read.token.as_ref().map(SecretString::expose),
            Some("sgu_abc")
        );
        assert!(!format!("{read:?}").contains("sgu_abc"));
    }

    #[test]
    fn a_broken_config_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, b"{ not json").unwrap();
        let err = Config::load_from(&path).unwrap_err().to_string();
        assert!(err.contains("is not a signet config (line 1"), "{err}");
    }
}
