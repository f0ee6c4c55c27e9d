//! PKCS#12 (RFC 7292), the default keystore type of keytool since Java 9 and the `.p12`
//! Apple's Keychain exports.
//!
//! ```text
//! PFX ::= SEQUENCE {
//!     version   INTEGER {v3(3)}(v3,...),
//!     authSafe  ContentInfo,
//!     macData   MacData OPTIONAL
//! }
//! ```
//!
//! The bag-level work (PBES2 / PBES1 decryption, the PKCS#12 MAC) is delegated to the
//! `p12-keystore` crate; this module maps its model onto signet's [`Keystore`] and chooses
//! the algorithms signet writes:
//!
//! - [`Pkcs12Encryption::Modern`]: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for keys and
//!   certificates and an HMAC-SHA256 MAC, 10,000 iterations each: what keytool writes since
//!   Java 12 (JDK-8076190).
//! - [`Pkcs12Encryption::Legacy`]: pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC,
//!   2,048 iterations: what macOS Keychain Access and older OpenSSL accept.

use p12_keystore::{
    Certificate as P12Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm,
    Pkcs12ImportPolicy, PrivateKey as P12PrivateKey, PrivateKeyChain,
};

use crate::{
    FormatError, Password, Result,
    keystore::{Entry, EntryKind, KeyEntry, SealedKey, TrustedEntry},
    x509::Certificate,
};

/// The password-based encryption and MAC a PKCS#12 file is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pkcs12Encryption {
    /// AES-256-CBC under PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC (keytool's default).
    #[default]
    Modern,
    /// 3DES under the PKCS#12 KDF, HMAC-SHA1 MAC (for macOS Keychain and old OpenSSL).
    Legacy,
}

/// Whether the bytes start like a PFX: `SEQUENCE { INTEGER 3, SEQUENCE …`.
pub(crate) fn looks_like_pfx(bytes: &[u8]) -> bool {
    let Some(rest) = skip_der_header(bytes, 0x30) else {
        return false;
    };
    rest.starts_with(&[0x02, 0x01, 0x03]) && rest.get(3) == Some(&0x30)
}

/// Returns what follows a DER tag + length header when the tag matches.
fn skip_der_header(bytes: &[u8], tag: u8) -> Option<&[u8]> {
    if *bytes.first()? != tag {
        return None;
    }
    let len = *bytes.get(1)?;
    let header = match len {
        // Short form, or BER's indefinite length (0x80), as some encoders write PFX.
        0..=0x80 => 2,
        0x81..=0x84 => 2 + usize::from(len & 0x7f),
        _ => return None,
    };
    bytes.get(header..)
}

/// `PFX ::= SEQUENCE { version INTEGER, authSafe ContentInfo, macData MacData OPTIONAL }`,
/// read only to learn whether the file carries a MAC.
#[derive(der::Sequence)]
struct PfxOutline {
    version: der::Any,
    auth_safe: der::Any,
    mac_data: Option<der::Any>,
}

/// The entries of a PKCS#12 file, and what could not be carried.
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    /// Whether a MAC covered the contents (without one, any password "opens" the file).
    pub has_mac: bool,
    /// Secret-key entries, which signet lists nowhere and cannot convert.
    pub secret_entries: usize,
}

