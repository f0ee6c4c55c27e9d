//! What v2 and v3 share: encoding a signer (built, then signed, then framed), and
//! verifying one.

use signet_formats::{Certificate, SignatureScheme};

use crate::{
    SignError,
    apk::{
        Finding, Scheme, algorithms::ApkSigAlg, length_prefixed, lineage::Lineage,
        signing_block::ContentDigest,
    },
    key::{Purpose, SigningKey, ToSign, sign_one},
};

/// `lp(seq of lp(u32 alg || lp(digest)))`'s content.
pub fn digests(alg: ApkSigAlg, digest: &[u8]) -> Vec<u8> {
    let mut d = alg.0.to_le_bytes().to_vec();
    length_prefixed::put(&mut d, digest);
    length_prefixed::seq([d.as_slice()])
}

/// The certificate chain as a sequence.
pub fn certificates(key: &dyn SigningKey) -> Vec<u8> {
    length_prefixed::seq(key.certificates().iter().map(Certificate::der))
}

/// A v2/v3 signer whose signed data is built and awaits the key's signature: signing is
/// split in two so that v2's and v3's signed data can go to the key in one batch.
#[derive(Debug, Clone)]
pub struct UnsignedSigner {
    alg: ApkSigAlg,
    scheme: SignatureScheme,
    purpose: Purpose,
    signed_data: Vec<u8>,
    sdk_range: Option<(u32, u32)>,
}

impl UnsignedSigner {
    /// A signer of `signed_data` with `alg` (v3 signers carry their platform range).
    pub fn new(
        alg: ApkSigAlg,
        purpose: Purpose,
        signed_data: Vec<u8>,
        sdk_range: Option<(u32, u32)>,
    ) -> Result<UnsignedSigner, SignError> {
        let (scheme, _) = alg.parts().ok_or_else(|| {
            SignError::Config(format!("unsupported signature algorithm {:#x}", alg.0))
        })?;
        Ok(UnsignedSigner {
            alg,
            scheme,
            purpose,
            signed_data,
            sdk_range,
        })
    }

    /// What the key signs.
    pub fn to_sign(&self) -> ToSign<'_> {
        ToSign {
            purpose: self.purpose,
            scheme: self.scheme,
            message: &self.signed_data,
        }
    }

    /// The block value (a sequence of this one signer) with the key's `signature` over
    /// the signed data; `key` gives the public key.
    pub fn block(&self, key: &dyn SigningKey, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut s = self.alg.0.to_le_bytes().to_vec();
        length_prefixed::put(&mut s, signature);
        let leaf = key
            .certificates()
            .first()
            .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))?;
        let mut signer = Vec::new();
        length_prefixed::put(&mut signer, &self.signed_data);
        if let Some((min, max)) = self.sdk_range {
            signer.extend_from_slice(&min.to_le_bytes());
            signer.extend_from_slice(&max.to_le_bytes());
        }
        length_prefixed::put(&mut signer, &length_prefixed::seq([s.as_slice()]));
        length_prefixed::put(&mut signer, leaf.subject_public_key_info());
        // The value is a length-prefixed sequence of length-prefixed signers.
        let mut value = Vec::new();
        length_prefixed::put(&mut value, &length_prefixed::seq([signer.as_slice()]));
        Ok(value)
    }

    /// Signs with `key` alone (one call) and frames the block value.
    pub fn sign(&self, key: &dyn SigningKey) -> Result<Vec<u8>, SignError> {
        let ToSign {
            purpose,
            scheme,
            message,
        } = self.to_sign();
        let signature = sign_one(key, purpose, scheme, message)?;
        self.block(key, &signature)
    }
}

/// A v2/v3 signer whose signature and content digests verified.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    /// The signer's first certificate.
    pub certificate: Certificate,
    /// The content digests it signed that were checked against the APK, by algorithm.
    pub digests: Vec<(ContentDigest, Vec<u8>)>,
    /// A v3 signer's platform range.
    pub sdk_range: Option<(u32, u32)>,
    /// The signed additional attributes (`u32 id || value` each).
    pub attributes: Vec<Vec<u8>>,
}

impl VerifiedSigner {
    /// The digest a v4 signature signs over: SHA-512 where the signer has it, as apksig's
    /// `pickBestDigestForV4` (signet never writes verity digests).
    pub fn best_digest_for_v4(&self) -> Option<&[u8]> {
        [ContentDigest::Sha512, ContentDigest::Sha256]
            .iter()
            .find_map(|want| {
                self.digests
                    .iter()
                    .find(|(alg, _)| alg == want)
                    .map(|(_, d)| d.as_slice())
            })
    }
}

/// The outcome of verifying one scheme's block.
#[derive(Debug, Default)]
pub struct SchemeResult {
    /// Signers whose signatures and digests verified.
    pub signers: Vec<VerifiedSigner>,
    /// Problems; empty when the block verified.
    pub issues: Vec<Finding>,
    /// Scheme ids named by v2's stripping-protection attribute.
    pub stripping_protection: Vec<u32>,
    /// v3: the signing certificate lineage of key rotation (the longest of the signers'
    /// proof-of-rotation attributes, which must all be part of it).
    pub lineage: Option<Lineage>,
}

