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
//! Reading (PBES2 / PBES1 decryption, the PKCS#12 MAC, linking keys to certificates) is
//! delegated to the `p12-keystore` crate, whose model this module maps onto signet's
//! [`Keystore`]. Writing is done here, on RustCrypto's `pkcs12`/`cms`/`pkcs5` types, so
//! that the bags are named as keytool names them (see [`write`]); the algorithms are:
//!
//! - [`Pkcs12Encryption::Modern`]: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for keys and
//!   certificates and an HMAC-SHA256 MAC, 10,000 iterations each: what keytool writes since
//!   Java 12 (JDK-8076190).
//! - [`Pkcs12Encryption::Legacy`]: pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC,
//!   2,048 iterations: what macOS Keychain Access and older OpenSSL accept.

use der::{
    Any,
    asn1::{BmpString, OctetString, SetOfVec},
};
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use pkcs5::pbes2;
use pkcs12::{
    AuthenticatedSafe, CertBag, DigestInfo, MacData, SafeBag,
    cms::{
        cert::x509::{
            attr::{Attribute, Attributes},
            spki::AlgorithmIdentifierOwned,
        },
        content_info::{CmsVersion, ContentInfo},
        encrypted_data::EncryptedData,
        enveloped_data::EncryptedContentInfo,
    },
    kdf,
    pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams},
    pfx::{Pfx, Version},
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
    /// The algorithms to write the file back with: legacy when its MAC is HMAC-SHA1 (what
    /// OpenSSL's legacy mode and macOS Keychain write), else modern.
    pub encryption: Pkcs12Encryption,
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
    let legacy_mac = outline
        .mac_data
        .as_ref()
        .and_then(|m| m.decode_as::<MacData>().ok())
        .is_some_and(|m| m.mac.algorithm.oid == oid::SHA1);
    Ok(Parsed {
        entries,
        has_mac: outline.mac_data.is_some(),
        secret_entries,
        encryption: if legacy_mac {
            Pkcs12Encryption::Legacy
        } else {
            Pkcs12Encryption::Modern
        },
    })
}

/// PBKDF2 / PKCS#12-KDF iterations and salt length of [`Pkcs12Encryption::Modern`]
/// (keytool's `keystore.pkcs12.*IterationCount` defaults; keytool's salts are 20 bytes).
const MODERN_ITERATIONS: i32 = 10_000;
/// Iterations of [`Pkcs12Encryption::Legacy`] (OpenSSL's `PKCS12_DEFAULT_ITER`).
const LEGACY_ITERATIONS: i32 = 2048;
const SALT_LEN: usize = 20;

/// The object identifiers a PKCS#12 file is written with.
mod oid {
    use der::oid::ObjectIdentifier as Oid;

    /// PKCS#7 `data` and `encryptedData` content types.
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
    /// RFC 7292 §4.2 bag types.
    pub const SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
    pub const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
    pub const X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
    /// PKCS#9 bag attributes.
    pub const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
    pub const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");
    /// Oracle's attribute marking a trusted certificate entry, valued anyExtendedKeyUsage.
    pub const TRUSTED_KEY_USAGE: Oid = Oid::new_unwrap("2.16.840.1.113894.746875.1.1");
    pub const ANY_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37.0");
    /// Encryption: PBES2 (RFC 8018) and pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 App. C).
    pub const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
    pub const PBE_SHA1_3DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");
    /// MAC digests.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
}

