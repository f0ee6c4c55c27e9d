//! Java KeyStore (JKS), the format of `keytool -storetype JKS` and of most Android upload
//! keys made before Java 9.
//!
//! The layout, all integers big-endian, as `sun.security.provider.JavaKeyStore` writes it:
//!
//! ```text
//! magic    u32 = 0xFEEDFEED
//! version  u32 = 2          (1: certificates carry no type string)
//! count    u32
//! entry*   tag u32 (1 = private key, 2 = trusted certificate)
//!          alias     UTF    (u16 length + Java "modified UTF-8")
//!          created   u64    (milliseconds since the Unix epoch)
//!          tag 1:    key     u32 length + DER EncryptedPrivateKeyInfo
//!                    chain   u32 count, then per certificate: [type UTF] u32 length + DER
//!          tag 2:    [type UTF] u32 length + DER
//! digest   20 bytes = SHA-1(password as UTF-16BE || "Mighty Aphrodite" || every byte above)
//! ```
//!
//! Private keys are protected with Sun's proprietary "key protector" (OID
//! 1.3.6.1.4.1.42.2.17.1.1): a SHA-1 keystream XORed over the PKCS#8 key, framed by a random
//! 20-byte salt and a 20-byte SHA-1 check of the plaintext. It is weak by modern standards,
//! which is why new keystores default to PKCS#12; signet reads and writes it for the many
//! existing Android keys that live in JKS files.

use aws_lc_rs::{constant_time, digest};
use der::{Decode, Encode, asn1::OctetString, oid::ObjectIdentifier};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{
    FormatError, Password, PrivateKey, Result,
    keystore::{Entry, EntryKind, KeyEntry, SealedKey, TrustedEntry},
    x509::Certificate,
};

/// `0xFEEDFEED`, the first four bytes of every JKS file.
pub const MAGIC: u32 = 0xFEED_FEED;
/// `0xCECECECE`, the first four bytes of a JCEKS file.
pub const JCEKS_MAGIC: u32 = 0xCECE_CECE;
const VERSION_2: u32 = 2;
const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
const DIGEST_LEN: usize = 20;
const WHITENER: &[u8] = b"Mighty Aphrodite";
/// Sun's proprietary key-protection algorithm.
const KEY_PROTECTOR_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.42.2.17.1.1");
const SALT_LEN: usize = 20;
/// Upper bound for one length field; a JKS entry is never near it, a corrupt file may be.
const MAX_FIELD: usize = 16 * 1024 * 1024;

/// A parsed JKS file: its entries, and whether the integrity digest was checked.
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    pub integrity_checked: bool,
}

/// Parses a JKS file. With a password the trailing SHA-1 integrity digest is checked; a
/// mismatch is [`FormatError::WrongStorePassword`]. Without one, the entries are listed
/// unchecked (as `keytool -list` does when given no password).
pub(crate) fn parse(bytes: &[u8], password: Option<&Password>) -> Result<Parsed> {
    if bytes.len() < DIGEST_LEN + 12 {
        return Err(FormatError::Truncated { what: "JKS header" });
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let mut r = Reader { buf: body, pos: 0 };
    let magic = r.u32("JKS header")?;
    if magic != MAGIC {
        return Err(FormatError::NotAKeystore);
    }
    let version = r.u32("JKS header")?;
    if version != 1 && version != VERSION_2 {
        return Err(FormatError::UnsupportedVersion(version));
    }
    let count = r.u32("JKS header")? as usize;

    let mut entries = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let tag = r.u32("JKS entry")?;
        let alias = r.utf("JKS alias")?;
        let created = r.u64("JKS entry")?;
        let created = i64::try_from(created).ok().and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        });
        let kind = match tag {
            TAG_PRIVATE_KEY => {
                let protected = r.bytes("JKS private key")?.to_vec();
                let n = r.u32("JKS certificate chain")? as usize;
                let mut chain = Vec::with_capacity(n.min(16));
                for _ in 0..n {
                    chain.push(read_cert(&mut r, version)?);
                }
                EntryKind::PrivateKey {
                    chain,
                    sealed: SealedKey::Jks(protected),
                }
            }
            TAG_TRUSTED_CERT => {
                EntryKind::TrustedCertificate(Box::new(read_cert(&mut r, version)?))
            }
            other => {
                return Err(FormatError::Malformed {
                    what: "JKS entry",
                    detail: format!("unknown entry tag {other}"),
                });
            }
        };
        entries.push(Entry {
            alias,
            created,
            kind,
        });
    }
    if r.pos != body.len() {
        return Err(FormatError::TrailingData("JKS entries"));
    }
    // Like Java: the structure first (so a cut file says so), then the digest.
    if let Some(password) = password {
        let expected = integrity_digest(password, body);
        if constant_time::verify_slices_are_equal(expected.as_ref(), digest).is_err() {
            return Err(FormatError::WrongStorePassword);
        }
    }
    Ok(Parsed {
        entries,
        integrity_checked: password.is_some(),
    })
}

