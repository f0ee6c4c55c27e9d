//! Keystores: the files Android signing keys live in.
//!
//! [`Keystore::open`] detects the type by content ([`detect`]), never by file name: JKS
//! starts with `FEEDFEED`, JCEKS with `CECECECE` (refused with a conversion hint), PKCS#12
//! is a DER `SEQUENCE` whose first element is `INTEGER 3`. Private keys stay sealed until
//! [`Keystore::unlock`] is given the key password, so listing a keystore never needs one.
//! [`write`] produces either type from [`KeyEntry`] and [`TrustedEntry`] values; a keystore
//! that was read can also be edited and written back ([`edit`]).

mod edit;
mod jks;
mod pkcs12;

use time::OffsetDateTime;

pub use pkcs12::Pkcs12Encryption;

use crate::{FormatError, Password, PrivateKey, Result, x509::Certificate};

/// The two keystore types signet reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeystoreType {
    /// Java KeyStore (`FEEDFEED`).
    Jks,
    /// PKCS#12 / PFX.
    Pkcs12,
}

impl KeystoreType {
    /// The name keytool uses for `-storetype`.
    pub fn keytool_name(self) -> &'static str {
        match self {
            KeystoreType::Jks => "JKS",
            KeystoreType::Pkcs12 => "PKCS12",
        }
    }
}

/// Detects the keystore type from the first bytes of a file.
pub fn detect(bytes: &[u8]) -> Result<KeystoreType> {
    if bytes.is_empty() {
        return Err(FormatError::Empty);
    }
    match bytes.get(..4) {
        Some(m) if m == jks::MAGIC.to_be_bytes() => return Ok(KeystoreType::Jks),
        Some(m) if m == jks::JCEKS_MAGIC.to_be_bytes() => {
            return Err(FormatError::UnsupportedJceks);
        }
        _ => {}
    }
    if pkcs12::looks_like_pfx(bytes) {
        return Ok(KeystoreType::Pkcs12);
    }
    if bytes.len() < 4 && jks::MAGIC.to_be_bytes().starts_with(bytes) {
        return Err(FormatError::Truncated { what: "JKS header" });
    }
    Err(FormatError::NotAKeystore)
}

/// One entry of a keystore as listed, its private key (if any) still sealed.
#[derive(Debug, Clone)]
pub struct Entry {
    alias: String,
    created: Option<OffsetDateTime>,
    kind: EntryKind,
}

#[derive(Debug, Clone)]
pub(crate) enum EntryKind {
    PrivateKey {
        chain: Vec<Certificate>,
        sealed: SealedKey,
    },
    TrustedCertificate(Box<Certificate>),
}

/// A private key as stored: JKS keys are decrypted per entry with the key password; PKCS#12
/// keys are decrypted with the store password while the file is read.
#[derive(Clone)]
pub(crate) enum SealedKey {
    Jks(Vec<u8>),
    Pkcs8(zeroize::Zeroizing<Vec<u8>>),
}

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedKey([redacted])")
    }
}

impl Entry {
    /// The entry's alias.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// When the entry was created, where the format records it (JKS does, PKCS#12 does not).
    pub fn created(&self) -> Option<OffsetDateTime> {
        self.created
    }

    /// Whether this is a private key entry (as opposed to a trusted certificate).
    pub fn is_private_key(&self) -> bool {
        matches!(self.kind, EntryKind::PrivateKey { .. })
    }

    /// The certificate chain, leaf first; one certificate for a trusted certificate entry.
    pub fn certificates(&self) -> &[Certificate] {
        match &self.kind {
            EntryKind::PrivateKey { chain, .. } => chain,
            EntryKind::TrustedCertificate(c) => std::slice::from_ref(c),
        }
    }
}

/// A keystore read from bytes.
#[derive(Debug, Clone)]
pub struct Keystore {
    kind: KeystoreType,
    entries: Vec<Entry>,
    integrity_checked: bool,
    secret_entries: usize,
    /// PKCS#12: the algorithms [`Keystore::to_bytes`] writes with, those of the file read.
    pkcs12_encryption: Pkcs12Encryption,
}

impl Keystore {
    /// Reads a keystore of either type.
    ///
    /// A PKCS#12 file needs `store_password`. A JKS file can be listed without one (its
    /// integrity is then unchecked, see [`Keystore::integrity_checked`]); with one, a wrong
    /// password is [`FormatError::WrongStorePassword`].
    pub fn open(bytes: &[u8], store_password: Option<&Password>) -> Result<Keystore> {
        let kind = detect(bytes)?;
        let (entries, integrity_checked, secret_entries, pkcs12_encryption) = match kind {
            KeystoreType::Jks => {
                let parsed = jks::parse(bytes, store_password)?;
                (
                    parsed.entries,
                    parsed.integrity_checked,
                    0,
                    Pkcs12Encryption::default(),
                )
            }
            KeystoreType::Pkcs12 => {
                let password = store_password.ok_or(FormatError::StorePasswordRequired)?;
                let parsed = pkcs12::parse(bytes, password)?;
                (
                    parsed.entries,
                    parsed.has_mac,
                    parsed.secret_entries,
                    parsed.encryption,
                )
            }
        };
        Ok(Keystore {
            kind,
            entries,
            integrity_checked,
            secret_entries,
            pkcs12_encryption,
        })
    }

    /// The keystore's type.
    pub fn kind(&self) -> KeystoreType {
        self.kind
    }

    /// Every entry, in file order (JKS) or alias order (PKCS#12).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether the store password was checked against the file's integrity digest or MAC
    /// (false for a JKS listed without password, and for a PKCS#12 file without a MAC).
    pub fn integrity_checked(&self) -> bool {
        self.integrity_checked
    }