/// Writes a PFX laid out as keytool lays it out, which every reader signet is tested
/// against (keytool, OpenSSL, node-forge) understands:
///
/// - an `encryptedData` safe of certificate bags: each key's certificate named by the
///   entry's alias and carrying the key's localKeyID (what node-forge, and so eas-cli, looks
///   a key's certificate up by), the rest of its chain named by subject, then each trusted
///   certificate named by its alias with Oracle's trusted-key-usage attribute;
/// - a `data` safe of shrouded key bags, each named by its alias with its localKeyID;
/// - a MAC over both.
///
/// p12-keystore, which reads PKCS#12 here, cannot write this: its writer names every
/// chain certificate by its subject, the key's own included.
pub(crate) fn write(
    keys: &[KeyEntry],
    trusted: &[TrustedEntry],
    password: &Password,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>> {
    let keys: Vec<KeyBag<'_>> = keys
        .iter()
        .map(|k| KeyBag {
            alias: &k.alias,
            pkcs8: k.key.pkcs8_der(),
            chain: &k.chain,
        })
        .collect();
    let trusted: Vec<(&str, &Certificate)> = trusted
        .iter()
        .map(|t| (t.alias.as_str(), &t.certificate))
        .collect();
    write_bags(&keys, &trusted, password, encryption)
}

/// A private key entry as [`write_bags`] takes it: the key as PKCS#8 DER, whatever its
/// algorithm, so that an edited file keeps keys signet itself cannot sign with.
pub(crate) struct KeyBag<'a> {
    pub alias: &'a str,
    pub pkcs8: &'a [u8],
    pub chain: &'a [Certificate],
}

/// [`write`] on borrowed parts: key entries and (alias, certificate) trusted entries.
pub(crate) fn write_bags(
    keys: &[KeyBag<'_>],
    trusted: &[(&str, &Certificate)],
    password: &Password,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>> {
    use der::Encode as _;
    let password = password.expose();
    refuse_duplicate_aliases(
        keys.iter()
            .map(|k| k.alias)
            .chain(trusted.iter().map(|t| t.0)),
    )?;

    let mut cert_bags = Vec::new();
    let mut key_bags = Vec::with_capacity(keys.len());
    for key in keys {
        let leaf = key.chain.first().ok_or_else(|| {
            FormatError::InvalidParameter(format!("alias `{}` has no certificate", key.alias))
        })?;
        // Like OpenSSL, identify the key by its certificate's SHA-1.
        let local_key_id = leaf.fingerprints().sha1_raw;
        let name = alias_name(key.alias)?;
        cert_bags.push(cert_bag(leaf, Some(&name), Some(&local_key_id), false).map_err(encoding)?);
        for cert in key.chain.iter().skip(1) {
            // keytool names them by subject; a subject outside the BMP goes unnamed.
            let subject = BmpString::from_utf8(&cert.info().subject).ok();
            cert_bags.push(cert_bag(cert, subject.as_ref(), None, false).map_err(encoding)?);
        }
        let (algorithm, encrypted) = encrypt(encryption, password, key.pkcs8)?;
        key_bags
            .push(shrouded_key_bag(algorithm, encrypted, &name, &local_key_id).map_err(encoding)?);
    }
    for (alias, certificate) in trusted {
        let name = alias_name(alias)?;
        cert_bags.push(cert_bag(certificate, Some(&name), None, true).map_err(encoding)?);
    }

    let mut safes: AuthenticatedSafe<'_> = Vec::with_capacity(2);
    if !cert_bags.is_empty() {
        let plaintext = cert_bags.to_der().map_err(encoding)?;
        let (algorithm, encrypted) = encrypt(encryption, password, &plaintext)?;
        safes.push(encrypted_safe(algorithm, encrypted).map_err(encoding)?);
    }
    if !key_bags.is_empty() {
        safes.push(data_safe(&key_bags.to_der().map_err(encoding)?).map_err(encoding)?);
    }
    let auth_safe = safes.to_der().map_err(encoding)?;
    let mac_data = mac(encryption, password, &auth_safe)?;
    pfx(&auth_safe, mac_data).map_err(encoding)
}

/// Two entries under one alias would be one entry to a reader (keytool, which compares
/// PKCS#12 aliases lower-cased, even when they differ in case only).
fn refuse_duplicate_aliases<'a>(aliases: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for alias in aliases {
        if !seen.insert(alias.to_lowercase()) {
            return Err(FormatError::InvalidParameter(format!(
                "alias `{alias}` names two entries"
            )));
        }
    }
    Ok(())
}

