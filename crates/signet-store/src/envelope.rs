//! The sealed format.
//!
//! ```text
//! sealed := u8 format (1 or 2) || u8 len || key_id || wrap_nonce[12]
//!           || wrapped_dek[32 + 16] || data_nonce[12] || ciphertext || tag[16]
//! aad v1 := "signet:v1" 0 org 0 record 0 kind 0 u64be version
//! aad v2 := "signet:v2" 0 org 0 record 0 kind 0 u64be version || sha256(derived)
//! ```
//!
//! The data key is wrapped with the same associated data as the content, so neither half
//! of an envelope can be moved to another record. Format 2 (every write since it exists)
//! also binds the metadata derived from the secret (fingerprints, the debug-key flag,
//! expiry, team): someone who can write to the database but holds no master key cannot
//! change what signet shows about a secret without the secret failing to open. Format 1
//! blobs (written before) still open; the format byte cannot be changed from 2 to 1, since
//! the two formats authenticate different associated data.

use crate::StoreError;

/// What a sealed blob belongs to; authenticated, not encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The owning organization's id.
    pub org: &'a str,
    /// The record's id.
    pub record: &'a str,
    /// The credential type (`android-keystore`, `apple-p12`, …).
    pub kind: &'a str,
    /// The record version the blob was written for.
    pub version: u64,
    /// The metadata derived from the secret, in its stored form; bound by format 2.
    /// `None` seals in format 1 (no metadata to bind).
    pub derived: Option<&'a str>,
}

impl Binding<'_> {
    /// The format a seal under this binding writes.
    pub(crate) fn format(&self) -> u8 {
        if self.derived.is_some() {
            FORMAT_V2
        } else {
            FORMAT_V1
        }
    }

    /// The associated data of a blob in `format`. A format 2 blob opened without derived
    /// metadata binds the empty string, and so fails to open.
    pub(crate) fn aad(&self, format: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(if format == FORMAT_V2 {
            b"signet:v2\0"
        } else {
            b"signet:v1\0"
        });
        for part in [self.org, self.record, self.kind] {
            out.extend_from_slice(part.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(&self.version.to_be_bytes());
        if format == FORMAT_V2 {
            let digest = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                self.derived.unwrap_or_default().as_bytes(),
            );
            out.extend_from_slice(digest.as_ref());
        }
        out
    }
}

/// A sealed secret, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub(crate) Vec<u8>);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealed({} bytes, key `{}`)",
            self.0.len(),
            self.key_id().unwrap_or("?")
        )
    }
}

/// Sealed blobs that bind only the record.
pub(crate) const FORMAT_V1: u8 = 1;
/// Sealed blobs that also bind the derived metadata.
pub(crate) const FORMAT_V2: u8 = 2;
pub(crate) const NONCE: usize = 12;
pub(crate) const TAG: usize = 16;
pub(crate) const KEY: usize = 32;

/// The parts of a sealed blob.
pub(crate) struct Parts<'a> {
    pub format: u8,
    pub key_id: &'a str,
    pub wrap_nonce: &'a [u8],
    pub wrapped: &'a [u8],
    pub data_nonce: &'a [u8],
    pub ciphertext: &'a [u8],
}

impl Sealed {
    /// Wraps stored bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Sealed {
        Sealed(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id of the master key the data key is wrapped under.
    pub fn key_id(&self) -> Result<&str, StoreError> {
        Ok(self.parts()?.key_id)
    }

    pub(crate) fn parts(&self) -> Result<Parts<'_>, StoreError> {
        let b = &self.0;
        let format = match b.first() {
            Some(&f) if f == FORMAT_V1 || f == FORMAT_V2 => f,
            _ => return Err(StoreError::Malformed("unknown format version")),
        };
        let id_len = usize::from(*b.get(1).ok_or(StoreError::Malformed("truncated"))?);
        let mut pos = 2;
        let mut take = |n: usize| -> Result<&[u8], StoreError> {
            let s = b
                .get(pos..pos + n)
                .ok_or(StoreError::Malformed("truncated"))?;
            pos += n;
            Ok(s)
        };
        let key_id = std::str::from_utf8(take(id_len)?)
            .map_err(|_| StoreError::Malformed("key id is not UTF-8"))?;
        let wrap_nonce = take(NONCE)?;
        let wrapped = take(KEY + TAG)?;
        let data_nonce = take(NONCE)?;
        let ciphertext = b.get(pos..).ok_or(StoreError::Malformed("truncated"))?;
        if ciphertext.len() < TAG {
            return Err(StoreError::Malformed("truncated"));
        }
        Ok(Parts {
            format,
            key_id,
            wrap_nonce,
            wrapped,
            data_nonce,
            ciphertext,
        })
    }
}
