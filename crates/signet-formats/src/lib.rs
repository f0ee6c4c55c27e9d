//! Credential file formats for mobile app signing.
//!
//! # Brief overview
//!
//! The principal type is [`Keystore`]: [`Keystore::open`] reads a JKS or PKCS#12 file
//! (detected by content), lists its entries without needing key passwords, and
//! [`Keystore::unlock`] decrypts one private key. [`write`] serializes [`KeyEntry`] values
//! as either type, readable by keytool, jarsigner and apksigner. [`Certificate`] carries
//! what signet shows about a certificate ([`CertificateInfo`]: names, validity, key,
//! fingerprints, the Android debug-key flag and Google Play's validity rule).
//!
//! This crate is pure: bytes in, typed values out. It does no file or network I/O.
//!
//! # Example
//!
//! ```
//! use signet_formats::{DistinguishedName, KeyAlgorithm, Keystore, KeystoreType, Password, WriteOptions};
//!
//! let dn = DistinguishedName::parse("CN=Upload, O=Acme, C=US")?;
//! let entry = signet_formats::generate::key_entry("upload", KeyAlgorithm::EcP256, &dn, 10_000)?;
//! let password = Password::new("correct horse");
//! let options = WriteOptions {
//!     kind: KeystoreType::Pkcs12,
//!     store_password: password.clone(),
//!     key_password: None,
//!     pkcs12_encryption: Default::default(),
//! };
//! let bytes = signet_formats::write(&[entry], &[], &options)?;
//!
//! let store = Keystore::open(&bytes, Some(&password))?;
//! let key = store.unlock(Some("upload"), &password)?;
//! assert_eq!(key.chain[0].info().subject, "CN=Upload, O=Acme, C=US");
//! # Ok::<(), signet_formats::FormatError>(())
//! ```

#![deny(missing_docs)]

pub mod apple;
pub mod cms;
pub mod credentials_json;
mod detect;
mod dname;
mod error;
pub mod generate;
mod keystore;
pub mod pem;
mod private_key;
mod purpose;
mod secret;
mod x509;

pub use crate::{
    detect::{FileKind, detect_file},
    dname::{Attribute, DistinguishedName},
    error::{FormatError, Result},
    keystore::{
        Entry, KeyEntry, Keystore, KeystoreType, Pkcs12Encryption, TrustedEntry, WriteOptions,
        detect, write,
    },
    private_key::{KeyAlgorithm, PrivateKey, SignatureScheme},
    purpose::Purpose,
    secret::{Password, random_hex32},
    x509::{
        ANDROID_DEBUG_SUBJECT, Certificate, CertificateInfo, Fingerprints, PLAY_VALIDITY_DEADLINE,
        colon_hex, fingerprints, hex_lower,
    },
};
