//! What IPA verification can find wrong: one variant per cause. `Display` gives the
//! sentence `signet ipa verify` prints after `ERROR: ` (and `--json` lists); a finding
//! about one bundle starts with the bundle's path inside the IPA.

use std::fmt;

use signet_formats::FormatError;

/// One reason an IPA does not verify.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IpaFinding {
    // --- one bundle (the main one or a nested .app/.appex/.framework) ---
    /// The bundle's Info.plist cannot be read.
    InfoPlist {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// Why.
        reason: String,
    },
    /// Info.plist names no executable.
    NoExecutable {
        /// The bundle's path inside the IPA.
        bundle: String,
    },
    /// The executable Info.plist names cannot be read.
    ExecutableUnreadable {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
        /// Why.
        reason: String,
    },
    /// apple-codesign's verification of the executable's signature found a problem
    /// (a code directory hash, the CMS signature, …).
    CodeSignature {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
        /// The problem, as apple-codesign words it.
        problem: String,
    },
    /// The executable is not a Mach-O whose signature can be read.
    MalformedMachO {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
        /// Why.
        reason: String,
    },
    /// The executable has no code signature.
    NotSigned {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
    },
    /// The executable's signature has no code directory.
    NoCodeDirectory {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
    },
    /// The bundle has no `_CodeSignature/CodeResources`.
    NoCodeResources {
        /// The bundle's path inside the IPA.
        bundle: String,
    },
    /// CodeResources is not the file the code directory seals.
    ResourceSealMismatch {
        /// The bundle's path inside the IPA.
        bundle: String,
    },
    /// CodeResources is not a property list.
    MalformedCodeResources {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// Why.
        reason: String,
    },
    /// CodeResources has no `files2` dictionary.
    NoSealedFiles {
        /// The bundle's path inside the IPA.
        bundle: String,
    },
    /// A sealed file whose content changed.
    ResourceModified {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The file, relative to the bundle.
        file: String,
    },
    /// A sealed file that is not there.
    ResourceMissing {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The file, relative to the bundle.
        file: String,
    },
    /// The signed entitlements cannot be read.
    MalformedEntitlements {
        /// The bundle's path inside the IPA.
        bundle: String,
        /// The executable's name.
        executable: String,
        /// Why.
        reason: String,
    },

    // --- the embedded profile and the signer ---
    /// The main bundle has no `embedded.mobileprovision`.
    NoProfile,
    /// `embedded.mobileprovision` cannot be parsed.
    MalformedProfile {
        /// Why.
        error: FormatError,
    },
    /// The profile's CMS signature does not verify.
    ProfileModified,
    /// The main bundle's identifier is not one the profile allows.
    BundleIdMismatch {
        /// The bundle's CFBundleIdentifier.
        bundle_id: String,
        /// The profile's application identifier.
        application_identifier: String,
    },
    /// A signed entitlement the profile does not grant at all.
    EntitlementNotGranted {
        /// The entitlement.
        key: String,
    },
    /// A signed entitlement whose value is outside what the profile grants.
    EntitlementOutsideProfile {
        /// The entitlement.
        key: String,
        /// The signed value.
        value: serde_json::Value,
        /// What the profile grants.
        granted: serde_json::Value,
    },
    /// The signer's certificate is not one of the profile's.
    SignerNotInProfile {
        /// The signer's subject.
        subject: String,
    },
    /// The main bundle's signature names no signing certificate.
    NoSigningCertificate,
}

