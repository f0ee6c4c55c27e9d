//! The one error type of this crate.
//!
//! Following rustls, malformed bytes ([`FormatError::Truncated`], [`FormatError::Malformed`],
//! [`FormatError::TrailingData`]) are kept apart from well-formed input that breaks a rule
//! ([`FormatError::WrongStorePassword`], [`FormatError::AliasNotFound`], …). Messages say what
//! is wrong with the input and never contain a password or key material.

use std::fmt;

/// Why a credential file could not be read, written or used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The input ended before a structure was complete.
    Truncated {
        /// The structure that was being read.
        what: &'static str,
    },
    /// Bytes that do not follow the format's grammar.
    Malformed {
        /// The structure that was being read.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// Bytes left over after a complete structure.
    TrailingData(&'static str),
    /// The file is empty.
    Empty,
    /// The content is not a keystore (JKS or PKCS#12).
    NotAKeystore,
    /// The content is a JCEKS keystore, which signet does not read.
    UnsupportedJceks,
    /// A JKS version other than 1 or 2.
    UnsupportedVersion(u32),
    /// An algorithm signet does not implement.
    UnsupportedAlgorithm(String),
    /// The keystore's integrity check failed: the password is wrong or the file was altered.
    WrongStorePassword,
    /// The private key of `alias` could not be decrypted with the key password.
    WrongKeyPassword {
        /// The entry whose key was being decrypted.
        alias: String,
    },
    /// A store password is needed to read this keystore.
    StorePasswordRequired,
    /// No entry with this alias; lists the aliases that exist.
    AliasNotFound {
        /// The alias asked for.
        alias: String,
        /// Every alias in the keystore.
        available: Vec<String>,
    },
    /// The entry exists but holds a trusted certificate, not a private key.
    NotAKeyEntry {
        /// The alias asked for.
        alias: String,
    },
    /// The content is not a provisioning profile (a property list inside CMS signed data).
    NotAProvisioningProfile,
    /// The keystore holds no private key entry at all.
    NoKeyEntry,
    /// Several private keys and no alias to choose between them.
    AmbiguousAlias {
        /// The aliases of every private key entry.
        available: Vec<String>,
    },
    /// An edit would give an alias to a second entry.
    AliasExists {
        /// The alias already taken.
        alias: String,
    },
    /// A private key to be stored with a certificate chain whose first certificate is
    /// another key's.
    KeyCertificateMismatch {
        /// The subject of the chain's first certificate.
        subject: String,
    },
    /// A PKCS#12 keystore has one password: a key password apart from the store password
    /// cannot be set or changed.
    Pkcs12KeyPassword,
    /// A certificate that cannot be parsed.
    BadCertificate(String),
    /// A private key that cannot be parsed or does not match its certificate.
    BadPrivateKey(String),
    /// A distinguished name (keytool `-dname` syntax) that cannot be parsed.
    BadDistinguishedName(String),
    /// A request that cannot be satisfied (unsupported key size, empty alias, …).
    InvalidParameter(String),
    /// A signature that does not verify.
    SignatureInvalid(String),
    /// A failure inside the cryptographic backend.
    Crypto(&'static str),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Truncated { what } => {
                write!(f, "file is truncated: {what} ends early")
            }
            FormatError::Malformed { what, detail } => write!(f, "malformed {what}: {detail}"),
            FormatError::TrailingData(what) => write!(f, "unexpected bytes after the {what}"),
            FormatError::Empty => f.write_str("file is empty"),
            FormatError::NotAProvisioningProfile => f.write_str(
                "not a provisioning profile (a .mobileprovision is a property list inside a CMS signature)",
            ),
            FormatError::NotAKeystore => {
                f.write_str("not a keystore: expected a JKS or PKCS#12 file")
            }
            FormatError::UnsupportedJceks => f.write_str(
                "JCEKS keystores are not supported; convert it with `keytool -importkeystore \
                 -srckeystore IN -srcstoretype JCEKS -destkeystore OUT.p12 -deststoretype PKCS12`",
            ),
            FormatError::UnsupportedVersion(v) => {
                write!(f, "unsupported JKS version {v} (expected 1 or 2)")
            }
            FormatError::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm: {a}"),
            FormatError::WrongStorePassword => f.write_str(
                "keystore password is incorrect (or the keystore was modified since it was written)",
            ),
            FormatError::WrongKeyPassword { alias } => {
                write!(f, "key password is incorrect for alias `{alias}`")
            }
            FormatError::StorePasswordRequired => {
                f.write_str("a store password is required to read this keystore")
            }
            FormatError::AliasNotFound { alias, available } => {
                write!(f, "alias `{alias}` not found; aliases: ")?;
                write_aliases(f, available)
            }
            FormatError::NotAKeyEntry { alias } => write!(
                f,
                "alias `{alias}` is a trusted certificate entry, not a private key entry"
            ),
            FormatError::NoKeyEntry => f.write_str("keystore holds no private key entry"),
            FormatError::AmbiguousAlias { available } => {
                f.write_str("keystore holds several private keys; choose one with an alias: ")?;
                write_aliases(f, available)
            }
            FormatError::AliasExists { alias } => write!(f, "alias `{alias}` already exists"),
            FormatError::KeyCertificateMismatch { subject } => write!(
                f,
                "the private key does not match the certificate `{subject}`, the first of \
                 the chain (it must be the key's own certificate, the chain leaf first)"
            ),
            FormatError::Pkcs12KeyPassword => f.write_str(
                "a PKCS#12 keystore has one password: its keys are protected by the store \
                 password, so a key password cannot differ from it (keytool: \"Different store \
                 and key passwords not supported for PKCS12 KeyStores\"); change the store \
                 password instead",
            ),
            FormatError::BadCertificate(d) => write!(f, "invalid certificate: {d}"),
            FormatError::BadPrivateKey(d) => write!(f, "invalid private key: {d}"),
            FormatError::BadDistinguishedName(d) => write!(f, "invalid distinguished name: {d}"),
            FormatError::InvalidParameter(d) => f.write_str(d),
            FormatError::SignatureInvalid(d) => write!(f, "invalid signature: {d}"),
            FormatError::Crypto(d) => write!(f, "cryptographic operation failed: {d}"),
        }
    }
}

fn write_aliases(f: &mut fmt::Formatter<'_>, aliases: &[String]) -> fmt::Result {
    if aliases.is_empty() {
        return f.write_str("(none)");
    }
    for (i, a) in aliases.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{a}`")?;
    }
    Ok(())
}

impl std::error::Error for FormatError {}

/// Shorthand for results of this crate.
pub type Result<T, E = FormatError> = std::result::Result<T, E>;
