//! apple-codesign's signer interface over a [`SigningKey`]: the CMS signature of each code
//! directory is one call to the key with [`Purpose::CmsSignedAttributes`], so a key held
//! elsewhere signs IPAs as it signs APKs. apple-codesign never sees private key bytes.

use std::sync::Mutex;

use bytes::Bytes;
use signet_formats::{KeyAlgorithm, SignatureScheme};
use x509_certificate::{
    CapturedX509Certificate, KeyInfoSigner, Sign, Signature, SignatureAlgorithm, Signer,
    X509CertificateError,
};

use crate::{
    SignError,
    error::IpaError,
    key::{Purpose, SigningKey, sign_one},
};

/// A [`SigningKey`] as apple-codesign's `KeyInfoSigner`.
pub(super) struct CodesignKey<'a> {
    key: &'a dyn SigningKey,
    scheme: SignatureScheme,
    algorithm: SignatureAlgorithm,
    certificate: CapturedX509Certificate,
    /// The key's error when a signature failed: apple-codesign keeps only its text, this
    /// gives the caller the typed error back.
    failure: Mutex<Option<SignError>>,
}

impl<'a> CodesignKey<'a> {
    /// The signer for `key`, whose leaf certificate is `certificate`. Apple code signing
    /// identities are RSA or EC P-256 keys; others are refused.
    pub(super) fn new(
        key: &'a dyn SigningKey,
        certificate: CapturedX509Certificate,
    ) -> Result<CodesignKey<'a>, SignError> {
        let (scheme, algorithm) = match key.algorithm() {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => (
                SignatureScheme::RsaPkcs1Sha256,
                SignatureAlgorithm::RsaSha256,
            ),
            KeyAlgorithm::EcP256 => (
                SignatureScheme::EcdsaSha256,
                SignatureAlgorithm::EcdsaSha256,
            ),
            other @ KeyAlgorithm::EcP384 => {
                return Err(IpaError::Identity(format!(
                    "its key is {}-{}, and Apple code signing identities are RSA or EC P-256 keys",
                    other.family(),
                    other.bits()
                ))
                .into());
            }
        };
        Ok(CodesignKey {
            key,
            scheme,
            algorithm,
            certificate,
            failure: Mutex::new(None),
        })
    }

    /// The key's error, if a signature failed.
    pub(super) fn take_failure(&self) -> Option<SignError> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }
}

impl Signer<Signature> for CodesignKey<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<Signature, signature::Error> {
        match sign_one(self.key, Purpose::CmsSignedAttributes, self.scheme, message) {
            Ok(signature) => Ok(Signature::from(signature)),
            Err(e) => {
                let text = e.to_string();
                if let Ok(mut failure) = self.failure.lock() {
                    failure.get_or_insert(e);
                }
                Err(signature::Error::from_source(text))
            }
        }
    }
}

impl Sign for CodesignKey<'_> {
    fn sign(&self, message: &[u8]) -> Result<(Vec<u8>, SignatureAlgorithm), X509CertificateError> {
        let signature = self
            .try_sign(message)
            .map_err(X509CertificateError::SigningError)?;
        Ok((signature.into(), self.algorithm))
    }

    fn key_algorithm(&self) -> Option<x509_certificate::KeyAlgorithm> {
        self.certificate.key_algorithm()
    }

    fn public_key_data(&self) -> Bytes {
        self.certificate.public_key_data()
    }

    fn signature_algorithm(&self) -> Result<SignatureAlgorithm, X509CertificateError> {
        Ok(self.algorithm)
    }

    fn private_key_data(&self) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        None
    }

    fn rsa_primes(
        &self,
    ) -> Result<
        Option<(zeroize::Zeroizing<Vec<u8>>, zeroize::Zeroizing<Vec<u8>>)>,
        X509CertificateError,
    > {
        Ok(None)
    }
}

impl KeyInfoSigner for CodesignKey<'_> {}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use signet_formats::{Certificate, DistinguishedName, KeyEntry, generate};

    use super::*;
    use crate::key::ToSign;

    /// A key that records what it is asked to sign, or fails.
    struct Recording {
        inner: KeyEntry,
        asked: Mutex<Vec<(Purpose, SignatureScheme)>>,
        fail: bool,
    }

    impl SigningKey for Recording {
        fn certificates(&self) -> &[Certificate] {
            &self.inner.chain
        }

        fn algorithm(&self) -> KeyAlgorithm {
            self.inner.key.algorithm()
        }

        fn sign(&self, batch: &[ToSign<'_>]) -> Result<Vec<Vec<u8>>, SignError> {
            self.asked
                .lock()
                .unwrap()
                .extend(batch.iter().map(|m| (m.purpose, m.scheme)));
            if self.fail {
                return Err(SignError::Key(
                    "the server refused: audit log unavailable".into(),
                ));
            }
            self.inner.sign(batch)
        }
    }

    fn recording(alg: KeyAlgorithm, fail: bool) -> Recording {
        let dn = DistinguishedName::parse("CN=Apple Distribution: Acme").unwrap();
        Recording {
            inner: generate::key_entry("k", alg, &dn, 30).unwrap(),
            asked: Mutex::new(Vec::new()),
            fail,
        }
    }

    fn captured(key: &Recording) -> CapturedX509Certificate {
        CapturedX509Certificate::from_der(key.inner.chain[0].der().to_vec()).unwrap()
    }

    #[test]
    fn signs_cms_signed_attributes_with_rsa_and_p256_keys_and_holds_no_private_key() {
        for (alg, scheme, algorithm) in [
            (
                KeyAlgorithm::Rsa2048,
                SignatureScheme::RsaPkcs1Sha256,
                SignatureAlgorithm::RsaSha256,
            ),
            (
                KeyAlgorithm::EcP256,
                SignatureScheme::EcdsaSha256,
                SignatureAlgorithm::EcdsaSha256,
            ),
        ] {
            let key = recording(alg, false);
            let signer = CodesignKey::new(&key, captured(&key)).unwrap();
            let attributes = b"DER of the signed attributes";
            let signature: Vec<u8> = signer.try_sign(attributes).unwrap().into();
            assert!(
                key.inner.chain[0]
                    .verify_with(scheme, attributes, &signature)
                    .unwrap()
            );
            assert_eq!(
                *key.asked.lock().unwrap(),
                [(Purpose::CmsSignedAttributes, scheme)]
            );
            assert_eq!(signer.signature_algorithm().unwrap(), algorithm);
            assert!(signer.private_key_data().is_none());
            assert!(signer.rsa_primes().unwrap().is_none());
            assert_eq!(
                signer.public_key_data(),
                captured(&key).public_key_data(),
                "the certificate's public key"
            );
        }
    }

    #[test]
    fn refuses_a_p384_identity() {
        let key = recording(KeyAlgorithm::EcP384, false);
        let err = CodesignKey::new(&key, captured(&key)).err().unwrap();
        assert_eq!(
            err.to_string(),
            "the signing identity cannot be used: its key is EC-384, and Apple code signing \
             identities are RSA or EC P-256 keys"
        );
    }

    #[test]
    fn keeps_the_keys_error_for_the_caller() {
        let key = recording(KeyAlgorithm::EcP256, true);
        let signer = CodesignKey::new(&key, captured(&key)).unwrap();
        assert!(signer.try_sign(b"attributes").is_err());
        let err = signer.take_failure().unwrap();
        assert!(matches!(err, SignError::Key(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the signing key could not sign: the server refused: audit log unavailable"
        );
        assert!(signer.take_failure().is_none());
    }
}