/// An alias as a friendlyName, which is a BMPString.
fn alias_name(alias: &str) -> Result<BmpString> {
    BmpString::from_utf8(alias).map_err(|_| {
        FormatError::InvalidParameter(format!(
            "alias `{alias}` has a character outside the Basic Multilingual Plane, \
             which a PKCS#12 friendlyName cannot hold"
        ))
    })
}

/// `CertBag ::= SEQUENCE { certId x509Certificate, certValue [0] EXPLICIT OCTET STRING }`
/// in a SafeBag.
fn cert_bag(
    cert: &Certificate,
    friendly_name: Option<&BmpString>,
    local_key_id: Option<&[u8]>,
    trusted: bool,
) -> der::Result<SafeBag> {
    use der::Encode as _;
    let bag = CertBag {
        cert_id: oid::X509_CERTIFICATE,
        cert_value: OctetString::new(cert.der())?,
    };
    Ok(SafeBag {
        bag_id: oid::CERT_BAG,
        bag_value: bag.to_der()?,
        bag_attributes: Some(bag_attributes(friendly_name, local_key_id, trusted)?),
    })
}

/// `EncryptedPrivateKeyInfo` (RFC 5208 §6) in a SafeBag of type pkcs8ShroudedKeyBag.
fn shrouded_key_bag(
    algorithm: AlgorithmIdentifierOwned,
    encrypted: Vec<u8>,
    friendly_name: &BmpString,
    local_key_id: &[u8],
) -> der::Result<SafeBag> {
    use der::Encode as _;
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: algorithm,
        encrypted_data: OctetString::new(encrypted)?,
    };
    Ok(SafeBag {
        bag_id: oid::SHROUDED_KEY_BAG,
        bag_value: info.to_der()?,
        bag_attributes: Some(bag_attributes(
            Some(friendly_name),
            Some(local_key_id),
            false,
        )?),
    })
}

/// `bagAttributes SET OF PKCS12Attribute`: friendlyName, localKeyID and Oracle's trusted
/// key usage, each when given.
fn bag_attributes(
    friendly_name: Option<&BmpString>,
    local_key_id: Option<&[u8]>,
    trusted: bool,
) -> der::Result<Attributes> {
    let mut attributes = Attributes::new();
    let mut add = |oid, value: Any| {
        attributes.insert(Attribute {
            oid,
            values: SetOfVec::from_iter([value])?,
        })
    };
    if let Some(name) = friendly_name {
        add(oid::FRIENDLY_NAME, Any::encode_from(name)?)?;
    }
    if let Some(id) = local_key_id {
        add(oid::LOCAL_KEY_ID, Any::encode_from(&OctetString::new(id)?)?)?;
    }
    if trusted {
        add(
            oid::TRUSTED_KEY_USAGE,
            Any::encode_from(&oid::ANY_EXTENDED_KEY_USAGE)?,
        )?;
    }
    Ok(attributes)
}

/// `ContentInfo { encryptedData, EncryptedData { v0, EncryptedContentInfo { data, … } } }`.
fn encrypted_safe(
    algorithm: AlgorithmIdentifierOwned,
    encrypted: Vec<u8>,
) -> der::Result<ContentInfo> {
    let data = EncryptedData {
        version: CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: oid::DATA,
            content_enc_alg: algorithm,
            encrypted_content: Some(OctetString::new(encrypted)?),
        },
        unprotected_attrs: None,
    };
    Ok(ContentInfo {
        content_type: oid::ENCRYPTED_DATA,
        content: Any::encode_from(&data)?,
    })
}

/// `ContentInfo { data, [0] OCTET STRING }` around DER `content`.
fn data_safe(content: &[u8]) -> der::Result<ContentInfo> {
    Ok(ContentInfo {
        content_type: oid::DATA,
        content: Any::encode_from(&OctetString::new(content)?)?,
    })
}

/// `PFX ::= SEQUENCE { version v3, authSafe ContentInfo (data), macData MacData }`.
fn pfx(auth_safe: &[u8], mac_data: MacData) -> der::Result<Vec<u8>> {
    use der::Encode as _;
    Pfx {
        version: Version::V3,
        auth_safe: data_safe(auth_safe)?,
        mac_data: Some(mac_data),
    }
    .to_der()
}

