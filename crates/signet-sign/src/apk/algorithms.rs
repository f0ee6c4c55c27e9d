//! Signature algorithm ids of APK signature schemes v2/v3/v4 and how apksigner picks one.

use signet_formats::{KeyAlgorithm, SignatureScheme};

use crate::apk::signing_block::ContentDigest;

/// An APK signature algorithm id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApkSigAlg(pub u32);

impl ApkSigAlg {
    /// RSASSA-PKCS1-v1_5 with SHA2-256, chunked SHA-256 content digest.
    pub const RSA_PKCS1_SHA256: ApkSigAlg = ApkSigAlg(0x0103);
    /// RSASSA-PKCS1-v1_5 with SHA2-512, chunked SHA-512 content digest.
    pub const RSA_PKCS1_SHA512: ApkSigAlg = ApkSigAlg(0x0104);
    /// ECDSA with SHA2-256.
    pub const ECDSA_SHA256: ApkSigAlg = ApkSigAlg(0x0201);
    /// ECDSA with SHA2-512.
    pub const ECDSA_SHA512: ApkSigAlg = ApkSigAlg(0x0202);

    /// The algorithm apksigner chooses for a key: a digest no weaker than the key, so
    /// SHA-256 for RSA up to 3072 bits and P-256, SHA-512 above.
    pub fn for_key(alg: KeyAlgorithm) -> ApkSigAlg {
        match alg {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => ApkSigAlg::RSA_PKCS1_SHA256,
            KeyAlgorithm::Rsa4096 => ApkSigAlg::RSA_PKCS1_SHA512,
            KeyAlgorithm::EcP256 => ApkSigAlg::ECDSA_SHA256,
            KeyAlgorithm::EcP384 => ApkSigAlg::ECDSA_SHA512,
        }
    }

    /// The signature scheme and content digest of a known id.
    pub fn parts(self) -> Option<(SignatureScheme, ContentDigest)> {
        Some(match self {
            ApkSigAlg::RSA_PKCS1_SHA256 => (SignatureScheme::RsaPkcs1Sha256, ContentDigest::Sha256),
            ApkSigAlg::RSA_PKCS1_SHA512 => (SignatureScheme::RsaPkcs1Sha512, ContentDigest::Sha512),
            ApkSigAlg::ECDSA_SHA256 => (SignatureScheme::EcdsaSha256, ContentDigest::Sha256),
            ApkSigAlg::ECDSA_SHA512 => (SignatureScheme::EcdsaSha512, ContentDigest::Sha512),
            _ => return None,
        })
    }
}
