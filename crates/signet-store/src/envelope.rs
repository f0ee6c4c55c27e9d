//! The sealed format.
//!
//! ```text
//! sealed := u8 version (1) || u8 len || key_id || wrap_nonce[12] || wrapped_dek[32 + 16]
//!           || data_nonce[12] || ciphertext || tag[16]
//! aad    := "signet:v1" 0 org 0 record 0 kind 0 u64be version
//! ```
//!
//! The data key is wrapped with the same associated data as the content, so neither half
//! of an envelope can be moved to another record.

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
}

impl Binding<'_> {
    pub(crate) fn aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(b"signet:v1\0");
        for part in [self.org, self.record, self.kind] {
            out.extend_from_slice(part.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(&self.version.to_be_bytes());
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

pub(crate) const FORMAT_VERSION: u8 = 1;
pub(crate) const NONCE: usize = 12;
pub(crate) const TAG: usize = 16;
pub(crate) const KEY: usize = 32;

/// The parts of a sealed blob.
pub(crate) struct Parts<'a> {
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
        if b.first() != Some(&FORMAT_VERSION) {
            return Err(StoreError::Malformed("unknown format version"));
        }
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
            key_id,
            wrap_nonce,
            wrapped,
            data_nonce,
            ciphertext,
        })
    }
}
