//! What a signature is for: the label a signer (a remote one above all) gets with each
//! message, so that it can check the request and audit what it signed.

use std::fmt;

/// What a to-be-signed message is, so a remote signer can check and audit it.
///
/// Serialized in kebab-case (`jar-signature-file`, `apk-v2-signed-data`, …), the form the
/// server's API and audit log use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Purpose {
    /// JAR signing (v1): the bytes of the `.SF` signature file.
    JarSignatureFile,
    /// APK Signature Scheme v2: a signer's signed-data.
    ApkV2SignedData,
    /// APK Signature Scheme v3: a signer's signed-data.
    ApkV3SignedData,
    /// APK Signature Scheme v4: the signed data of the `.idsig` file.
    ApkV4SignedData,
    /// A node of a v3 signing certificate lineage: the next certificate, signed by the key
    /// it rotates away from.
    LineageNode,
    /// IPA code signature: the DER of the CMS signed attributes.
    CmsSignedAttributes,
}

impl Purpose {
    /// Every purpose, in declaration order.
    pub const ALL: [Purpose; 6] = [
        Purpose::JarSignatureFile,
        Purpose::ApkV2SignedData,
        Purpose::ApkV3SignedData,
        Purpose::ApkV4SignedData,
        Purpose::LineageNode,
        Purpose::CmsSignedAttributes,
    ];

    /// The kebab-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::JarSignatureFile => "jar-signature-file",
            Purpose::ApkV2SignedData => "apk-v2-signed-data",
            Purpose::ApkV3SignedData => "apk-v3-signed-data",
            Purpose::ApkV4SignedData => "apk-v4-signed-data",
            Purpose::LineageNode => "lineage-node",
            Purpose::CmsSignedAttributes => "cms-signed-attributes",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_its_kebab_case_name_and_back() {
        for p in Purpose::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Purpose>(&json).unwrap(), p);
        }
        assert!(serde_json::from_str::<Purpose>("\"private-key\"").is_err());
    }

    #[test]
    fn signature_schemes_serialize_in_kebab_case() {
        use crate::SignatureScheme;
        for (scheme, name) in [
            (SignatureScheme::RsaPkcs1Sha256, "rsa-pkcs1-sha256"),
            (SignatureScheme::EcdsaSha256, "ecdsa-sha256"),
        ] {
            let json = serde_json::to_string(&scheme).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<SignatureScheme>(&json).unwrap(),
                scheme
            );
        }
    }
}
