//! Private keys as PKCS#8 (RFC 5208) DER, generated and used through aws-lc-rs.
//!
//! ```text
//! PrivateKeyInfo ::= SEQUENCE {
//!     version              Version,
//!     privateKeyAlgorithm  AlgorithmIdentifier,
//!     privateKey           OCTET STRING,
//!     attributes       [0] IMPLICIT Attributes OPTIONAL }
//! ```

use std::fmt;

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{self, KeySize},
    signature::{self, EcdsaKeyPair, KeyPair},
};
use der::{Decode, asn1::ObjectIdentifier};
use zeroize::Zeroizing;

use crate::{FormatError, Result, x509::Certificate};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A key algorithm and size that signet can generate and use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KeyAlgorithm {
    /// RSA with a 2048-bit modulus (keytool's and Android Studio's default).
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256 (secp256r1).
    EcP256,
    /// ECDSA on NIST P-384 (secp384r1).
    EcP384,
}

impl KeyAlgorithm {
    /// Picks the algorithm from a family name (`rsa` or `ec`, any case) and a size in bits,
    /// the way keytool's `-keyalg` and `-keysize` do.
    pub fn from_name_and_size(name: &str, bits: Option<u32>) -> Result<KeyAlgorithm> {
        let alg = match (name.to_ascii_lowercase().as_str(), bits) {
            ("rsa", None | Some(2048)) => KeyAlgorithm::Rsa2048,
            ("rsa", Some(3072)) => KeyAlgorithm::Rsa3072,
            ("rsa", Some(4096)) => KeyAlgorithm::Rsa4096,
            ("ec", None | Some(256)) => KeyAlgorithm::EcP256,
            ("ec", Some(384)) => KeyAlgorithm::EcP384,
            ("rsa", Some(n)) => {
                return Err(FormatError::InvalidParameter(format!(
                    "unsupported RSA key size {n}; use 2048, 3072 or 4096"
                )));
            }
            ("ec", Some(n)) => {
                return Err(FormatError::InvalidParameter(format!(
                    "unsupported EC key size {n}; use 256 or 384"
                )));
            }
            (other, _) => {
                return Err(FormatError::InvalidParameter(format!(
                    "unsupported key algorithm `{other}`; use rsa or ec"
                )));
            }
        };
        Ok(alg)
    }

    /// The family, as keytool names it: `RSA` or `EC`.
    pub fn family(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => "RSA",
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => "EC",
        }
    }

    /// The scheme a key signs with when none is asked for: PKCS#1 v1.5 with SHA-256 for
    /// RSA, ECDSA with SHA-256 on P-256 and SHA-384 on P-384.
    pub fn default_scheme(self) -> SignatureScheme {
        match self {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                SignatureScheme::RsaPkcs1Sha256
            }
            KeyAlgorithm::EcP256 => SignatureScheme::EcdsaSha256,
            KeyAlgorithm::EcP384 => SignatureScheme::EcdsaSha384,
        }
    }

    /// Key size in bits (the modulus for RSA, the field for EC).
    pub fn bits(self) -> u32 {
        match self {
            KeyAlgorithm::Rsa2048 => 2048,
            KeyAlgorithm::Rsa3072 => 3072,
            KeyAlgorithm::Rsa4096 => 4096,
            KeyAlgorithm::EcP256 => 256,
            KeyAlgorithm::EcP384 => 384,
        }
    }
}

/// A signature algorithm: the digest and, for RSA, the padding. Serialized in kebab-case
/// (`rsa-pkcs1-sha256`, `ecdsa-sha256`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-1 (JAR signing for Android below API 18 only).
    RsaPkcs1Sha1,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// ECDSA with SHA-256, DER-encoded signature.
    EcdsaSha256,
    /// ECDSA with SHA-384, DER-encoded signature.
    EcdsaSha384,
    /// ECDSA with SHA-512, DER-encoded signature.
    EcdsaSha512,
}

impl SignatureScheme {
    /// Whether this scheme is for RSA keys.
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            SignatureScheme::RsaPkcs1Sha1
                | SignatureScheme::RsaPkcs1Sha256
                | SignatureScheme::RsaPkcs1Sha384
                | SignatureScheme::RsaPkcs1Sha512
        )
    }
}

/// A private key in PKCS#8 DER, wiped from memory when dropped.
#[derive(Clone)]
pub struct PrivateKey {
    der: Zeroizing<Vec<u8>>,
    algorithm: KeyAlgorithm,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, [redacted])", self.algorithm)
    }
}

