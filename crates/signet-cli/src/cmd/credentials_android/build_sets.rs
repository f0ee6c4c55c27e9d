//! Build credential sets: create (with a keystore generated here and uploaded, or one on
//! the server), make default, rename, swap the keystore, delete.

use anyhow::bail;
use base64::Engine;
use serde::Serialize;
use signet_client::{
    App, AppCredentials, BuildSet, Credential, CredentialId, Metadata, SecretString, Upload,
};
use signet_formats::{
    DistinguishedName, KeyAlgorithm, KeystoreType, Password, Pkcs12Encryption, WriteOptions,
};
use signet_store::validate::KeystoreUpload;
use zeroize::Zeroizing;

use crate::{
    UsageError,
    flags::{AndroidTarget, KeyAlgArg},
    remote::{self, Remote, describe},
};

/// The subject of a generated keystore's certificate unless `--dname` says otherwise (as
/// `signet keystore generate`).
const DEFAULT_DNAME: &str = "CN=Android Upload Key";
/// Days a generated certificate is valid (as `signet keystore generate` and eas-cli).
const VALIDITY_DAYS: u32 = 10_000;

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
    /// A new one, generated here and uploaded.
    Generate(NewKeystore),
}

/// A keystore to generate: what `--alias`, `--dname` and `--key-alg` asked for.
pub struct NewKeystore {
    /// The alias [random when `None`].
    pub alias: Option<String>,
    /// The certificate's subject.
    pub dname: DistinguishedName,
    /// The key algorithm.
    pub algorithm: KeyAlgorithm,
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
        let dname = DistinguishedName::parse(dname.unwrap_or(DEFAULT_DNAME))
            .map_err(|e| UsageError(format!("--dname: {e}")))?;
        let family = match key_alg.unwrap_or(KeyAlgArg::Rsa) {
            KeyAlgArg::Rsa => "rsa",
            KeyAlgArg::Ec => "ec",
        };
        let algorithm = KeyAlgorithm::from_name_and_size(family, None)
            .map_err(|e| UsageError(e.to_string()))?;
        Ok(NewKeystore {
            alias: alias.map(str::to_owned),
            dname,
            algorithm,
        })
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
/// or one generated for it (uploaded, never written to disk or shown: its passwords live
/// on the server). `default` makes it the default even when another one is.
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
        KeystoreSource::Generate(spec) => {
            let upload = generated_upload(&spec, &details.app, &target.application_id, name)?;
            let keystore = remote.block_on(remote.client.upload(&remote.org, &upload))?;
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
                    "the new keystore was uploaded as {id}, but the build set was not created \
                     (retry with --keystore {id})"
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

/// A JKS keystore generated for a build set, as an upload: random store password (the
/// key's too), random alias unless given. Nothing is written to disk.
fn generated_upload(
    spec: &NewKeystore,
    app: &App,
    application_id: &str,
    set: &str,
) -> anyhow::Result<Upload> {
    let alias = match &spec.alias {
        Some(a) => a.clone(),
        None => signet_formats::random_hex32()?,
    };
    let password = Password::generate()?;
    let entry =
        signet_formats::generate::key_entry(&alias, spec.algorithm, &spec.dname, VALIDITY_DAYS)?;
    let options = WriteOptions {
        kind: KeystoreType::Jks,
        store_password: password.clone(),
        key_password: None,
        pkcs12_encryption: Pkcs12Encryption::Modern,
    };
    let bytes = Zeroizing::new(signet_formats::write(
        std::slice::from_ref(&entry),
        &[],
        &options,
    )?);
    Ok(Upload::AndroidKeystore(KeystoreUpload {
        name: Some(format!("{} {application_id} {set}", app.slug)),
        keystore: SecretString::new(base64::engine::general_purpose::STANDARD.encode(&*bytes)),
        store_password: SecretString::new(password.expose()),
        // JKS keeps aliases in lower case.
        key_alias: Some(alias.to_lowercase()),
        key_password: None,
    }))
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