fn read_cert(r: &mut Reader<'_>, version: u32) -> Result<Certificate> {
    if version == VERSION_2 {
        let kind = r.utf("JKS certificate type")?;
        if kind != "X.509" {
            return Err(FormatError::UnsupportedAlgorithm(format!(
                "certificate type `{kind}`"
            )));
        }
    }
    let der = r.bytes("JKS certificate")?;
    Certificate::from_der(der)
}

/// Writes a JKS file. Every private key is protected with `key_password`; the file's
/// integrity digest uses `store_password`. Aliases are written in lower case, since Java's
/// JKS provider looks them up lower-cased and would not find a mixed-case alias.
pub(crate) fn write(
    keys: &[KeyEntry],
    trusted: &[TrustedEntry],
    store_password: &Password,
    key_password: &Password,
) -> Result<Vec<u8>> {
    let mut entries = Vec::with_capacity(keys.len() + trusted.len());
    for key in keys {
        entries.push(Entry {
            alias: key.alias.clone(),
            created: key.created,
            kind: EntryKind::PrivateKey {
                chain: key.chain.clone(),
                sealed: SealedKey::Jks(protect(key.key.pkcs8_der(), key_password)?),
            },
        });
    }
    entries.extend(trusted.iter().map(|t| Entry {
        alias: t.alias.clone(),
        created: t.created,
        kind: EntryKind::TrustedCertificate(Box::new(t.certificate.clone())),
    }));
    write_entries(&entries, store_password)
}

/// Writes entries as they are, in order: private keys already sealed with the key
/// protector (a key sealed any other way is refused), aliases in lower case, a missing
/// creation time as now, and the integrity digest under `store_password`.
pub(crate) fn write_entries(entries: &[Entry], store_password: &Password) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION_2.to_be_bytes());
    let count = u32::try_from(entries.len())
        .map_err(|_| FormatError::InvalidParameter("too many entries".into()))?;
    out.extend_from_slice(&count.to_be_bytes());
    let now = OffsetDateTime::now_utc();

    for entry in entries {
        let tag = match entry.kind {
            EntryKind::PrivateKey { .. } => TAG_PRIVATE_KEY,
            EntryKind::TrustedCertificate(_) => TAG_TRUSTED_CERT,
        };
        out.extend_from_slice(&tag.to_be_bytes());
        put_utf(&mut out, &entry.alias.to_lowercase())?;
        put_time(&mut out, entry.created.unwrap_or(now));
        match &entry.kind {
            EntryKind::PrivateKey { chain, sealed } => {
                let SealedKey::Jks(protected) = sealed else {
                    return Err(FormatError::InvalidParameter(format!(
                        "the key of alias `{}` is not sealed for a JKS file",
                        entry.alias
                    )));
                };
                put_bytes(&mut out, protected)?;
                let n = u32::try_from(chain.len()).map_err(|_| {
                    FormatError::InvalidParameter("certificate chain too long".into())
                })?;
                out.extend_from_slice(&n.to_be_bytes());
                for cert in chain {
                    put_utf(&mut out, "X.509")?;
                    put_bytes(&mut out, cert.der())?;
                }
            }
            EntryKind::TrustedCertificate(cert) => {
                put_utf(&mut out, "X.509")?;
                put_bytes(&mut out, cert.der())?;
            }
        }
    }
    let digest = integrity_digest(store_password, &out);
    out.extend_from_slice(digest.as_ref());
    Ok(out)
}

fn integrity_digest(password: &Password, body: &[u8]) -> digest::Digest {
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&password.utf16be());
    ctx.update(WHITENER);
    ctx.update(body);
    ctx.finish()
}

/// `EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier,
/// encryptedData OCTET STRING }` (RFC 5208 §6), with Sun's key-protector algorithm.
#[derive(der::Sequence)]
struct EncryptedPrivateKeyInfo {
    algorithm: spki_like::AlgorithmIdentifier,
    data: OctetString,
}

