//! Build credential sets: create (with a keystore generated on the server, or one there
//! already), make default, rename, swap the keystore, delete.

use anyhow::bail;
use serde::Serialize;
use signet_client::{AppCredentials, BuildSet, Credential, CredentialId, KeystoreSpec, Metadata};
use signet_formats::{DistinguishedName, KeyAlgorithm};

use crate::{
    UsageError,
    flags::{AndroidTarget, KeyAlgArg},
    remote::{self, Remote, describe},
};

/// The app, and the named set of the application id (its version is the one sent as
/// If-Match).
fn find_set(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
) -> anyhow::Result<(AppCredentials, BuildSet)> {
    let details = describe::app(remote, &target.app)?;
    let found = details
        .build_sets
        .iter()
        .find(|s| s.application_id == target.application_id && s.name == name)
        .cloned();
    match found {
        Some(set) => Ok((details, set)),
        None => {
            let mut names: Vec<&str> = details
                .build_sets
                .iter()
                .filter(|s| s.application_id == target.application_id)
                .map(|s| s.name.as_str())
                .collect();
            names.sort_unstable();
            if names.is_empty() {
                bail!(
                    "{} of app {} has no build sets yet",
                    target.application_id,
                    details.app.slug
                );
            }
            bail!(
                "no build set `{name}` for {} of app {}; it has: {}",
                target.application_id,
                details.app.slug,
                names.join(", ")
            )
        }
    }
}

/// Where a new build set's keystore comes from.
pub enum KeystoreSource {
    /// A keystore already on the server.
    Existing(CredentialId),
    /// A new one, generated on the server (the key never reaches this machine).
    Generate(NewKeystore),
}

/// A keystore to generate: what `--alias`, `--dname` and `--key-alg` asked for, checked
/// here so that a typo is a usage error before anything is sent; the server generates it.
pub struct NewKeystore {
    /// The alias [random when `None`].
    pub alias: Option<String>,
    /// The certificate's subject in keytool's syntax [the server's default when `None`].
    pub dname: Option<String>,
    /// `rsa` or `ec`.
    pub key_alg: &'static str,
}

impl NewKeystore {
    /// Checks the flags of `--generate` before anything is done.
    pub fn from_flags(
        alias: Option<&str>,
        dname: Option<&str>,
        key_alg: Option<KeyAlgArg>,
    ) -> anyhow::Result<NewKeystore> {
        if alias == Some("") {
            bail!(UsageError("--alias cannot be empty".into()));
        }
        DistinguishedName::parse(dname.unwrap_or(signet_store::DEFAULT_DNAME))
            .map_err(|e| UsageError(format!("--dname: {e}")))?;
        let family = match key_alg.unwrap_or(KeyAlgArg::Rsa) {
            KeyAlgArg::Rsa => "rsa",
            KeyAlgArg::Ec => "ec",
        };
        KeyAlgorithm::from_name_and_size(family, None).map_err(|e| UsageError(e.to_string()))?;
        Ok(NewKeystore {
            alias: alias.map(str::to_owned),
            dname: dname.map(str::to_owned),
            key_alg: family,
        })
    }

    /// What the server is asked to generate, named after the app, application id and set.
    pub fn spec(&self, name: String) -> KeystoreSpec {
        KeystoreSpec {
            name: Some(name),
            alias: self.alias.clone(),
            dname: self.dname.clone(),
            key_alg: Some(self.key_alg.to_owned()),
            ..KeystoreSpec::default()
        }
    }
}

/// A build set just made, and its keystore.
#[derive(Debug, Serialize)]
pub struct Created {
    /// The set.
    pub build_set: BuildSet,
    /// Its keystore (generated, or the one named; `None` when the caller may not read
    /// credentials' records).
    pub keystore: Option<Credential>,
    /// Whether the keystore was generated for it.
    pub generated: bool,
}

/// Creates build set `name` of the target's application id, with a keystore on the server
/// or one the server generates for it (its key and passwords never reach this machine; an
/// admin can export them). `default` makes it the default even when another one is.
pub fn create(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    source: KeystoreSource,
    default: bool,
) -> anyhow::Result<Created> {
    let details = describe::app(remote, &target.app)?;
    if let Some(existing) = details
        .build_sets
        .iter()
        .find(|s| s.application_id == target.application_id && s.name == name)
    {
        bail!(
            "{} already has a build set `{name}` (keystore {}); change its keystore with \
             `signet credentials android build-set swap`",
            target.application_id,
            existing.keystore_id
        );
    }
    let (keystore, generated) = match source {
        KeystoreSource::Existing(id) => (read_keystore(remote, &id)?, false),
        KeystoreSource::Generate(new) => {
            let spec = new.spec(format!(
                "{} {} {name}",
                details.app.slug, target.application_id
            ));
            let keystore = remote.block_on(remote.client.generate_keystore(&remote.org, &spec))?;
            (Known::Read(Box::new(keystore)), true)
        }
    };
    let id = keystore.id().clone();
    let set = remote
        .block_on(remote.client.put_build_set(
            &remote.org,
            details.app.id.as_str(),
            &target.application_id,
            name,
            &id,
            default,
            None,
        ))
        .map_err(|e| {
            let err = anyhow::Error::new(e);
            if generated {
                err.context(format!(
                    "the new keystore was generated on the server as {id}, but the build set \
                     was not created (retry with --keystore {id})"
                ))
            } else {
                err
            }
        })?;
    Ok(Created {
        build_set: set,
        keystore: keystore.record(),
        generated,
    })
}