impl PrivateKey {
    /// Generates a fresh key pair.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<PrivateKey> {
        let der = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                let size = match algorithm {
                    KeyAlgorithm::Rsa3072 => KeySize::Rsa3072,
                    KeyAlgorithm::Rsa4096 => KeySize::Rsa4096,
                    _ => KeySize::Rsa2048,
                };
                let pair = rsa::KeyPair::generate(size)
                    .map_err(|_| FormatError::Crypto("RSA key generation"))?;
                let der = pair
                    .as_der()
                    .map_err(|_| FormatError::Crypto("RSA key encoding"))?;
                der.as_ref().to_vec()
            }
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => {
                let pair = EcdsaKeyPair::generate(ec_signing(algorithm))
                    .map_err(|_| FormatError::Crypto("EC key generation"))?;
                let doc = pair
                    .to_pkcs8v1()
                    .map_err(|_| FormatError::Crypto("EC key encoding"))?;
                doc.as_ref().to_vec()
            }
        };
        Ok(PrivateKey {
            der: Zeroizing::new(der),
            algorithm,
        })
    }

    /// Reads PKCS#8 DER, checking that the key is one signet can use.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|e| FormatError::BadPrivateKey(format!("not PKCS#8: {e}")))?;
        let oid = info.algorithm.oid;
        let algorithm = if oid == RSA_ENCRYPTION {
            let pair = rsa::KeyPair::from_pkcs8(der)
                .map_err(|e| FormatError::BadPrivateKey(format!("RSA: {e}")))?;
            match pair.public_modulus_len() * 8 {
                2048 => KeyAlgorithm::Rsa2048,
                3072 => KeyAlgorithm::Rsa3072,
                4096 => KeyAlgorithm::Rsa4096,
                n => {
                    return Err(FormatError::UnsupportedAlgorithm(format!(
                        "RSA key of {n} bits"
                    )));
                }
            }
        } else if oid == EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let algorithm = match curve {
                Some(c) if c == SECP256R1 => KeyAlgorithm::EcP256,
                Some(c) if c == SECP384R1 => KeyAlgorithm::EcP384,
                Some(c) => return Err(FormatError::UnsupportedAlgorithm(format!("EC curve {c}"))),
                None => {
                    return Err(FormatError::BadPrivateKey(
                        "EC key without a named curve".into(),
                    ));
                }
            };
            EcdsaKeyPair::from_pkcs8(ec_signing(algorithm), der)
                .map_err(|e| FormatError::BadPrivateKey(format!("EC: {e}")))?;
            algorithm
        } else {
            return Err(FormatError::UnsupportedAlgorithm(format!(
                "private key type {oid}"
            )));
        };
        Ok(PrivateKey {
            der: Zeroizing::new(der.to_vec()),
            algorithm,
        })
    }

    /// The PKCS#8 DER encoding.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.der
    }

    /// The key's algorithm and size.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key as it appears in a certificate's `subjectPublicKey` bit string
    /// (PKCS#1 `RSAPublicKey` DER for RSA, the uncompressed point for EC).
    pub fn public_key_bits(&self) -> Result<Vec<u8>> {
        match self.algorithm {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => {
                let pair = EcdsaKeyPair::from_pkcs8(ec_signing(self.algorithm), &self.der)
                    .map_err(|_| FormatError::BadPrivateKey("EC".into()))?;
                Ok(pair.public_key().as_ref().to_vec())
            }
            _ => {
                let pair = rsa::KeyPair::from_pkcs8(&self.der)
                    .map_err(|_| FormatError::BadPrivateKey("RSA".into()))?;
                Ok(pair.public_key().as_ref().to_vec())
            }
        }
    }

    /// Whether `cert` certifies this key's public key.
    pub fn matches(&self, cert: &Certificate) -> Result<bool> {
        Ok(cert.public_key_bits()? == self.public_key_bits()?)
    }

    /// Signs `message` with the key's default scheme ([`KeyAlgorithm::default_scheme`]).
    /// The signature verifies with [`Certificate::verify_signature`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign_with(self.algorithm.default_scheme(), message)
    }
}

impl PrivateKey {
    /// Whether this is an RSA key.
    pub fn is_rsa(&self) -> bool {
        matches!(
            self.algorithm,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
        )
    }