/// Encrypts `plaintext` under the password: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) or
/// pbeWithSHAAnd3-KeyTripleDES-CBC (keys from RFC 7292 Appendix B's KDF).
fn encrypt(
    encryption: Pkcs12Encryption,
    password: &str,
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>)> {
    let salt = random::<SALT_LEN>()?;
    match encryption {
        Pkcs12Encryption::Modern => {
            let iv = random::<16>()?;
            let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                MODERN_ITERATIONS.unsigned_abs(),
                &salt,
                iv,
            )
            .map_err(|_| FormatError::Crypto("PBES2 parameters"))?;
            let ciphertext = params
                .encrypt(password.as_bytes(), plaintext)
                .map_err(|_| FormatError::Crypto("PBES2 encryption"))?;
            let algorithm = AlgorithmIdentifierOwned {
                oid: oid::PBES2,
                parameters: Some(Any::encode_from(&params).map_err(encoding)?),
            };
            Ok((algorithm, ciphertext))
        }
        Pkcs12Encryption::Legacy => {
            use cbc::cipher::{BlockModeEncrypt as _, KeyIvInit as _, block_padding::Pkcs7};
            let derive = |id, len| {
                kdf::derive_key_utf8::<sha1::Sha1>(password, &salt, id, LEGACY_ITERATIONS, len)
                    .map(zeroize::Zeroizing::new)
                    .map_err(|_| password_outside_bmp())
            };
            let key = derive(kdf::Pkcs12KeyType::EncryptionKey, 24)?;
            let iv = derive(kdf::Pkcs12KeyType::Iv, 8)?;
            let cipher = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(|_| FormatError::Crypto("3DES key"))?;
            let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(plaintext);
            let params = Pkcs12PbeParams {
                salt: OctetString::new(salt).map_err(encoding)?,
                iterations: LEGACY_ITERATIONS,
            };
            let algorithm = AlgorithmIdentifierOwned {
                oid: oid::PBE_SHA1_3DES,
                parameters: Some(Any::encode_from(&params).map_err(encoding)?),
            };
            Ok((algorithm, ciphertext))
        }
    }
}

/// `MacData`: an HMAC over the authenticated safe under a key from RFC 7292 Appendix B's
/// KDF; SHA-256 (as keytool writes) or SHA-1.
fn mac(encryption: Pkcs12Encryption, password: &str, auth_safe: &[u8]) -> Result<MacData> {
    use aws_lc_rs::hmac;
    let salt = random::<SALT_LEN>()?;
    let (digest_oid, algorithm, key, iterations) = match encryption {
        Pkcs12Encryption::Modern => (
            oid::SHA256,
            hmac::HMAC_SHA256,
            kdf::derive_key_utf8::<sha2::Sha256>(
                password,
                &salt,
                kdf::Pkcs12KeyType::Mac,
                MODERN_ITERATIONS,
                32,
            ),
            MODERN_ITERATIONS,
        ),
        Pkcs12Encryption::Legacy => (
            oid::SHA1,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            kdf::derive_key_utf8::<sha1::Sha1>(
                password,
                &salt,
                kdf::Pkcs12KeyType::Mac,
                LEGACY_ITERATIONS,
                20,
            ),
            LEGACY_ITERATIONS,
        ),
    };
    let key = zeroize::Zeroizing::new(key.map_err(|_| password_outside_bmp())?);
    let tag = hmac::sign(&hmac::Key::new(algorithm, &key), auth_safe);
    Ok(MacData {
        mac: DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: digest_oid,
                parameters: None,
            },
            digest: OctetString::new(tag.as_ref()).map_err(encoding)?,
        },
        mac_salt: OctetString::new(salt).map_err(encoding)?,
        iterations,
    })
}