    /// PKCS#12 secret-key entries, which signet neither lists nor converts.
    pub fn secret_entries(&self) -> usize {
        self.secret_entries
    }

    /// Every alias, in entry order.
    pub fn aliases(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.alias.clone()).collect()
    }

    /// The entry named `alias`, of either kind: matched exactly, then ignoring ASCII case
    /// as Java does. A missing alias is an error listing the aliases there are.
    pub fn entry(&self, alias: &str) -> Result<&Entry> {
        self.entries
            .iter()
            .find(|e| e.alias == alias)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.alias.eq_ignore_ascii_case(alias))
            })
            .ok_or_else(|| FormatError::AliasNotFound {
                alias: alias.to_owned(),
                available: self.aliases(),
            })
    }

    /// Finds the private key entry to use: the one named `alias` (matched exactly, then
    /// ignoring ASCII case as Java does), or the only private key entry when `alias` is
    /// `None`. Trusted certificate entries are never chosen.
    pub fn key_entry(&self, alias: Option<&str>) -> Result<&Entry> {
        let entry = match alias {
            Some(alias) => self.entry(alias)?,
            None => {
                let mut keys = self.entries.iter().filter(|e| e.is_private_key());
                match (keys.next(), keys.next()) {
                    (Some(only), None) => only,
                    (None, _) => return Err(FormatError::NoKeyEntry),
                    (Some(_), Some(_)) => {
                        return Err(FormatError::AmbiguousAlias {
                            available: self
                                .entries
                                .iter()
                                .filter(|e| e.is_private_key())
                                .map(|e| e.alias.clone())
                                .collect(),
                        });
                    }
                }
            }
        };
        if !entry.is_private_key() {
            return Err(FormatError::NotAKeyEntry {
                alias: entry.alias.clone(),
            });
        }
        Ok(entry)
    }

    /// Decrypts the private key of the entry [`Keystore::key_entry`] picks. For JKS the key
    /// password is needed (keytool's default is the store password); PKCS#12 keys were
    /// decrypted with the store password when the file was opened, and `key_password` is
    /// ignored.
    pub fn unlock(&self, alias: Option<&str>, key_password: &Password) -> Result<KeyEntry> {
        let entry = self.key_entry(alias)?;
        let EntryKind::PrivateKey { chain, sealed } = &entry.kind else {
            return Err(FormatError::NotAKeyEntry {
                alias: entry.alias.clone(),
            });
        };
        let key = match sealed {
            SealedKey::Jks(bytes) => jks::unprotect(bytes, key_password, &entry.alias)?,
            SealedKey::Pkcs8(der) => PrivateKey::from_pkcs8_der(der)?,
        };
        if let Some(leaf) = chain.first() {
            if !key.matches(leaf)? {
                return Err(FormatError::BadPrivateKey(format!(
                    "the key of alias `{}` does not match its certificate",
                    entry.alias
                )));
            }
        }
        Ok(KeyEntry {
            alias: entry.alias.clone(),
            created: entry.created,
            key,
            chain: chain.clone(),
        })
    }

    /// The trusted certificate entries, as values [`write`] accepts.
    pub fn trusted_entries(&self) -> Vec<TrustedEntry> {
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::TrustedCertificate(c) => Some(TrustedEntry {
                    alias: e.alias.clone(),
                    created: e.created,
                    certificate: (**c).clone(),
                }),
                EntryKind::PrivateKey { .. } => None,
            })
            .collect()
    }
}

/// A private key with its certificate chain (leaf first), ready to use or to write.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The alias.
    pub alias: String,
    /// Creation time to record (JKS); `None` means now.
    pub created: Option<OffsetDateTime>,
    /// The private key.
    pub key: PrivateKey,
    /// The certificate chain, leaf first.
    pub chain: Vec<Certificate>,
}

/// A trusted certificate entry to write.
#[derive(Debug, Clone)]
pub struct TrustedEntry {
    /// The alias.
    pub alias: String,
    /// Creation time to record (JKS); `None` means now.
    pub created: Option<OffsetDateTime>,
    /// The certificate.
    pub certificate: Certificate,
}

/// How to write a keystore.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The type to write.
    pub kind: KeystoreType,
    /// The store password (for PKCS#12 also the key password).
    pub store_password: Password,
    /// JKS only: the password protecting each private key; the store password when `None`.
    pub key_password: Option<Password>,
    /// PKCS#12 only: the encryption and MAC algorithms.
    pub pkcs12_encryption: Pkcs12Encryption,
}

/// Serializes entries as a keystore file.
pub fn write(
    keys: &[KeyEntry],
    trusted: &[TrustedEntry],
    options: &WriteOptions,
) -> Result<Vec<u8>> {
    for e in keys
        .iter()
        .map(|k| &k.alias)
        .chain(trusted.iter().map(|t| &t.alias))
    {
        if e.is_empty() {
            return Err(FormatError::InvalidParameter(
                "an alias cannot be empty".into(),
            ));
        }
    }
    match options.kind {
        KeystoreType::Jks => jks::write(
            keys,
            trusted,
            &options.store_password,
            options
                .key_password
                .as_ref()
                .unwrap_or(&options.store_password),
        ),
        KeystoreType::Pkcs12 => {
            if options
                .key_password
                .as_ref()
                .is_some_and(|k| k != &options.store_password)
            {
                return Err(FormatError::InvalidParameter(
                    "a PKCS#12 keystore has one password: the key password must equal the store password"
                        .into(),
                ));
            }
            pkcs12::write(
                keys,
                trusted,
                &options.store_password,
                options.pkcs12_encryption,
            )
        }
    }
}