impl fmt::Display for IpaFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use IpaFinding as F;
        match self {
            F::InfoPlist { bundle, reason } => write!(f, "{bundle}: {reason}"),
            F::NoExecutable { bundle } => {
                write!(f, "{bundle}: Info.plist has no CFBundleExecutable")
            }
            F::ExecutableUnreadable {
                bundle,
                executable,
                reason,
            }
            | F::MalformedMachO {
                bundle,
                executable,
                reason,
            } => write!(f, "{bundle}: {executable}: {reason}"),
            F::CodeSignature {
                bundle,
                executable,
                problem,
            } => write!(f, "{bundle}: {executable}: {problem}"),
            F::NotSigned { bundle, executable } => {
                write!(f, "{bundle}: {executable} is not signed")
            }
            F::NoCodeDirectory { bundle, executable } => {
                write!(f, "{bundle}: {executable} has no code directory")
            }
            F::NoCodeResources { bundle } => {
                write!(f, "{bundle}: no _CodeSignature/CodeResources")
            }
            F::ResourceSealMismatch { bundle } => write!(
                f,
                "{bundle}: CodeResources does not match the code directory's resource seal"
            ),
            F::MalformedCodeResources { bundle, reason } => {
                write!(f, "{bundle}: CodeResources: {reason}")
            }
            F::NoSealedFiles { bundle } => write!(f, "{bundle}: CodeResources has no files2"),
            F::ResourceModified { bundle, file } => {
                write!(f, "{bundle}: {file} was modified after signing")
            }
            F::ResourceMissing { bundle, file } => {
                write!(f, "{bundle}: {file} is sealed but missing")
            }
            F::MalformedEntitlements {
                bundle,
                executable,
                reason,
            } => write!(f, "{bundle}: {executable}: signed entitlements: {reason}"),
            F::NoProfile => f.write_str("no embedded.mobileprovision"),
            F::MalformedProfile { error } => write!(f, "embedded.mobileprovision: {error}"),
            F::ProfileModified => {
                f.write_str("embedded.mobileprovision was modified after Apple signed it")
            }
            F::BundleIdMismatch {
                bundle_id,
                application_identifier,
            } => write!(
                f,
                "bundle id {bundle_id} does not match the profile's {application_identifier}"
            ),
            F::EntitlementNotGranted { key } => write!(
                f,
                "entitlement `{key}` is not granted by the embedded profile"
            ),
            F::EntitlementOutsideProfile {
                key,
                value,
                granted,
            } => write!(
                f,
                "entitlement `{key}` = {value} is outside what the profile grants ({granted})"
            ),
            F::SignerNotInProfile { subject } => write!(
                f,
                "the signer ({subject}) is not a certificate of the embedded profile"
            ),
            F::NoSigningCertificate => {
                f.write_str("the main bundle carries no signing certificate")
            }
        }
    }
}

/// Serialized as its sentence, as `--json` has always listed findings.
impl serde::Serialize for IpaFinding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentences `signet ipa verify` has always printed, one per kind of cause: the
    /// typed findings render them unchanged.
    #[test]
    fn findings_render_the_sentences_verify_prints() {
        let bundle = || "Payload/Demo.app".to_owned();
        let cases: Vec<(IpaFinding, &str)> = vec![
            (
                IpaFinding::ResourceModified {
                    bundle: bundle(),
                    file: "assets/data.txt".into(),
                },
                "Payload/Demo.app: assets/data.txt was modified after signing",
            ),
            (
                IpaFinding::ResourceSealMismatch { bundle: bundle() },
                "Payload/Demo.app: CodeResources does not match the code directory's resource seal",
            ),
            (
                IpaFinding::NotSigned {
                    bundle: bundle(),
                    executable: "Demo".into(),
                },
                "Payload/Demo.app: Demo is not signed",
            ),
            (
                IpaFinding::ProfileModified,
                "embedded.mobileprovision was modified after Apple signed it",
            ),
            (
                IpaFinding::EntitlementOutsideProfile {
                    key: "aps-environment".into(),
                    value: serde_json::json!("production"),
                    granted: serde_json::json!("development"),
                },
                "entitlement `aps-environment` = \"production\" is outside what the profile \
                 grants (\"development\")",
            ),
            (
                IpaFinding::SignerNotInProfile {
                    subject: "CN=Other".into(),
                },
                "the signer (CN=Other) is not a certificate of the embedded profile",
            ),
        ];
        for (finding, text) in cases {
            assert_eq!(finding.to_string(), text, "{finding:?}");
            assert_eq!(
                serde_json::to_value(&finding).unwrap(),
                serde_json::Value::String(text.to_owned())
            );
        }
    }
}