/// A keystore named by id: its record, or only its id when the caller may not read
/// credentials' records (a robot limited to apps; the server still checks the type).
enum Known {
    Read(Box<Credential>),
    Hidden(CredentialId),
}

impl Known {
    fn id(&self) -> &CredentialId {
        match self {
            Known::Read(c) => &c.id,
            Known::Hidden(id) => id,
        }
    }

    fn record(self) -> Option<Credential> {
        match self {
            Known::Read(c) => Some(*c),
            Known::Hidden(_) => None,
        }
    }

    /// `cred_… (RSA 2048, SHA-256 …)`, or the id alone.
    fn describe(&self) -> String {
        match self {
            Known::Read(c) => format!("{} ({})", c.id, describe::summary(c)),
            Known::Hidden(id) => id.to_string(),
        }
    }
}

/// Reads keystore `id`, refusing another type of credential, or one there is none of.
fn read_keystore(remote: &Remote, id: &CredentialId) -> anyhow::Result<Known> {
    let records = describe::credentials(remote, [id])?;
    match records.get(id) {
        Some(c) if !matches!(c.metadata, Metadata::AndroidKeystore(_)) => bail!(
            "credential {id} is a {}, not an android-keystore",
            c.kind.name()
        ),
        Some(c) => Ok(Known::Read(Box::new(c))),
        None if records.hidden => Ok(Known::Hidden(id.clone())),
        None => bail!("no credential {id} in this organization (deleted, or never there)"),
    }
}

/// Makes build set `name` the default of its application id.
pub fn make_default(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
) -> anyhow::Result<BuildSet> {
    let (details, _) = find_set(remote, target, name)?;
    Ok(remote.block_on(remote.client.make_default(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
    ))?)
}

/// Renames build set `name` (If-Match on the version read).
pub fn rename(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    new_name: &str,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    Ok(remote.block_on(remote.client.rename_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
        new_name,
        set.version,
    ))?)
}

/// Makes build set `name` sign with `keystore`: shows which key builds change to (and
/// what that means on Google Play), asks, then swaps under the version read.
pub fn swap(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    keystore: &CredentialId,
    yes: bool,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    if &set.keystore_id == keystore {
        bail!(
            "build set `{name}` of {} already signs with keystore {keystore}",
            set.application_id
        );
    }
    let new = read_keystore(remote, keystore)?;
    let old = describe::credentials(remote, [&set.keystore_id])?;
    let old_desc = old.get(&set.keystore_id).map_or_else(
        || old.missing(&set.keystore_id),
        |o| format!("{} ({})", o.id, describe::summary(&o)),
    );
    let sha256 = |c: &Credential| match &c.metadata {
        Metadata::AndroidKeystore(m) => Some(m.certificate.sha256.clone()),
        _ => None,
    };
    let same_key = match (&new, old.get(&set.keystore_id)) {
        (Known::Read(n), Some(o)) => sha256(n).is_some() && sha256(n) == sha256(&o),
        _ => false,
    };
    let default = if set.is_default { " (the default)" } else { "" };
    eprintln!(
        "Build set `{name}`{default} of {} signs with keystore {old_desc}.\n\
         After the swap, its builds sign with keystore {}.",
        set.application_id,
        new.describe()
    );
    if same_key {
        eprintln!("Both hold the same certificate: the signing key does not change.");
    } else {
        eprintln!(
            "This changes the signing key. If {app} is on Google Play, Play rejects updates \
             signed with an upload key it does not know until you reset the upload key in Play \
             Console (Setup > App integrity), with the new key's certificate (`signet keystore \
             upload-cert`). Without Play App Signing the key cannot change at all: the app \
             could never be updated.",
            app = set.application_id
        );
        remote::confirm(
            &format!(
                "Swap the keystore of build set `{name}` of {}",
                set.application_id
            ),
            yes,
        )?;
    }
    Ok(remote.block_on(remote.client.put_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
        keystore,
        false,
        Some(set.version),
    ))?)
}

/// Deletes build set `name` after showing what stops and asking; the keystore stays.
pub fn delete(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    yes: bool,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    let default = if set.is_default {
        format!(
            "; it is the default, so builds of {} that name no set get no credentials",
            set.application_id
        )
    } else {
        String::new()
    };
    eprintln!(
        "Builds of {} that name build set `{name}` will fail{default}. Keystore {} stays on \
         the server.",
        set.application_id, set.keystore_id
    );
    remote::confirm(
        &format!("Delete build set `{name}` of {}", set.application_id),
        yes,
    )?;
    remote.block_on(remote.client.delete_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
    ))?;
    Ok(set)
}
