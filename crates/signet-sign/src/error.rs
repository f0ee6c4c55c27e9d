//! Errors of signing and verification.

use std::fmt;

use signet_formats::FormatError;

/// A ZIP archive signet cannot or will not process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZipError {
    /// No end of central directory record: not a ZIP archive.
    NotZip,
    /// A structure ends before its declared size.
    Truncated(&'static str),
    /// ZIP64 records: not used by APKs, refused.
    Zip64,
    /// A multi-disk archive.
    MultiDisk,
    /// Two entries with the same name (a known APK attack vector).
    DuplicateEntry(String),
    /// An entry name that is absolute, has `..` components, backslashes or NUL.
    BadName(String),
    /// Records that contradict each other.
    Malformed(String),
    /// A feature APKs do not use (encryption, unknown compression).
    Unsupported(String),
}

impl fmt::Display for ZipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZipError::NotZip => {
                f.write_str("not a ZIP archive (no end of central directory record)")
            }
            ZipError::Truncated(what) => write!(f, "ZIP archive is truncated: {what} ends early"),
            ZipError::Zip64 => {
                f.write_str("ZIP64 archives are not supported (APKs never need ZIP64)")
            }
            ZipError::MultiDisk => f.write_str("multi-disk ZIP archives are not supported"),
            ZipError::DuplicateEntry(n) => write!(f, "duplicate ZIP entry `{n}`"),
            ZipError::BadName(n) => write!(f, "unsafe ZIP entry name `{}`", n.escape_debug()),
            ZipError::Malformed(d) => write!(f, "malformed ZIP archive: {d}"),
            ZipError::Unsupported(d) => write!(f, "unsupported ZIP feature: {d}"),
        }
    }
}

/// Why signing or verification could not be carried out (as opposed to a verification
/// that ran and found problems, which is a [`crate::VerifyReport`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum SignError {
    /// Reading or writing a file failed.
    Io(std::io::Error),
    /// The archive is not one signet accepts.
    Zip(ZipError),
    /// A key or certificate problem.
    Format(FormatError),
    /// The binary AndroidManifest.xml could not be read.
    Manifest(String),
    /// The signing configuration cannot be honoured (e.g. ECDSA v1 below API 18).
    Config(String),
    /// The debug certificate was about to sign a release.
    DebugKey,
    /// An IPA signet cannot sign.
    Ipa(IpaError),
    /// The signing key returned a number of signatures other than the messages it was
    /// given.
    SignatureCount {
        /// Messages in the batch.
        expected: usize,
        /// Signatures returned.
        returned: usize,
    },
    /// The signing key could not sign (a remote signer unreachable or refusing, an HSM
    /// error). The error must not carry secrets; it is shown to the user.
    Key(Box<dyn std::error::Error + Send + Sync>),
}

/// Why an IPA could not be signed.
#[derive(Debug)]
#[non_exhaustive]
pub enum IpaError {
    /// The archive is not laid out as an app (`Payload/<Name>.app`, one of it).
    Layout(&'static str),
    /// The app's Info.plist cannot be read, or lacks what signing needs.
    InfoPlist(String),
    /// The profile's entitlements cannot be written for the signature.
    Entitlements(String),
    /// The identity has no certificate, or a key or certificate the signer cannot use.
    Identity(String),
    /// A check of `signet ios check` fails for this identity, profile and app.
    Check {
        /// The check's name.
        check: String,
        /// What it found.
        detail: String,
    },
    /// apple-codesign failed to sign a bundle.
    Codesign(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for IpaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpaError::Layout(what) => write!(f, "not an app archive: {what}"),
            IpaError::InfoPlist(d) => write!(f, "Info.plist: {d}"),
            IpaError::Entitlements(d) => write!(f, "entitlements: {d}"),
            IpaError::Identity(d) => write!(f, "the signing identity cannot be used: {d}"),
            IpaError::Check { check, detail } => {
                write!(f, "refusing to sign ({check}): {detail}")
            }
            IpaError::Codesign(e) => write!(f, "code signing failed: {e}"),
        }
    }
}

impl std::error::Error for IpaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IpaError::Codesign(e) => Some(&**e),
            _ => None,
        }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Io(e) => write!(f, "{e}"),
            SignError::Zip(e) => write!(f, "{e}"),
            SignError::Format(e) => write!(f, "{e}"),
            SignError::Manifest(d) => write!(f, "cannot read AndroidManifest.xml: {d}"),
            SignError::Config(d) => f.write_str(d),
            SignError::Ipa(e) => write!(f, "{e}"),
            SignError::SignatureCount { expected, returned } => write!(
                f,
                "the signing key returned {returned} signature(s) for {expected} message(s)"
            ),
            SignError::Key(e) => write!(f, "the signing key could not sign: {e}"),
            SignError::DebugKey => f.write_str(
                "refusing to sign with the Android debug certificate: Google Play rejects such apps \
                 (\"Market does not accept apks signed with the debug certificate\")",
            ),
        }
    }
}

impl std::error::Error for SignError {
    /// The wrapped error, so that callers (the CLI's hints) can look through to it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SignError::Io(e) => Some(e),
            SignError::Format(e) => Some(e),
            SignError::Ipa(e) => Some(e),
            SignError::Key(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<IpaError> for SignError {
    fn from(e: IpaError) -> SignError {
        SignError::Ipa(e)
    }
}

impl From<std::io::Error> for SignError {
    fn from(e: std::io::Error) -> SignError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return SignError::Zip(ZipError::Truncated("archive"));
        }
        SignError::Io(e)
    }
}

impl From<ZipError> for SignError {
    fn from(e: ZipError) -> SignError {
        SignError::Zip(e)
    }
}

impl From<FormatError> for SignError {
    fn from(e: FormatError) -> SignError {
        SignError::Format(e)
    }
}
