//! The key interface signing uses: computing what to sign is kept apart from the private
//! key, so a key held elsewhere (the server, an HSM) can sign. [`KeyEntry`] from a local
//! keystore implements it.
//!
//! Signing hands the key batches of [`ToSign`] messages, each labelled with its
//! [`Purpose`], as few batches as the formats allow (an APK with v1, v2 and v3 costs two:
//! the JAR signature file, whose bytes the v2/v3 content digests cover, then v2's and v3's
//! signed data together), so that a remote key makes one round trip per batch and knows
//! what it signs.

use signet_formats::{Certificate, KeyAlgorithm, KeyEntry, SignatureScheme};

pub use signet_formats::Purpose;

use crate::SignError;

/// One message for a key to sign: what it is, the scheme, and the bytes (the message
/// itself, not a digest of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToSign<'a> {
    /// What the message is.
    pub purpose: Purpose,
    /// The signature scheme to sign it with.
    pub scheme: SignatureScheme,
    /// The bytes to sign.
    pub message: &'a [u8],
}

/// A signer: a certificate chain and something that can sign with its key.
pub trait SigningKey: Send + Sync {
    /// The certificate chain, leaf first.
    fn certificates(&self) -> &[Certificate];

    /// The key's algorithm and size.
    fn algorithm(&self) -> KeyAlgorithm;

    /// Signs every message of the batch, returning one signature per message, in order.
    /// A remote key makes one round trip per call.
    fn sign(&self, batch: &[ToSign<'_>]) -> Result<Vec<Vec<u8>>, SignError>;
}

impl SigningKey for KeyEntry {
    fn certificates(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    fn sign(&self, batch: &[ToSign<'_>]) -> Result<Vec<Vec<u8>>, SignError> {
        batch
            .iter()
            .map(|m| Ok(self.key.sign_with(m.scheme, m.message)?))
            .collect()
    }
}

/// Has `key` sign `batch`, checking that it returned one signature per message.
pub(crate) fn sign_batch(
    key: &dyn SigningKey,
    batch: &[ToSign<'_>],
) -> Result<Vec<Vec<u8>>, SignError> {
    let signatures = key.sign(batch)?;
    if signatures.len() != batch.len() {
        return Err(SignError::SignatureCount {
            expected: batch.len(),
            returned: signatures.len(),
        });
    }
    Ok(signatures)
}

/// Has `key` sign one message.
pub(crate) fn sign_one(
    key: &dyn SigningKey,
    purpose: Purpose,
    scheme: SignatureScheme,
    message: &[u8],
) -> Result<Vec<u8>, SignError> {
    let mut signatures = sign_batch(
        key,
        &[ToSign {
            purpose,
            scheme,
            message,
        }],
    )?;
    signatures.pop().ok_or(SignError::SignatureCount {
        expected: 1,
        returned: 0,
    })
}
