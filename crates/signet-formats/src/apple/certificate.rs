//! What Apple's code-signing certificates say about themselves: their kind (from Apple's
//! extension OIDs 1.2.840.113635.100.6.1.x, then the subject's common name), the team id
//! (subject OU) and the name.

/// The kinds of Apple code-signing certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppleCertificateKind {
    /// Apple Distribution / iPhone Distribution (App Store, ad hoc, enterprise).
    Distribution,
    /// Apple Development / iPhone Developer.
    Development,
    /// Developer ID (macOS, outside the App Store).
    DeveloperId,
    /// An Apple-issued certificate of another kind.
    Other,
}

/// Apple-specific facts about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppleInfo {
    /// The certificate's kind.
    pub kind: AppleCertificateKind,
    /// The team id (subject OU), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The subject common name, e.g. `Apple Distribution: Acme Inc (A1B2C3D4E5)`.
    pub name: String,
}

const APPLE_CODE_SIGNING_ARC: &str = "1.2.840.113635.100.6.1.";

/// Classifies a certificate, or `None` when nothing marks it as an Apple code-signing one.
pub(crate) fn classify(
    common_name: Option<&str>,
    team_id: Option<&str>,
    extension_oids: &[String],
) -> Option<AppleInfo> {
    let by_oid = extension_oids.iter().find_map(|oid| {
        let leaf = oid.strip_prefix(APPLE_CODE_SIGNING_ARC)?;
        Some(match leaf {
            "2" | "12" => AppleCertificateKind::Development,
            "4" | "7" => AppleCertificateKind::Distribution,
            "13" | "14" | "33" => AppleCertificateKind::DeveloperId,
            _ => AppleCertificateKind::Other,
        })
    });
    let name = common_name.unwrap_or_default();
    let by_name = [
        ("Apple Distribution:", AppleCertificateKind::Distribution),
        ("iPhone Distribution:", AppleCertificateKind::Distribution),
        (
            "3rd Party Mac Developer",
            AppleCertificateKind::Distribution,
        ),
        ("Apple Development:", AppleCertificateKind::Development),
        ("iPhone Developer:", AppleCertificateKind::Development),
        ("Mac Developer:", AppleCertificateKind::Development),
        ("Developer ID ", AppleCertificateKind::DeveloperId),
    ]
    .iter()
    .find(|(prefix, _)| name.starts_with(prefix))
    .map(|(_, k)| *k);
    let kind = by_oid
        .filter(|k| *k != AppleCertificateKind::Other)
        .or(by_name)
        .or(by_oid)?;
    Some(AppleInfo {
        kind,
        team_id: team_id.map(str::to_owned),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! kind {
        ($name:ident, $cn:expr, $oids:expr, $expected:expr) => {
            #[test]
            fn $name() {
                let oids: Vec<String> = $oids.iter().map(|s: &&str| s.to_string()).collect();
                assert_eq!(
                    classify(Some($cn), Some("A1B2C3D4E5"), &oids).map(|i| i.kind),
                    $expected
                );
            }
        };
    }

    kind!(
        distribution_by_oid,
        "whatever",
        ["1.2.840.113635.100.6.1.4"],
        Some(AppleCertificateKind::Distribution)
    );
    kind!(
        development_by_oid,
        "whatever",
        ["1.2.840.113635.100.6.1.12"],
        Some(AppleCertificateKind::Development)
    );
    kind!(
        developer_id_by_oid,
        "x",
        ["1.2.840.113635.100.6.1.13"],
        Some(AppleCertificateKind::DeveloperId)
    );
    kind!(
        distribution_by_name,
        "Apple Distribution: Acme (A1B2C3D4E5)",
        [],
        Some(AppleCertificateKind::Distribution)
    );
    kind!(
        legacy_developer_by_name,
        "iPhone Developer: Jane (XYZ)",
        [],
        Some(AppleCertificateKind::Development)
    );
    kind!(
        unknown_apple_oid,
        "CN",
        ["1.2.840.113635.100.6.1.99"],
        Some(AppleCertificateKind::Other)
    );
    kind!(not_apple, "Android Upload Key", ["2.5.29.14"], None);
}