/// A minimal AlgorithmIdentifier, so this module needs no crate that would reject the
/// proprietary OID.
mod spki_like {
    use der::{Any, oid::ObjectIdentifier};

    #[derive(der::Sequence)]
    pub(super) struct AlgorithmIdentifier {
        pub oid: ObjectIdentifier,
        pub parameters: Option<Any>,
    }
}

/// Decrypts a JKS-protected private key and reads it as a key signet can use.
pub(crate) fn unprotect(protected: &[u8], password: &Password, alias: &str) -> Result<PrivateKey> {
    PrivateKey::from_pkcs8_der(&unprotect_der(protected, password, alias)?)
}

/// Decrypts a JKS-protected private key into PKCS#8 DER, whatever its algorithm. A failed
/// check digest means the key password is wrong.
pub(crate) fn unprotect_der(
    protected: &[u8],
    password: &Password,
    alias: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let info =
        EncryptedPrivateKeyInfo::from_der(protected).map_err(|e| FormatError::Malformed {
            what: "JKS private key",
            detail: e.to_string(),
        })?;
    if info.algorithm.oid != KEY_PROTECTOR_OID {
        return Err(FormatError::UnsupportedAlgorithm(format!(
            "JKS key protection {}",
            info.algorithm.oid
        )));
    }
    let data = info.data.as_bytes();
    if data.len() < SALT_LEN + DIGEST_LEN {
        return Err(FormatError::Truncated {
            what: "JKS private key",
        });
    }
    let (salt, rest) = data.split_at(SALT_LEN);
    let (encrypted, check) = rest.split_at(rest.len() - DIGEST_LEN);
    let pw = password.utf16be();
    let mut plain = Zeroizing::new(encrypted.to_vec());
    apply_keystream(&pw, salt, &mut plain);

    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&pw);
    ctx.update(&plain);
    if constant_time::verify_slices_are_equal(ctx.finish().as_ref(), check).is_err() {
        return Err(FormatError::WrongKeyPassword {
            alias: alias.to_owned(),
        });
    }
    Ok(plain)
}

/// Protects PKCS#8 DER with the JKS key protector under a fresh random salt.
pub(crate) fn protect(pkcs8: &[u8], password: &Password) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| FormatError::Crypto("random number generator"))?;
    let pw = password.utf16be();
    let mut data = Vec::with_capacity(SALT_LEN + pkcs8.len() + DIGEST_LEN);
    data.extend_from_slice(&salt);
    data.extend_from_slice(pkcs8);
    apply_keystream(&pw, &salt, &mut data[SALT_LEN..]);
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&pw);
    ctx.update(pkcs8);
    data.extend_from_slice(ctx.finish().as_ref());

    let info = EncryptedPrivateKeyInfo {
        algorithm: spki_like::AlgorithmIdentifier {
            oid: KEY_PROTECTOR_OID,
            parameters: Some(der::Any::null()),
        },
        data: OctetString::new(data).map_err(|_| FormatError::Crypto("DER encoding"))?,
    };
    info.to_der()
        .map_err(|_| FormatError::Crypto("DER encoding"))
}

