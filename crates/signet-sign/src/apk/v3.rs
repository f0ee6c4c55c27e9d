//! APK Signature Scheme v3: v2's format plus the platform range each signer applies to
//! and the signing certificate lineage of key rotation (the proof-of-rotation attribute).
//! signet writes one signer for every platform from API 24 on, as apksigner 31 does, with
//! or without a lineage: after a rotation it is the newest key, and its lineage lets
//! platforms that know the app by an older key accept it.
//! <https://source.android.com/docs/security/features/apksigning/v3>
//!
//! ```text
//! signer := lp(signed_data) u32 min_sdk u32 max_sdk lp(signatures) lp(public_key)
//! signed_data := lp(digests) lp(certificates) u32 min_sdk u32 max_sdk lp(additional_attributes)
//! additional_attribute := lp(u32 id || value); proof-of-rotation: id 0x3ba06f8c, value the
//!                         encoded lineage (see `lineage`)
//! ```

use crate::{
    SignError,
    apk::{
        Finding,
        algorithms::ApkSigAlg,
        length_prefixed,
        lineage::{Lineage, LineageError, PROOF_OF_ROTATION_ATTR},
        scheme,
    },
    key::{Purpose, SigningKey},
};

/// Block id in the APK Signing Block.
pub const BLOCK_ID: u32 = 0xf053_68c0;
/// The signer's minimum platform, as apksigner writes it.
pub const MIN_SDK: u32 = 24;
/// "Every later platform".
pub const MAX_SDK: u32 = 0x7fff_ffff;

/// The v3 signer for one key, awaiting its signature: `digest` is the content digest
/// under `alg`, and `lineage` (whose newest certificate must be the signer's) becomes the
/// proof-of-rotation attribute.
pub fn unsigned(
    key: &dyn SigningKey,
    alg: ApkSigAlg,
    digest: &[u8],
    lineage: Option<&Lineage>,
) -> Result<scheme::UnsignedSigner, SignError> {
    let mut attrs = Vec::new();
    if let Some(lineage) = lineage {
        let mut a = PROOF_OF_ROTATION_ATTR.to_le_bytes().to_vec();
        a.extend_from_slice(&lineage.encode());
        length_prefixed::put(&mut attrs, &a);
    }
    let mut signed = Vec::new();
    length_prefixed::put(&mut signed, &scheme::digests(alg, digest));
    length_prefixed::put(&mut signed, &scheme::certificates(key));
    signed.extend_from_slice(&MIN_SDK.to_le_bytes());
    signed.extend_from_slice(&MAX_SDK.to_le_bytes());
    length_prefixed::put(&mut signed, &attrs);
    scheme::UnsignedSigner::new(
        alg,
        Purpose::ApkV3SignedData,
        signed,
        Some((MIN_SDK, MAX_SDK)),
    )
}

/// Builds the v3 block value for one signer (one call to the key).
pub fn sign(
    key: &dyn SigningKey,
    alg: ApkSigAlg,
    digest: &[u8],
    lineage: Option<&Lineage>,
) -> Result<Vec<u8>, SignError> {
    unsigned(key, alg, digest, lineage)?.sign(key)
}