/// The content digest algorithms a block's signers use.
pub fn content_digests_needed(block: &[u8], is_v3: bool) -> Vec<ContentDigest> {
    let mut out = Vec::new();
    let Some(signers) = length_prefixed::Reader::new(block)
        .lp()
        .and_then(|s| length_prefixed::Reader::new(s).all())
    else {
        return out;
    };
    for signer in signers {
        let mut r = length_prefixed::Reader::new(signer);
        let _ = r.lp();
        if is_v3 {
            let _ = (r.u32(), r.u32());
        }
        let Some(sigs) = r.lp().and_then(|s| length_prefixed::Reader::new(s).all()) else {
            continue;
        };
        for s in sigs {
            if let Some((_, d)) = length_prefixed::Reader::new(s)
                .u32()
                .and_then(|a| ApkSigAlg(a).parts())
            {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// Verifies every signer of a v2 or v3 block.
pub fn verify(
    block: &[u8],
    scheme: Scheme,
    digests: &dyn Fn(ContentDigest) -> Vec<u8>,
    on_attributes: impl Fn(usize, &VerifiedSigner, &[&[u8]], &mut SchemeResult),
) -> SchemeResult {
    let mut result = SchemeResult::default();
    let signers = length_prefixed::Reader::new(block)
        .lp()
        .and_then(|s| length_prefixed::Reader::new(s).all());
    let Some(signers) = signers.filter(|s| !s.is_empty()) else {
        result.issues.push(Finding::NoSigners { scheme });
        return result;
    };
    for (i, signer) in signers.iter().enumerate() {
        match verify_signer(signer, scheme, i + 1, digests) {
            Ok(signer) => {
                let attrs: Vec<&[u8]> = signer.attributes.iter().map(Vec::as_slice).collect();
                on_attributes(i + 1, &signer, &attrs, &mut result);
                result.signers.push(signer);
            }
            Err(issue) => result.issues.push(issue),
        }
    }
    if !result.issues.is_empty() {
        result.signers.clear();
    }
    result
}

/// Verifies one signer `block`, the `signer`th (from 1) of a `scheme` block.
fn verify_signer(
    block: &[u8],
    scheme: Scheme,
    signer: usize,
    digests: &dyn Fn(ContentDigest) -> Vec<u8>,
) -> Result<VerifiedSigner, Finding> {
    let is_v3 = scheme == Scheme::V3;
    let malformed = || Finding::MalformedSigner { scheme, signer };
    let mut r = length_prefixed::Reader::new(block);
    let signed = r.lp().ok_or_else(malformed)?;
    let outer_range = if is_v3 {
        Some((
            r.u32().ok_or_else(malformed)?,
            r.u32().ok_or_else(malformed)?,
        ))
    } else {
        None
    };
    let sigs = length_prefixed::Reader::new(r.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    let public_key = r.lp().ok_or_else(malformed)?;

    let mut sd = length_prefixed::Reader::new(signed);
    let digest_list = length_prefixed::Reader::new(sd.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    let certs = length_prefixed::Reader::new(sd.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    let inner_range = if is_v3 {
        Some((
            sd.u32().ok_or_else(malformed)?,
            sd.u32().ok_or_else(malformed)?,
        ))
    } else {
        None
    };
    let attrs = sd.lp().ok_or_else(malformed)?.to_vec();
    if outer_range != inner_range {
        return Err(Finding::SdkRangeMismatch { scheme, signer });
    }
    if let Some((min, max)) = outer_range {
        if min > max {
            return Err(Finding::InvalidSdkRange {
                scheme,
                signer,
                min,
                max,
            });
        }
    }
    let leaf_der = certs
        .first()
        .ok_or(Finding::NoCertificates { scheme, signer })?;
    let leaf = Certificate::from_der(leaf_der).map_err(|error| Finding::MalformedCertificate {
        scheme,
        signer,
        error,
    })?;
    if leaf.subject_public_key_info() != public_key {
        return Err(Finding::PublicKeyMismatch { scheme, signer });
    }
    if sigs.is_empty() {
        return Err(Finding::NoSignatures { scheme, signer });
    }
    let mut verified_algs = Vec::new();
    for s in &sigs {
        let mut sr = length_prefixed::Reader::new(s);
        let alg = ApkSigAlg(sr.u32().ok_or_else(malformed)?);
        let sig = sr.lp().ok_or_else(malformed)?;
        let Some((sig_scheme, _)) = alg.parts() else {
            continue;
        };
        match leaf.verify_with(sig_scheme, signed, sig) {
            Ok(true) => verified_algs.push(alg),
            Ok(false) => {
                return Err(Finding::SignatureDoesNotVerify {
                    scheme,
                    signer,
                    algorithm: alg.0,
                });
            }
            Err(error) => {
                return Err(Finding::SignatureUnusable {
                    scheme,
                    signer,
                    error,
                });
            }
        }
    }
    if verified_algs.is_empty() {
        return Err(Finding::NoSupportedSignature { scheme, signer });
    }
    let mut signed_algs = Vec::new();
    let mut checked = Vec::new();
    for d in &digest_list {
        let mut dr = length_prefixed::Reader::new(d);
        let alg = ApkSigAlg(dr.u32().ok_or_else(malformed)?);
        let value = dr.lp().ok_or_else(malformed)?;
        signed_algs.push(alg.0);
        if !verified_algs.contains(&alg) {
            continue;
        }
        let Some((_, content)) = alg.parts() else {
            continue;
        };
        if digests(content) != value {
            return Err(Finding::ContentDigestMismatch { scheme, signer });
        }
        checked.push((content, value.to_vec()));
    }
    let sig_algs: Vec<u32> = sigs
        .iter()
        .filter_map(|s| length_prefixed::Reader::new(s).u32())
        .collect();
    if signed_algs != sig_algs {
        return Err(Finding::AlgorithmsDiffer { scheme, signer });
    }
    let attributes = length_prefixed::Reader::new(&attrs)
        .all()
        .unwrap_or_default()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    Ok(VerifiedSigner {
        certificate: leaf,
        digests: checked,
        sdk_range: outer_range,
        attributes,
    })
}
