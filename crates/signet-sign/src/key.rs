//! The key interface signing uses: computing what to sign is kept apart from the private
//! key, so a key held elsewhere (the server, an HSM) can sign. [`KeyEntry`] from a local
//! keystore implements it.

use signet_formats::{Certificate, KeyAlgorithm, KeyEntry, SignatureScheme};

use crate::SignError;

/// A signer: a certificate chain and something that can sign with its key.
pub trait SigningKey: Send + Sync {
    /// The certificate chain, leaf first.
    fn certificates(&self) -> &[Certificate];

    /// The key's algorithm and size.
    fn algorithm(&self) -> KeyAlgorithm;

    /// Signs `message` (not a digest) with `scheme`.
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

impl SigningKey for KeyEntry {
    fn certificates(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm()
    }

    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.key.sign_with(scheme, message)?)
    }
}