/// Verifies a v3 block against the APK's content digests, and each signer's lineage as
/// apksig does: every certificate signed by the one before, the signer's certificate the
/// newest, and the signers' lineages parts of one.
pub fn verify(
    block: &[u8],
    digests: &dyn Fn(crate::apk::signing_block::ContentDigest) -> Vec<u8>,
) -> scheme::SchemeResult {
    let mut result = scheme::verify(
        block,
        crate::apk::Scheme::V3,
        digests,
        |n, signer, attrs, result| {
            for a in attrs {
                let mut r = length_prefixed::Reader::new(a);
                if r.u32() != Some(PROOF_OF_ROTATION_ATTR) {
                    continue;
                }
                let lineage = match Lineage::decode(&a[4..]) {
                    Ok(lineage) => lineage,
                    Err(LineageError::NotSignedByParent { child }) => {
                        result
                            .issues
                            .push(Finding::LineageDoesNotVerify { signer: n, child });
                        continue;
                    }
                    Err(error) => {
                        result
                            .issues
                            .push(Finding::LineageMalformed { signer: n, error });
                        continue;
                    }
                };
                let newest = lineage.nodes.last().map(|l| l.certificate.der());
                if newest != Some(signer.certificate.der()) {
                    result
                        .issues
                        .push(Finding::LineageCertificateMismatch { signer: n });
                    continue;
                }
                result.lineage = match result.lineage.take() {
                    None => Some(lineage),
                    Some(other) => {
                        let (short, long) = if other.nodes.len() <= lineage.nodes.len() {
                            (other, lineage)
                        } else {
                            (lineage, other)
                        };
                        let prefix = short
                            .nodes
                            .iter()
                            .zip(&long.nodes)
                            .all(|(a, b)| a.certificate.der() == b.certificate.der());
                        if !prefix {
                            result.issues.push(Finding::InconsistentLineages);
                        }
                        Some(long)
                    }
                };
            }
        },
    );
    if !result.issues.is_empty() {
        result.lineage = None;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    use signet_formats::{DistinguishedName, KeyAlgorithm, KeyEntry, generate};

    fn key(cn: &str) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).unwrap()
    }

    /// Signs a v3 block over an all-zero digest with `lineage` and verifies it.
    fn signed_with(signer: &KeyEntry, lineage: &Lineage) -> scheme::SchemeResult {
        let alg = ApkSigAlg::for_key(signer.algorithm());
        let block = sign(signer, alg, &[0; 32], Some(lineage)).unwrap();
        verify(&block, &|_| vec![0; 32])
    }

    #[test]
    fn accepts_a_lineage_ending_in_the_signer_and_returns_it() {
        let (old, new) = (key("old"), key("new"));
        let lineage = Lineage::rotate(&old, &new).unwrap();
        let r = signed_with(&new, &lineage);
        assert_eq!(r.issues, []);
        let got = r.lineage.expect("the lineage");
        assert_eq!(got.encode(), lineage.encode());
    }

    #[test]
    fn refuses_a_lineage_whose_certificate_is_not_signed_by_its_parent() {
        let (old, new) = (key("old"), key("new"));
        let mut lineage = Lineage::rotate(&old, &new).unwrap();
        let last = lineage.nodes[1].signature.len() - 1;
        lineage.nodes[1].signature[last] ^= 1;
        let r = signed_with(&new, &lineage);
        assert_eq!(
            r.issues,
            [Finding::LineageDoesNotVerify {
                signer: 1,
                child: 2
            }]
        );
        assert!(r.lineage.is_none() && r.signers.is_empty());
    }

    #[test]
    fn refuses_a_signer_that_is_not_the_newest_of_its_lineage() {
        let (old, new) = (key("old"), key("new"));
        let lineage = Lineage::rotate(&old, &new).unwrap();
        // The old key signs, carrying a lineage that rotated away from it.
        let r = signed_with(&old, &lineage);
        assert_eq!(
            r.issues,
            [Finding::LineageCertificateMismatch { signer: 1 }]
        );
    }

    #[test]
    fn refuses_a_proof_of_rotation_that_is_not_a_lineage() {
        let signer = key("k");
        let alg = ApkSigAlg::for_key(signer.algorithm());
        let mut attrs = Vec::new();
        let mut a = PROOF_OF_ROTATION_ATTR.to_le_bytes().to_vec();
        a.extend_from_slice(&[9, 0, 0, 0]);
        length_prefixed::put(&mut attrs, &a);
        let mut signed = Vec::new();
        length_prefixed::put(&mut signed, &scheme::digests(alg, &[0; 32]));
        length_prefixed::put(&mut signed, &scheme::certificates(&signer));
        signed.extend_from_slice(&MIN_SDK.to_le_bytes());
        signed.extend_from_slice(&MAX_SDK.to_le_bytes());
        length_prefixed::put(&mut signed, &attrs);
        let block = scheme::UnsignedSigner::new(
            alg,
            Purpose::ApkV3SignedData,
            signed,
            Some((MIN_SDK, MAX_SDK)),
        )
        .unwrap()
        .sign(&signer)
        .unwrap();
        let r = verify(&block, &|_| vec![0; 32]);
        assert_eq!(
            r.issues,
            [Finding::LineageMalformed {
                signer: 1,
                error: LineageError::Malformed("unknown version".into())
            }]
        );
        assert_eq!(
            r.issues[0].to_string(),
            "APK Signature Scheme v3 signer #1: proof-of-rotation attribute: not a signing \
             certificate lineage: unknown version"
        );
    }
}