/// XORs `buf` with the key protector's stream: d(0) = salt, d(i) = SHA-1(password || d(i-1)),
/// the stream being d(1) || d(2) || ….
fn apply_keystream(password: &[u8], salt: &[u8], buf: &mut [u8]) {
    let mut block = Zeroizing::new([0u8; DIGEST_LEN]);
    block.copy_from_slice(&salt[..DIGEST_LEN]);
    for chunk in buf.chunks_mut(DIGEST_LEN) {
        let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        ctx.update(password);
        ctx.update(block.as_ref());
        block.copy_from_slice(ctx.finish().as_ref());
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(FormatError::Truncated { what })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64> {
        let hi = u64::from(self.u32(what)?);
        let lo = u64::from(self.u32(what)?);
        Ok(hi << 32 | lo)
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u32(what)? as usize;
        if n > MAX_FIELD {
            return Err(FormatError::Malformed {
                what,
                detail: format!("length {n} is implausible"),
            });
        }
        self.take(n, what)
    }

    fn utf(&mut self, what: &'static str) -> Result<String> {
        let b = self.take(2, what)?;
        let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
        let raw = self.take(n, what)?;
        decode_modified_utf8(raw).ok_or(FormatError::Malformed {
            what,
            detail: "invalid modified UTF-8".into(),
        })
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let n = u32::try_from(bytes.len())
        .map_err(|_| FormatError::InvalidParameter("entry too large".into()))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_time(out: &mut Vec<u8>, t: OffsetDateTime) {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    let ms = u64::try_from(ms).unwrap_or(0);
    out.extend_from_slice(&ms.to_be_bytes());
}

fn put_utf(out: &mut Vec<u8>, s: &str) -> Result<()> {
    let encoded = encode_modified_utf8(s);
    let n = u16::try_from(encoded.len()).map_err(|_| {
        FormatError::InvalidParameter(format!("alias too long: {} bytes", encoded.len()))
    })?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&encoded);
    Ok(())
}

/// Java's `DataOutput.writeUTF` encoding: UTF-16 code units, each as 1–3 bytes, with NUL as
/// `C0 80` (so characters outside the BMP become two 3-byte surrogates).
fn encode_modified_utf8(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x0001..=0x007F => out.push(unit as u8),
            0x0000 | 0x0080..=0x07FF => {
                out.push(0xC0 | (unit >> 6) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
            _ => {
                out.push(0xE0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3F) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
        }
    }
    out
}

fn decode_modified_utf8(raw: &[u8]) -> Option<String> {
    let mut units = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let a = u16::from(raw[i]);
        if a < 0x80 {
            units.push(a);
            i += 1;
        } else if a & 0xE0 == 0xC0 {
            let b = u16::from(*raw.get(i + 1)?);
            if b & 0xC0 != 0x80 {
                return None;
            }
            units.push((a & 0x1F) << 6 | (b & 0x3F));
            i += 2;
        } else if a & 0xF0 == 0xE0 {
            let b = u16::from(*raw.get(i + 1)?);
            let c = u16::from(*raw.get(i + 2)?);
            if b & 0xC0 != 0x80 || c & 0xC0 != 0x80 {
                return None;
            }
            units.push((a & 0x0F) << 12 | (b & 0x3F) << 6 | (c & 0x3F));
            i += 3;
        } else {
            return None;
        }
    }
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf8_round_trips() {
        for s in ["upload", "", "kéy", "\u{0}nul", "\u{1F600}emoji", "日本"] {
            let enc = encode_modified_utf8(s);
            assert_eq!(decode_modified_utf8(&enc).as_deref(), Some(s), "{s:?}");
        }
        // NUL is C0 80, never a zero byte.
        assert_eq!(encode_modified_utf8("\u{0}"), vec![0xC0, 0x80]);
        // A supplementary character is two 3-byte surrogates.
        assert_eq!(encode_modified_utf8("\u{1F600}").len(), 6);
    }

    #[test]
    fn rejects_invalid_modified_utf8() {
        assert_eq!(decode_modified_utf8(&[0xC3]), None);
        assert_eq!(decode_modified_utf8(&[0xFF]), None);
        // A lone surrogate is not a string.
        assert_eq!(decode_modified_utf8(&[0xED, 0xA0, 0x80]), None);
    }

    #[test]
    fn key_protector_round_trips_and_rejects_wrong_password() {
        let key = PrivateKey::generate(crate::KeyAlgorithm::EcP256).unwrap();
        let pw = Password::new("secret");
        let sealed = protect(key.pkcs8_der(), &pw).unwrap();
        let opened = unprotect(&sealed, &pw, "a").unwrap();
        assert_eq!(opened.pkcs8_der(), key.pkcs8_der());
        let err = unprotect(&sealed, &Password::new("Secret"), "a").unwrap_err();
        assert_eq!(err, FormatError::WrongKeyPassword { alias: "a".into() });
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let key = PrivateKey::generate(crate::KeyAlgorithm::EcP256).unwrap();
        let cert = crate::generate::self_signed(
            &key,
            &crate::DistinguishedName::parse("CN=t").unwrap(),
            1,
        )
        .unwrap();
        let entry = KeyEntry {
            alias: "k".into(),
            created: None,
            key,
            chain: vec![cert],
        };
        let pw = Password::new("pw");
        let bytes = write(&[entry], &[], &pw, &pw).unwrap();
        assert!(parse(&bytes, Some(&pw)).is_ok());
        for n in 0..bytes.len() {
            assert!(
                parse(&bytes[..n], None).is_err(),
                "prefix of {n} bytes parsed"
            );
        }
    }
}