    /// Signs `message` with an explicit scheme. Signatures are deterministic for RSA and
    /// P-384 (RFC 6979), randomized for P-256.
    pub fn sign_with(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>> {
        if scheme.is_rsa() != self.is_rsa() {
            return Err(FormatError::UnsupportedAlgorithm(format!(
                "{scheme:?} with a {} key",
                self.algorithm.family()
            )));
        }
        let rng = SystemRandom::new();
        match (scheme, self.algorithm) {
            (SignatureScheme::RsaPkcs1Sha1, _) => {
                use rsa_legacy::pkcs8::DecodePrivateKey as _;
                let key = rsa_legacy::RsaPrivateKey::from_pkcs8_der(&self.der)
                    .map_err(|_| FormatError::BadPrivateKey("RSA".into()))?;
                let digest = <sha1_010::Sha1 as sha1_010::Digest>::digest(message);
                key.sign(rsa_legacy::Pkcs1v15Sign::new::<sha1_010::Sha1>(), &digest)
                    .map_err(|_| FormatError::Crypto("RSA signing"))
            }
            (
                SignatureScheme::RsaPkcs1Sha256
                | SignatureScheme::RsaPkcs1Sha384
                | SignatureScheme::RsaPkcs1Sha512,
                _,
            ) => {
                let pair = rsa::KeyPair::from_pkcs8(&self.der)
                    .map_err(|_| FormatError::BadPrivateKey("RSA".into()))?;
                let padding: &'static dyn signature::RsaEncoding = match scheme {
                    SignatureScheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
                    SignatureScheme::RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
                    _ => &signature::RSA_PKCS1_SHA512,
                };
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut sig)
                    .map_err(|_| FormatError::Crypto("RSA signing"))?;
                Ok(sig)
            }
            (SignatureScheme::EcdsaSha256, KeyAlgorithm::EcP256)
            | (SignatureScheme::EcdsaSha384, KeyAlgorithm::EcP384) => {
                let pair = EcdsaKeyPair::from_pkcs8(ec_signing(self.algorithm), &self.der)
                    .map_err(|_| FormatError::BadPrivateKey("EC".into()))?;
                let sig = pair
                    .sign(&rng, message)
                    .map_err(|_| FormatError::Crypto("ECDSA signing"))?;
                Ok(sig.as_ref().to_vec())
            }
            (SignatureScheme::EcdsaSha384 | SignatureScheme::EcdsaSha512, KeyAlgorithm::EcP256) => {
                Err(FormatError::UnsupportedAlgorithm(format!(
                    "ECDSA P-256 with {scheme:?}"
                )))
            }
            (_, _) => {
                use p384::ecdsa::signature::hazmat::PrehashSigner as _;
                use p384::pkcs8::DecodePrivateKey as _;
                let key = p384::ecdsa::SigningKey::from_pkcs8_der(&self.der)
                    .map_err(|_| FormatError::BadPrivateKey("EC P-384".into()))?;
                let alg = match scheme {
                    SignatureScheme::EcdsaSha256 => &aws_lc_rs::digest::SHA256,
                    SignatureScheme::EcdsaSha384 => &aws_lc_rs::digest::SHA384,
                    _ => &aws_lc_rs::digest::SHA512,
                };
                let digest = aws_lc_rs::digest::digest(alg, message);
                let sig: p384::ecdsa::Signature = key
                    .sign_prehash(digest.as_ref())
                    .map_err(|_| FormatError::Crypto("ECDSA signing"))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }
}

fn ec_signing(algorithm: KeyAlgorithm) -> &'static signature::EcdsaSigningAlgorithm {
    match algorithm {
        KeyAlgorithm::EcP384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_own_generated_keys() {
        for alg in [
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::EcP256,
            KeyAlgorithm::EcP384,
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
            assert_eq!(again.algorithm(), alg);
        }
    }

    #[test]
    fn rejects_garbage_and_unknown_algorithms() {
        assert!(matches!(
            PrivateKey::from_pkcs8_der(b"\x30\x03\x02\x01\x00"),
            Err(FormatError::BadPrivateKey(_))
        ));
        assert!(matches!(
            PrivateKey::from_pkcs8_der(&[]),
            Err(FormatError::BadPrivateKey(d)) if d.starts_with("not PKCS#8")
        ));
    }

    #[test]
    fn size_names_follow_keytool() {
        assert_eq!(
            KeyAlgorithm::from_name_and_size("RSA", None).unwrap(),
            KeyAlgorithm::Rsa2048
        );
        assert_eq!(
            KeyAlgorithm::from_name_and_size("ec", Some(384)).unwrap(),
            KeyAlgorithm::EcP384
        );
        assert!(matches!(
            KeyAlgorithm::from_name_and_size("rsa", Some(1024)),
            Err(FormatError::InvalidParameter(d)) if d.contains("RSA key size 1024")
        ));
        assert!(matches!(
            KeyAlgorithm::from_name_and_size("dsa", None),
            Err(FormatError::InvalidParameter(d)) if d.contains("key algorithm `dsa`")
        ));
    }
}
