//! APK Signature Scheme v3: v2's format plus the platform range each signer applies to
//! (which lets keys rotate). signet writes one signer for every platform from API 24 on,
//! as apksigner does without a rotation lineage.
//! <https://source.android.com/docs/security/features/apksigning/v3>
//!
//! ```text
//! signer := lp(signed_data) u32 min_sdk u32 max_sdk lp(signatures) lp(public_key)
//! signed_data := lp(digests) lp(certificates) u32 min_sdk u32 max_sdk lp(additional_attributes)
//! ```

use crate::{
    SignError,
    apk::{algorithms::ApkSigAlg, length_prefixed, scheme},
    key::SigningKey,
};

/// Block id in the APK Signing Block.
pub const BLOCK_ID: u32 = 0xf053_68c0;
/// The signer's minimum platform, as apksigner writes it.
pub const MIN_SDK: u32 = 24;
/// "Every later platform".
pub const MAX_SDK: u32 = 0x7fff_ffff;

/// Builds the v3 block value for one signer.
pub fn sign(key: &dyn SigningKey, alg: ApkSigAlg, digest: &[u8]) -> Result<Vec<u8>, SignError> {
    let mut signed = Vec::new();
    length_prefixed::put(&mut signed, &scheme::digests(alg, digest));
    length_prefixed::put(&mut signed, &scheme::certificates(key));
    signed.extend_from_slice(&MIN_SDK.to_le_bytes());
    signed.extend_from_slice(&MAX_SDK.to_le_bytes());
    length_prefixed::put(&mut signed, &[]);
    let signer = scheme::signer(key, alg, &signed, Some((MIN_SDK, MAX_SDK)))?;
    // The value is a length-prefixed sequence of length-prefixed signers.
    let mut value = Vec::new();
    length_prefixed::put(&mut value, &length_prefixed::seq([signer.as_slice()]));
    Ok(value)
}

/// Verifies a v3 block against the APK's content digests.
pub fn verify(
    block: &[u8],
    digests: &dyn Fn(crate::apk::signing_block::ContentDigest) -> Vec<u8>,
) -> scheme::SchemeResult {
    scheme::verify(block, crate::apk::Scheme::V3, digests, |_, _| {})
}
