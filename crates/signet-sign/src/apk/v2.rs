//! APK Signature Scheme v2: one signer block over the content digests of the whole APK.
//! <https://source.android.com/docs/security/features/apksigning/v2>
//!
//! ```text
//! signer := lp(signed_data) lp(signatures) lp(public_key)
//! signed_data := lp(digests) lp(certificates) lp(additional_attributes)
//! ```

use crate::{
    SignError,
    apk::{algorithms::ApkSigAlg, length_prefixed, scheme},
    key::{Purpose, SigningKey},
};

/// Block id in the APK Signing Block.
pub const BLOCK_ID: u32 = 0x7109_871a;
/// Additional attribute naming stronger schemes also present (stripping protection).
pub const STRIPPING_PROTECTION_ATTR: u32 = 0xbeef_f00d;
/// Scheme id of v3, the value of the stripping-protection attribute.
pub const V3_SCHEME_ID: u32 = 3;

/// The v2 signer for one key, awaiting its signature: `digest` is the content digest
/// under `alg`, and `v3_present` adds the stripping-protection attribute naming v3.
pub fn unsigned(
    key: &dyn SigningKey,
    alg: ApkSigAlg,
    digest: &[u8],
    v3_present: bool,
) -> Result<scheme::UnsignedSigner, SignError> {
    let mut attrs = Vec::new();
    if v3_present {
        let mut a = STRIPPING_PROTECTION_ATTR.to_le_bytes().to_vec();
        a.extend_from_slice(&V3_SCHEME_ID.to_le_bytes());
        length_prefixed::put(&mut attrs, &a);
    }
    let mut signed = Vec::new();
    length_prefixed::put(&mut signed, &scheme::digests(alg, digest));
    length_prefixed::put(&mut signed, &scheme::certificates(key));
    length_prefixed::put(&mut signed, &attrs);
    scheme::UnsignedSigner::new(alg, Purpose::ApkV2SignedData, signed, None)
}

/// Builds the v2 block value for one signer (one call to the key).
pub fn sign(
    key: &dyn SigningKey,
    alg: ApkSigAlg,
    digest: &[u8],
    v3_present: bool,
) -> Result<Vec<u8>, SignError> {
    unsigned(key, alg, digest, v3_present)?.sign(key)
}

/// Verifies a v2 block against the APK's content digests.
pub fn verify(
    block: &[u8],
    digests: &dyn Fn(crate::apk::signing_block::ContentDigest) -> Vec<u8>,
) -> scheme::SchemeResult {
    scheme::verify(
        block,
        crate::apk::Scheme::V2,
        digests,
        |_, _, attrs, result| {
            for a in attrs {
                let mut r = length_prefixed::Reader::new(a);
                if r.u32() == Some(STRIPPING_PROTECTION_ATTR) {
                    result.stripping_protection.extend(r.u32());
                }
            }
        },
    )
}