pub(crate) fn parse(bytes: &[u8], password: &Password) -> Result<Parsed> {
    use der::Decode as _;
    let outline = PfxOutline::from_der(bytes).map_err(|e| {
        if matches!(e.kind(), der::ErrorKind::Incomplete { .. }) {
            FormatError::Truncated {
                what: "PKCS#12 structure",
            }
        } else {
            FormatError::Malformed {
                what: "PKCS#12 structure",
                detail: e.to_string(),
            }
        }
    })?;
    let _ = (&outline.version, &outline.auth_safe);
    let store = KeyStore::from_pkcs12(bytes, password.expose(), Pkcs12ImportPolicy::Strict)
        .map_err(map_error)?;
    let mut secret_entries = 0;
    let mut entries = Vec::with_capacity(store.entries_len());
    for (alias, entry) in store.entries() {
        let kind = match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => {
                // Kept as bytes: a key type signet cannot use must not stop the listing.
                let key = zeroize::Zeroizing::new(chain.key().as_der().to_vec());
                let chain = chain
                    .certs()
                    .iter()
                    .map(|c| Certificate::from_der(c.as_der()))
                    .collect::<Result<Vec<_>>>()?;
                EntryKind::PrivateKey {
                    chain,
                    sealed: SealedKey::Pkcs8(key),
                }
            }
            KeyStoreEntry::Certificate(cert) => {
                EntryKind::TrustedCertificate(Box::new(Certificate::from_der(cert.as_der())?))
            }
            // Secret-key entries hold no signing material; they are counted, not listed.
            KeyStoreEntry::Secret(_) => {
                secret_entries += 1;
                continue;
            }
        };
        entries.push(Entry {
            alias: alias.clone(),
            created: None,
            kind,
        });
    }
    Ok(Parsed {
        entries,
        has_mac: outline.mac_data.is_some(),
        secret_entries,
    })
}

pub(crate) fn write(
    keys: &[KeyEntry],
    trusted: &[TrustedEntry],
    password: &Password,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>> {
    let mut store = KeyStore::new();
    for key in keys {
        let leaf = key.chain.first().ok_or_else(|| {
            FormatError::InvalidParameter(format!("alias `{}` has no certificate", key.alias))
        })?;
        // Like OpenSSL, identify the key by its certificate's SHA-1.
        let local_key_id = leaf.fingerprints().sha1_raw.to_vec();
        let p12_key = P12PrivateKey::from_der(key.key.pkcs8_der()).map_err(map_error)?;
        let certs = key
            .chain
            .iter()
            .map(|c| P12Certificate::from_der(c.der()).map_err(map_error))
            .collect::<Result<Vec<_>>>()?;
        let chain = PrivateKeyChain::new(local_key_id, p12_key, certs);
        store.add_entry(&key.alias, KeyStoreEntry::PrivateKeyChain(chain));
    }
    for entry in trusted {
        let cert = P12Certificate::from_der(entry.certificate.der()).map_err(map_error)?;
        store.add_entry(&entry.alias, KeyStoreEntry::Certificate(cert));
    }
    let writer = store.writer(password.expose());
    let writer = match encryption {
        Pkcs12Encryption::Modern => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .encryption_iterations(10_000)
            .mac_algorithm(MacAlgorithm::HmacSha256)
            .mac_iterations(10_000),
        Pkcs12Encryption::Legacy => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .encryption_iterations(2048)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .mac_iterations(2048),
    };
    writer.write().map_err(map_error)
}

fn map_error(e: p12_keystore::error::Error) -> FormatError {
    use p12_keystore::error::Error as E;
    match e {
        // A wrong password on a file without a MAC surfaces as bad padding.
        E::MacError(_) | E::UnpadError => FormatError::WrongStorePassword,
        E::UnsupportedEncryptionScheme => {
            FormatError::UnsupportedAlgorithm("PKCS#12 encryption scheme".into())
        }
        E::UnsupportedMacAlgorithm => FormatError::UnsupportedAlgorithm("PKCS#12 MAC".into()),
        E::InvalidPrivateKey => FormatError::BadPrivateKey("in PKCS#12 key bag".into()),
        E::DerError(d) => {
            if matches!(d.kind(), der::ErrorKind::Incomplete { .. }) {
                FormatError::Truncated {
                    what: "PKCS#12 structure",
                }
            } else {
                FormatError::Malformed {
                    what: "PKCS#12 structure",
                    detail: d.to_string(),
                }
            }
        }
        other => FormatError::Malformed {
            what: "PKCS#12 structure",
            detail: other.to_string(),
        },
    }
}