/// The PKCS#12 KDF reads the password as a BMPString.
fn password_outside_bmp() -> FormatError {
    FormatError::InvalidParameter(
        "a PKCS#12 password cannot hold a character outside the Basic Multilingual Plane".into(),
    )
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| FormatError::Crypto("random number generator"))?;
    Ok(bytes)
}

/// DER encoding of what is written fails only past DER's length limits.
fn encoding(e: der::Error) -> FormatError {
    FormatError::InvalidParameter(format!("cannot encode the PKCS#12 file: {e}"))
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

#[cfg(test)]
mod tests {
    use p12_keystore::{CertificateBag, Pkcs12Archive};

    use super::*;
    use crate::{Keystore, PrivateKey};

    /// A CA and a key whose certificate it issued.
    fn chain() -> (PrivateKey, Certificate, Certificate) {
        use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let name = |cn: &str| {
            let mut params = CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params.distinguished_name.push(DnType::CountryName, "DE");
            params
                .distinguished_name
                .push(DnType::OrganizationName, "Acme Inc");
            params.distinguished_name.push(DnType::CommonName, cn);
            params
        };
        let ca_pair = KeyPair::generate().unwrap();
        let mut ca_params = name("Test CA");
        ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_pair).unwrap();
        let pair = KeyPair::generate().unwrap();
        let leaf = name("Jane Doe")
            .signed_by(&pair, &Issuer::new(ca_params, &ca_pair))
            .unwrap();
        (
            PrivateKey::from_pkcs8_der(&pair.serialize_der()).unwrap(),
            Certificate::from_der(leaf.der()).unwrap(),
            Certificate::from_der(ca.der()).unwrap(),
        )
    }

    /// `upload` with its chain of two, and its CA as the trusted `root`.
    fn entries() -> (Vec<KeyEntry>, Vec<TrustedEntry>) {
        let (key, leaf, ca) = chain();
        let keys = vec![KeyEntry {
            alias: "upload".into(),
            created: None,
            key,
            chain: vec![leaf, ca.clone()],
        }];
        let trusted = vec![TrustedEntry {
            alias: "root".into(),
            created: None,
            certificate: ca,
        }];
        (keys, trusted)
    }

    /// (friendlyName, localKeyID, trusted, SHA-1) of each certificate bag, in order.
    fn cert_bags(
        archive: &Pkcs12Archive,
    ) -> Vec<(Option<String>, Option<Vec<u8>>, bool, [u8; 20])> {
        archive
            .certs
            .iter()
            .map(|b: &CertificateBag| {
                let sha1 = crate::x509::fingerprints(b.cert.as_der()).sha1_raw;
                (
                    b.friendly_name.clone(),
                    b.local_key_id.clone(),
                    b.trusted,
                    sha1,
                )
            })
            .collect()
    }

    #[test]
    fn bags_are_named_as_keytool_names_them() {
        let (keys, trusted) = entries();
        let leaf_sha1 = keys[0].chain[0].fingerprints().sha1_raw;
        let ca_sha1 = keys[0].chain[1].fingerprints().sha1_raw;
        let password = Password::new("storepw1");
        for encryption in [Pkcs12Encryption::Modern, Pkcs12Encryption::Legacy] {
            let bytes = write(&keys, &trusted, &password, encryption).unwrap();
            let archive = Pkcs12Archive::from_pkcs12(&bytes, "storepw1").unwrap();
            assert_eq!(
                cert_bags(&archive),
                vec![
                    // The key's certificate: the alias, not its subject, and the key's id.
                    (
                        Some("upload".into()),
                        Some(leaf_sha1.to_vec()),
                        false,
                        leaf_sha1
                    ),
                    (
                        Some("CN=Test CA, O=Acme Inc, C=DE".into()),
                        None,
                        false,
                        ca_sha1
                    ),
                    (Some("root".into()), None, true, ca_sha1),
                ],
                "{encryption:?}"
            );
            assert_eq!(archive.keys.len(), 1);
            assert_eq!(archive.keys[0].friendly_name.as_deref(), Some("upload"));
            assert_eq!(
                archive.keys[0].local_key_id.as_ref().map(|k| k.0.clone()),
                Some(leaf_sha1.to_vec())
            );
            assert_eq!(archive.keys[0].key.as_der(), keys[0].key.pkcs8_der());

            // Read back as signet reads keystores: the same entries, the key unlocked.
            let store = Keystore::open(&bytes, Some(&password)).unwrap();
            assert_eq!(store.aliases(), ["root", "upload"]);
            let key = store.unlock(Some("upload"), &password).unwrap();
            assert_eq!(key.chain, keys[0].chain);
            assert_eq!(key.key.pkcs8_der(), keys[0].key.pkcs8_der());
        }
    }

    #[test]
    fn algorithms_are_the_chosen_ones() {
        use der::Decode as _;
        let (keys, trusted) = entries();
        let password = Password::new("storepw1");
        for (encryption, cipher, digest) in [
            (Pkcs12Encryption::Modern, oid::PBES2, oid::SHA256),
            (Pkcs12Encryption::Legacy, oid::PBE_SHA1_3DES, oid::SHA1),
        ] {
            let bytes = write(&keys, &trusted, &password, encryption).unwrap();
            let pfx = Pfx::from_der(&bytes).unwrap();
            let mac = pfx.mac_data.unwrap();
            assert_eq!(mac.mac.algorithm.oid, digest);
            let iterations = match encryption {
                Pkcs12Encryption::Modern => MODERN_ITERATIONS,
                Pkcs12Encryption::Legacy => LEGACY_ITERATIONS,
            };
            assert_eq!(mac.iterations, iterations);
            let safes =
                OctetString::from_der(&der::Encode::to_der(&pfx.auth_safe.content).unwrap())
                    .unwrap();
            let safes = AuthenticatedSafe::from_der(safes.as_bytes()).unwrap();
            assert_eq!(
                safes.iter().map(|s| s.content_type).collect::<Vec<_>>(),
                [oid::ENCRYPTED_DATA, oid::DATA]
            );
            let certs =
                EncryptedData::from_der(&der::Encode::to_der(&safes[0].content).unwrap()).unwrap();
            assert_eq!(certs.enc_content_info.content_enc_alg.oid, cipher);
        }
    }

    #[test]
    fn duplicate_aliases_are_refused() {
        let (keys, mut trusted) = entries();
        trusted[0].alias = "Upload".into();
        let err = write(
            &keys,
            &trusted,
            &Password::new("pw"),
            Pkcs12Encryption::Modern,
        )
        .unwrap_err();
        assert_eq!(
            err,
            FormatError::InvalidParameter("alias `Upload` names two entries".into())
        );
    }

    #[test]
    fn names_and_passwords_outside_the_bmp_are_refused() {
        let (mut keys, trusted) = entries();
        let password = Password::new("pw");
        keys[0].alias = "upload-\u{1F511}".into();
        assert_eq!(
            write(&keys, &trusted, &password, Pkcs12Encryption::Modern).unwrap_err(),
            FormatError::InvalidParameter(
                "alias `upload-\u{1F511}` has a character outside the Basic Multilingual \
                 Plane, which a PKCS#12 friendlyName cannot hold"
                    .into()
            )
        );
        keys[0].alias = "upload".into();
        for encryption in [Pkcs12Encryption::Modern, Pkcs12Encryption::Legacy] {
            assert_eq!(
                write(&keys, &trusted, &Password::new("pw-\u{1F511}"), encryption).unwrap_err(),
                FormatError::InvalidParameter(
                    "a PKCS#12 password cannot hold a character outside the Basic \
                     Multilingual Plane"
                        .into()
                ),
                "{encryption:?}"
            );
        }
    }

    #[test]
    fn a_key_without_a_certificate_is_refused() {
        let (mut keys, _) = entries();
        keys[0].chain.clear();
        assert_eq!(
            write(&keys, &[], &Password::new("pw"), Pkcs12Encryption::Modern).unwrap_err(),
            FormatError::InvalidParameter("alias `upload` has no certificate".into())
        );
    }
}
