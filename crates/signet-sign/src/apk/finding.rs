//! What APK verification can find wrong: one variant per cause, as apksig's
//! `ApkVerifier.Issue`. `Display` gives the sentence `signet apk verify` prints after
//! `ERROR: ` (and `--json` lists), worded after apksigner's.

use std::fmt;

use signet_formats::FormatError;

use crate::apk::lineage::LineageError;

/// An APK Signature Scheme that lives in the APK Signing Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// APK Signature Scheme v2.
    V2,
    /// APK Signature Scheme v3.
    V3,
}

impl Scheme {
    /// The scheme's number (2 or 3), as `X-Android-APK-Signed` and v2's stripping
    /// protection name it.
    pub fn id(self) -> u32 {
        match self {
            Scheme::V2 => 2,
            Scheme::V3 => 3,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.id())
    }
}

/// One reason an APK or AAB does not verify.
///
/// Variants for a v2/v3 signer carry the scheme and the signer's 1-based position in the
/// block; JAR (v1) variants carry the names of the files involved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    // --- v2 / v3 ---
    /// The scheme's block holds no parsable, non-empty list of signers.
    NoSigners {
        /// The scheme.
        scheme: Scheme,
    },
    /// A signer's block does not follow the length-prefixed grammar.
    MalformedSigner {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A v3 signer's SDK range differs from the one in its signed data.
    SdkRangeMismatch {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A v3 signer's SDK range whose minimum is above its maximum.
    InvalidSdkRange {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
        /// The range's minimum.
        min: u32,
        /// The range's maximum.
        max: u32,
    },
    /// A signer's signed data lists no certificate.
    NoCertificates {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A signer's first certificate cannot be parsed.
    MalformedCertificate {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
        /// Why it cannot.
        error: FormatError,
    },
    /// A signer's public key is not its first certificate's.
    PublicKeyMismatch {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A signer carries no signature.
    NoSignatures {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A signer's signature over its signed data does not verify.
    SignatureDoesNotVerify {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
        /// The signature algorithm id (e.g. `0x0103`, RSA PKCS#1 v1.5 with SHA-256).
        algorithm: u32,
    },
    /// A signer's signature could not be checked at all (e.g. a key the algorithm cannot use).
    SignatureUnusable {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
        /// Why.
        error: FormatError,
    },
    /// None of a signer's signatures uses an algorithm signet knows.
    NoSupportedSignature {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// The APK's content digest is not the one the signer signed: the APK was modified.
    ContentDigestMismatch {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// A signer's signature algorithms are not those of its digests.
    AlgorithmsDiffer {
        /// The scheme.
        scheme: Scheme,
        /// The signer's position, from 1.
        signer: usize,
    },
    /// v2's stripping-protection attribute names v3, and there is no v3 block.
    V3Stripped,
    /// A v3 signer's proof-of-rotation attribute is not a lineage.
    LineageMalformed {
        /// The signer's position, from 1.
        signer: usize,
        /// Why.
        error: LineageError,
    },
    /// A certificate of a v3 signer's lineage is not signed by the one before it.
    LineageDoesNotVerify {
        /// The signer's position, from 1.
        signer: usize,
        /// The certificate's position in the lineage, from 1.
        child: usize,
    },
    /// A v3 signer's certificate is not the newest of its lineage.
    LineageCertificateMismatch {
        /// The signer's position, from 1.
        signer: usize,
    },
    /// The v3 signers' lineages are not all parts of one lineage.
    InconsistentLineages,

    // --- v1 (JAR signing) ---
    /// No `META-INF/MANIFEST.MF` (among the JAR signature files read).
    V1NoManifest,
    /// `META-INF/MANIFEST.MF` cannot be parsed.
    V1MalformedManifest,
    /// The manifest has two sections for one name.
    V1DuplicateManifestSection {
        /// The entry name.
        name: String,
    },
    /// No `.SF` signature file.
    V1NoSignatureFile,
    /// A `.SF` without its `.RSA`/`.EC`/`.DSA` block.
    V1NoSignatureBlock {
        /// The `.SF` file.
        signature_file: String,
    },
    /// A signature block that does not verify over its `.SF`.
    V1BlockDoesNotVerify {
        /// The `.SF` file.
        signature_file: String,
        /// Why.
        error: FormatError,
    },
    /// A `.SF` that cannot be parsed.
    V1MalformedSignatureFile {
        /// The `.SF` file.
        signature_file: String,
    },
    /// A `.SF` with no main section.
    V1EmptySignatureFile {
        /// The `.SF` file.
        signature_file: String,
    },
    /// A `.SF` section for a name the manifest has no section for.
    V1SectionNotInManifest {
        /// The `.SF` file.
        signature_file: String,
        /// The entry name.
        name: String,
    },
    /// A `.SF` section whose digest does not match the manifest's section.
    V1SectionDigestMismatch {
        /// The `.SF` file.
        signature_file: String,
        /// The entry name.
        name: String,
    },
    /// An entry a signer's `.SF` does not name.
    V1EntryNotSigned {
        /// The entry name.
        entry: String,
        /// The `.SF` file.
        signature_file: String,
    },
    /// An entry whose manifest section has no digest.
    V1NoEntryDigest {
        /// The entry name.
        entry: String,
    },
    /// An entry whose data does not match its manifest digest.
    V1EntryDigestMismatch {
        /// The entry name.
        entry: String,
    },
    /// The manifest names an entry the archive does not hold.
    V1EntryMissing {
        /// The entry name.
        name: String,
    },
    /// `X-Android-APK-Signed` names a scheme whose block is absent.
    StrippedPerJar {
        /// The scheme the JAR signature names.
        scheme: Scheme,
    },

    // --- v4 (the `.idsig` given to verify) ---
    /// The `.idsig` does not follow the v4 format.
    V4Malformed {
        /// What is wrong.
        detail: &'static str,
    },
    /// A v4 signer's signature algorithm is not one signet knows.
    V4UnknownAlgorithm {
        /// The signature algorithm id.
        algorithm: u32,
    },
    /// A v4 signer's certificate cannot be parsed.
    V4MalformedCertificate {
        /// Why.
        error: FormatError,
    },
    /// A v4 signer's public key is not its certificate's.
    V4PublicKeyMismatch,
    /// A v4 signer's signature over its signed data does not verify.
    V4SignatureDoesNotVerify {
        /// The signature algorithm id.
        algorithm: u32,
    },
    /// A v4 signer's signature could not be checked at all.
    V4SignatureUnusable {
        /// Why.
        error: FormatError,
    },
    /// The `.idsig`'s Merkle tree root is not the APK's: it is another APK's, or the APK
    /// changed.
    V4RootHashMismatch,
    /// The `.idsig`'s Merkle tree is not the APK's.
    V4TreeMismatch,
    /// A v4 signature needs a v2 or v3 signature to verify, and none did.
    V4WithoutV2V3,
    /// The v4 signers are not as many as the v3 (and v3.1) or v2 signers.
    V4SignerCount,
    /// The v4 signer's certificate is not the v3 (or v2) signer's.
    V4SignerMismatch,
    /// The APK digest the v4 signer signed is not the v3 (or v2) signer's.
    V4DigestMismatch,

    // --- across schemes ---
    /// The schemes that verified have different signers.
    SignersDiffer,
    /// The v1/v2 signer is neither the v3 signer nor the oldest certificate of the v3
    /// signer's lineage.
    PastSignersMismatch,
    /// More than one v1 or v2 signer beside a v3 signer.
    MultiplePastSigners,
    /// No signature of any scheme.
    NoSignaturesFound,
    /// No JAR signature, which platforms below API 24 need.
    V1Needed {
        /// The min SDK verification assumed.
        min_sdk: u32,
    },
    /// v3 alone, which platforms below API 28 cannot verify.
    OnlyV3 {
        /// The min SDK verification assumed.
        min_sdk: u32,
    },
    /// Target SDK 30 or later with neither v2 nor v3 (Android 11's rule).
    V2NeededForTarget {
        /// The manifest's target SDK (the min SDK where it names none).
        target_sdk: u32,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Finding as F;
        let signer = |f: &mut fmt::Formatter<'_>, scheme: &Scheme, n: &usize| {
            write!(f, "APK Signature Scheme {scheme} signer #{n}: ")
        };
        match self {
            F::NoSigners { scheme } => write!(
                f,
                "APK Signature Scheme {scheme}: malformed or empty list of signers"
            ),
            F::MalformedSigner { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("malformed signer block")
            }
            F::SdkRangeMismatch { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("SDK range of signed data differs from the signer's")
            }
            F::InvalidSdkRange {
                scheme,
                signer: n,
                min,
                max,
            } => {
                signer(f, scheme, n)?;
                write!(f, "invalid SDK range {min}..{max}")
            }
            F::NoCertificates { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("no certificates")
            }
            F::MalformedCertificate {
                scheme,
                signer: n,
                error,
            } => {
                signer(f, scheme, n)?;
                write!(f, "certificate: {error}")
            }
            F::PublicKeyMismatch { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("public key does not match the first certificate")
            }
            F::NoSignatures { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("no signatures")
            }
            F::SignatureDoesNotVerify {
                scheme,
                signer: n,
                algorithm,
            } => {
                signer(f, scheme, n)?;
                write!(f, "signature ({algorithm:#06x}) does not verify")
            }
            F::SignatureUnusable {
                scheme,
                signer: n,
                error,
            } => {
                signer(f, scheme, n)?;
                write!(f, "{error}")
            }
            F::NoSupportedSignature { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("no signature with a supported algorithm")
            }
            F::ContentDigestMismatch { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str(
                    "APK content digest does not match (the APK was modified after signing)",
                )
            }
            F::AlgorithmsDiffer { scheme, signer: n } => {
                signer(f, scheme, n)?;
                f.write_str("signature algorithms differ from digest algorithms")
            }
            F::V3Stripped => f.write_str(
                "APK Signature Scheme v2 says a v3 signature is present, but it is not (stripped?)",
            ),
            F::LineageMalformed { signer: n, error } => {
                signer(f, &Scheme::V3, n)?;
                write!(f, "proof-of-rotation attribute: {error}")
            }
            F::LineageDoesNotVerify { signer: n, child } => {
                signer(f, &Scheme::V3, n)?;
                write!(
                    f,
                    "proof-of-rotation: certificate #{child} of the lineage is not signed by \
                     certificate #{}",
                    child - 1
                )
            }
            F::LineageCertificateMismatch { signer: n } => {
                signer(f, &Scheme::V3, n)?;
                f.write_str("signing certificate is not the newest certificate of its lineage")
            }
            F::InconsistentLineages => f.write_str(
                "APK Signature Scheme v3: the signers' lineages are not all part of one lineage",
            ),
            F::V1NoManifest => f.write_str("JAR signature: missing META-INF/MANIFEST.MF"),
            F::V1MalformedManifest => f.write_str("JAR signature: malformed META-INF/MANIFEST.MF"),
            F::V1DuplicateManifestSection { name } => write!(
                f,
                "JAR signature: META-INF/MANIFEST.MF names `{name}` twice"
            ),
            F::V1NoSignatureFile => f.write_str("JAR signature: no .SF signature file"),
            F::V1NoSignatureBlock { signature_file } => {
                write!(f, "JAR signature: {signature_file} has no signature block")
            }
            F::V1BlockDoesNotVerify {
                signature_file,
                error,
            } => write!(f, "JAR signature: {signature_file}: {error}"),
            F::V1MalformedSignatureFile { signature_file } => {
                write!(f, "JAR signature: malformed {signature_file}")
            }
            F::V1EmptySignatureFile { signature_file } => {
                write!(f, "JAR signature: empty {signature_file}")
            }
            F::V1SectionNotInManifest {
                signature_file,
                name,
            } => write!(
                f,
                "JAR signature: {signature_file} names `{name}`, which the manifest does not"
            ),
            F::V1SectionDigestMismatch {
                signature_file,
                name,
            } => write!(
                f,
                "JAR signature: {signature_file} does not match the manifest section of `{name}`"
            ),
            F::V1EntryNotSigned {
                entry,
                signature_file,
            } => write!(
                f,
                "JAR signature: `{entry}` is not signed by {signature_file}"
            ),
            F::V1NoEntryDigest { entry } => write!(f, "JAR signature: no digest for `{entry}`"),
            F::V1EntryDigestMismatch { entry } => write!(
                f,
                "JAR signature: digest of `{entry}` does not match the manifest"
            ),
            F::V1EntryMissing { name } => write!(
                f,
                "JAR signature: manifest lists `{name}`, which is not in the archive"
            ),
            F::StrippedPerJar { scheme } => write!(
                f,
                "JAR signature says an APK Signature Scheme {scheme} signature is present, \
                 but it is not (stripped?)"
            ),
            F::V4Malformed { detail } => write!(f, "V4 signature file: {detail}"),
            F::V4UnknownAlgorithm { algorithm } => {
                write!(
                    f,
                    "V4 signature has unknown signing algorithm: {algorithm:#x}"
                )
            }
            F::V4MalformedCertificate { error } => {
                write!(f, "V4 signature has malformed certificate: {error}")
            }
            F::V4PublicKeyMismatch => {
                f.write_str("V4 signature has mismatched certificate and signature")
            }
            F::V4SignatureDoesNotVerify { algorithm } => write!(
                f,
                "V4 signature ({algorithm:#06x}) over signed-data did not verify"
            ),
            F::V4SignatureUnusable { error } => {
                write!(f, "V4 signature could not be verified: {error}")
            }
            F::V4RootHashMismatch => f.write_str(
                "V4 signature's hash tree root (content digest) did not verify \
                 (the .idsig is another APK's, or the APK was modified)",
            ),
            F::V4TreeMismatch => f.write_str("V4 signature's hash tree did not verify"),
            F::V4WithoutV2V3 => {
                f.write_str("V4 signature needs a verified v2 or v3 signature, and there is none")
            }
            F::V4SignerCount => f.write_str("V4 signature only supports one signer"),
            F::V4SignerMismatch => {
                f.write_str("V4 signature and V2/V3 signature have mismatched certificates")
            }
            F::V4DigestMismatch => {
                f.write_str("V4 signature and V2/V3 signature have mismatched digests")
            }
            F::SignersDiffer => f.write_str("signers differ between signature schemes"),
            F::PastSignersMismatch => f.write_str(
                "v3 signer differs from v1/v2 signer without proper signing certificate lineage",
            ),
            F::MultiplePastSigners => f.write_str(
                "multiple v1/v2 signers beside an APK Signature Scheme v3 signer; only one allowed",
            ),
            F::NoSignaturesFound => f.write_str("no signatures found"),
            F::V1Needed { min_sdk } => write!(
                f,
                "no JAR signature (v1), which Android below API 24 needs (min SDK {min_sdk})"
            ),
            F::OnlyV3 { min_sdk } => write!(
                f,
                "only a v3 signature, which Android below API 28 cannot verify (min SDK {min_sdk})"
            ),
            F::V2NeededForTarget { target_sdk } => write!(
                f,
                "target SDK version {target_sdk} requires a minimum of signature scheme v2; \
                 the APK is not signed with this or a later signature scheme"
            ),
        }
    }
}

/// Serialized as its sentence, as `--json` has always listed findings.
impl serde::Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentences `signet apk verify` has always printed (worded after apksigner's),
    /// one per kind of cause: the typed findings render them unchanged.
    #[test]
    fn findings_render_the_sentences_verify_prints() {
        let sf = || "META-INF/UPLOAD.SF".to_owned();
        let cases: Vec<(Finding, &str)> = vec![
            (
                Finding::NoSigners { scheme: Scheme::V3 },
                "APK Signature Scheme v3: malformed or empty list of signers",
            ),
            (
                Finding::ContentDigestMismatch {
                    scheme: Scheme::V2,
                    signer: 1,
                },
                "APK Signature Scheme v2 signer #1: APK content digest does not match \
                 (the APK was modified after signing)",
            ),
            (
                Finding::SignatureDoesNotVerify {
                    scheme: Scheme::V2,
                    signer: 1,
                    algorithm: 0x0103,
                },
                "APK Signature Scheme v2 signer #1: signature (0x0103) does not verify",
            ),
            (
                Finding::InvalidSdkRange {
                    scheme: Scheme::V3,
                    signer: 2,
                    min: 30,
                    max: 24,
                },
                "APK Signature Scheme v3 signer #2: invalid SDK range 30..24",
            ),
            (
                Finding::LineageDoesNotVerify {
                    signer: 1,
                    child: 2,
                },
                "APK Signature Scheme v3 signer #1: proof-of-rotation: certificate #2 of the \
                 lineage is not signed by certificate #1",
            ),
            (
                Finding::PastSignersMismatch,
                "v3 signer differs from v1/v2 signer without proper signing certificate lineage",
            ),
            (
                Finding::V3Stripped,
                "APK Signature Scheme v2 says a v3 signature is present, but it is not (stripped?)",
            ),
            (
                Finding::StrippedPerJar { scheme: Scheme::V2 },
                "JAR signature says an APK Signature Scheme v2 signature is present, but it is \
                 not (stripped?)",
            ),
            (
                Finding::V1EntryNotSigned {
                    entry: "extra.txt".into(),
                    signature_file: sf(),
                },
                "JAR signature: `extra.txt` is not signed by META-INF/UPLOAD.SF",
            ),
            (
                Finding::V1SectionDigestMismatch {
                    signature_file: sf(),
                    name: "a.txt".into(),
                },
                "JAR signature: META-INF/UPLOAD.SF does not match the manifest section of `a.txt`",
            ),
            (
                Finding::V1Needed { min_sdk: 21 },
                "no JAR signature (v1), which Android below API 24 needs (min SDK 21)",
            ),
            (
                Finding::V2NeededForTarget { target_sdk: 33 },
                "target SDK version 33 requires a minimum of signature scheme v2; the APK is \
                 not signed with this or a later signature scheme",
            ),
        ];
        for (finding, text) in cases {
            assert_eq!(finding.to_string(), text, "{finding:?}");
            // `--json` lists the same sentence.
            assert_eq!(
                serde_json::to_value(&finding).unwrap(),
                serde_json::Value::String(text.to_owned())
            );
        }
    }
}
