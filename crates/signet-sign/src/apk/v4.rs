//! APK Signature Scheme v4: a detached `<apk>.idsig` for incremental installation (`adb
//! install --incremental`). It signs the fs-verity Merkle tree root of the whole APK and
//! the APK's v3 (or v2) content digest, and carries the tree so the device need not build
//! it. <https://source.android.com/docs/security/features/apksigning/v4>
//!
//! ```text
//! idsig := u32 version (2) || lp(hashing_info) || lp(signing_info) || lp(merkle_tree)
//! hashing_info := u32 hash_algorithm (1 = SHA-256) || u8 log2_block_size (12) || lp(salt) || lp(root_hash)
//! signing_info := lp(apk_digest) || lp(certificate) || lp(additional_data) || lp(public_key)
//!                 || u32 signature_algorithm || lp(signature)
//! signed := u32 size || u64 file_size || u32 hash_algorithm || u8 log2_block_size || lp(salt)
//!           || lp(root_hash) || lp(apk_digest) || lp(certificate) || lp(additional_data)
//! ```

use std::io::{Read, Seek, SeekFrom};

use aws_lc_rs::digest;

use signet_formats::Certificate;

use crate::{
    SignError,
    apk::{Finding, algorithms::ApkSigAlg, length_prefixed},
    key::{Purpose, SigningKey, sign_one},
};

const VERSION: u32 = 2;
const HASH_SHA256: u32 = 1;
const LOG2_BLOCK: u8 = 12;
const BLOCK: usize = 4096;
const HASH_LEN: usize = 32;

/// The fs-verity Merkle tree of a file (SHA-256, 4 KiB blocks, no salt): the tree's levels
/// from the top down, each padded to whole blocks, and the root hash.
pub fn merkle_tree<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    // Level 0: one hash per data block, the last block zero-padded.
    let mut level = Vec::with_capacity((file_size as usize).div_ceil(BLOCK) * HASH_LEN);
    r.seek(SeekFrom::Start(0))?;
    let mut block = vec![0u8; BLOCK];
    let mut left = file_size;
    while left > 0 {
        let n = usize::try_from(left.min(BLOCK as u64)).unwrap_or(BLOCK);
        r.read_exact(&mut block[..n])?;
        block[n..].fill(0);
        level.extend_from_slice(digest::digest(&digest::SHA256, &block).as_ref());
        left -= n as u64;
    }
    if level.is_empty() {
        level.extend_from_slice(digest::digest(&digest::SHA256, &[0u8; BLOCK]).as_ref());
    }
    // Upper levels until one block holds a whole level.
    let mut levels = vec![pad(level)];
    while levels.last().is_some_and(|l| l.len() > BLOCK) {
        let below = levels.last().map(Vec::as_slice).unwrap_or_default();
        let next: Vec<u8> = below
            .chunks(BLOCK)
            .flat_map(|b| digest::digest(&digest::SHA256, b).as_ref().to_vec())
            .collect();
        levels.push(pad(next));
    }
    let top = levels.last().map(Vec::as_slice).unwrap_or_default();
    let root = digest::digest(&digest::SHA256, top).as_ref().to_vec();
    let tree: Vec<u8> = levels.into_iter().rev().flatten().collect();
    Ok((tree, root))
}

fn pad(mut v: Vec<u8>) -> Vec<u8> {
    v.resize(v.len().div_ceil(BLOCK) * BLOCK, 0);
    v
}

/// Builds the `.idsig` for the signed APK in `r`, whose v3 (or v2) content digest under
/// `alg` is `apk_digest`.
pub fn sign<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    key: &dyn SigningKey,
    alg: ApkSigAlg,
    apk_digest: &[u8],
) -> Result<Vec<u8>, SignError> {
    let (tree, root) = merkle_tree(r, file_size)?;
    let cert = key
        .certificates()
        .first()
        .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))?;
    let (scheme, _) = alg.parts().ok_or_else(|| {
        SignError::Config(format!("unsupported signature algorithm {:#x}", alg.0))
    })?;

    let mut hashing = HASH_SHA256.to_le_bytes().to_vec();
    hashing.push(LOG2_BLOCK);
    length_prefixed::put(&mut hashing, &[]);
    length_prefixed::put(&mut hashing, &root);

    let mut signed = Vec::new();
    signed.extend_from_slice(&file_size.to_le_bytes());
    signed.extend_from_slice(&HASH_SHA256.to_le_bytes());
    signed.push(LOG2_BLOCK);
    length_prefixed::put(&mut signed, &[]);
    length_prefixed::put(&mut signed, &root);
    length_prefixed::put(&mut signed, apk_digest);
    length_prefixed::put(&mut signed, cert.der());
    length_prefixed::put(&mut signed, &[]);
    let mut signed_data = ((signed.len() + 4) as u32).to_le_bytes().to_vec();
    signed_data.extend_from_slice(&signed);
    let signature = sign_one(key, Purpose::ApkV4SignedData, scheme, &signed_data)?;

    let mut signing = Vec::new();
    length_prefixed::put(&mut signing, apk_digest);
    length_prefixed::put(&mut signing, cert.der());
    length_prefixed::put(&mut signing, &[]);
    length_prefixed::put(&mut signing, cert.subject_public_key_info());
    signing.extend_from_slice(&alg.0.to_le_bytes());
    length_prefixed::put(&mut signing, &signature);

    let mut out = VERSION.to_le_bytes().to_vec();
    length_prefixed::put(&mut out, &hashing);
    length_prefixed::put(&mut out, &signing);
    length_prefixed::put(&mut out, &tree);
    Ok(out)
}

/// One signer of a `.idsig` whose signature verified: its certificate and the v2/v3
/// content digest it signed.
#[derive(Debug, Clone)]
pub struct V4Signer {
    /// The signer's certificate.
    pub certificate: Certificate,
    /// The APK's v3 (or v2) content digest, as the signer signed it.
    pub apk_digest: Vec<u8>,
}

/// A `.idsig`'s `signing_info`: `lp(apk_digest) lp(certificate) lp(additional_data)
/// lp(public_key) u32 signature_algorithm lp(signature)`.
struct SigningInfo<'a> {
    apk_digest: &'a [u8],
    certificate: &'a [u8],
    additional_data: &'a [u8],
    public_key: &'a [u8],
    algorithm: u32,
    signature: &'a [u8],
}

impl<'a> SigningInfo<'a> {
    fn read(r: &mut length_prefixed::Reader<'a>) -> Option<SigningInfo<'a>> {
        Some(SigningInfo {
            apk_digest: r.lp()?,
            certificate: r.lp()?,
            additional_data: r.lp()?,
            public_key: r.lp()?,
            algorithm: r.u32()?,
            signature: r.lp()?,
        })
    }
}

/// Verifies the `.idsig` bytes `idsig` against the APK in `r` (`file_size` bytes long), as
/// apksig's V4SchemeVerifier: every signing info's signature over its signed data, its
/// certificate against its public key, and the Merkle tree root (and the tree, when the file
/// carries one) against the APK's. The first signer is the v3 (or v2) signer's; a second one,
/// in a signing-info block, is a v3.1 signer's.
pub fn verify<R: Read + Seek>(
    idsig: &[u8],
    r: &mut R,
    file_size: u64,
) -> Result<Result<Vec<V4Signer>, Finding>, SignError> {
    let malformed = |detail: &'static str| Finding::V4Malformed { detail };
    let mut file = length_prefixed::Reader::new(idsig);
    if file.u32() != Some(VERSION) {
        return Ok(Err(malformed("not a version 2 signature file")));
    }
    let (Some(hashing), Some(signing)) = (file.lp(), file.lp()) else {
        return Ok(Err(malformed("truncated")));
    };
    // The tree is optional; when present it must be the APK's.
    let tree = if file.is_empty() { None } else { file.lp() };
    let mut h = length_prefixed::Reader::new(hashing);
    let (Some(hash_alg), Some(log2), Some(salt), Some(root)) = (h.u32(), h.u8(), h.lp(), h.lp())
    else {
        return Ok(Err(malformed("malformed hashing info")));
    };
    if hash_alg != HASH_SHA256 || log2 != LOG2_BLOCK {
        return Ok(Err(malformed(
            "hashing info other than SHA-256 over 4096-byte blocks",
        )));
    }
    let mut infos = Vec::new();
    let mut s = length_prefixed::Reader::new(signing);
    let Some(first) = SigningInfo::read(&mut s) else {
        return Ok(Err(malformed("malformed signing info")));
    };
    infos.push(first);
    // Later signers come as `u32 block_id || lp(signing_info)`.
    while !s.is_empty() {
        let (Some(_block_id), Some(block)) = (s.u32(), s.lp()) else {
            return Ok(Err(malformed("malformed signing info block")));
        };
        let Some(info) = SigningInfo::read(&mut length_prefixed::Reader::new(block)) else {
            return Ok(Err(malformed("malformed signing info")));
        };
        infos.push(info);
    }
    let mut signers = Vec::with_capacity(infos.len());
    for info in &infos {
        let alg = ApkSigAlg(info.algorithm);
        let Some((scheme, _)) = alg.parts() else {
            return Ok(Err(Finding::V4UnknownAlgorithm {
                algorithm: info.algorithm,
            }));
        };
        let certificate = match Certificate::from_der(info.certificate) {
            Ok(c) => c,
            Err(error) => return Ok(Err(Finding::V4MalformedCertificate { error })),
        };
        if certificate.subject_public_key_info() != info.public_key {
            return Ok(Err(Finding::V4PublicKeyMismatch));
        }
        let mut signed = Vec::new();
        signed.extend_from_slice(&file_size.to_le_bytes());
        signed.extend_from_slice(&hash_alg.to_le_bytes());
        signed.push(log2);
        length_prefixed::put(&mut signed, salt);
        length_prefixed::put(&mut signed, root);
        length_prefixed::put(&mut signed, info.apk_digest);
        length_prefixed::put(&mut signed, info.certificate);
        length_prefixed::put(&mut signed, info.additional_data);
        let mut signed_data = ((signed.len() + 4) as u32).to_le_bytes().to_vec();
        signed_data.extend_from_slice(&signed);
        match certificate.verify_with(scheme, &signed_data, info.signature) {
            Ok(true) => {}
            Ok(false) => {
                return Ok(Err(Finding::V4SignatureDoesNotVerify {
                    algorithm: info.algorithm,
                }));
            }
            Err(error) => return Ok(Err(Finding::V4SignatureUnusable { error })),
        }
        signers.push(V4Signer {
            certificate,
            apk_digest: info.apk_digest.to_vec(),
        });
    }
    let (actual_tree, actual_root) = merkle_tree(r, file_size)?;
    if actual_root != root {
        return Ok(Err(Finding::V4RootHashMismatch));
    }
    if tree.is_some_and(|t| t != actual_tree.as_slice()) {
        return Ok(Err(Finding::V4TreeMismatch));
    }
    Ok(Ok(signers))
}

#[cfg(test)]
mod tests {
    use super::*;

    use signet_formats::{DistinguishedName, KeyAlgorithm, KeyEntry, generate};

    fn key(cn: &str) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).unwrap()
    }

    /// A "signed APK" of 3 blocks and a bit, its content digest, and its `.idsig`.
    fn signed(key: &KeyEntry) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let apk: Vec<u8> = (0..3 * BLOCK as u32 + 100)
            .map(|i| (i % 251) as u8)
            .collect();
        let digest = vec![0xabu8; 32];
        let idsig = sign(
            &mut std::io::Cursor::new(&apk),
            apk.len() as u64,
            key,
            ApkSigAlg::ECDSA_SHA256,
            &digest,
        )
        .unwrap();
        (apk, digest, idsig)
    }

    fn check(idsig: &[u8], apk: &[u8]) -> Result<Vec<V4Signer>, Finding> {
        verify(idsig, &mut std::io::Cursor::new(apk), apk.len() as u64).unwrap()
    }

    #[test]
    fn verifies_what_sign_writes() {
        let k = key("v4");
        let (apk, digest, idsig) = signed(&k);
        let signers = check(&idsig, &apk).unwrap();
        assert_eq!(signers.len(), 1);
        assert_eq!(signers[0].certificate.der(), k.chain[0].der());
        assert_eq!(signers[0].apk_digest, digest);
    }

    #[test]
    fn refuses_another_files_tree() {
        let (mut apk, _, idsig) = signed(&key("v4"));
        apk[5000] ^= 1;
        assert_eq!(
            check(&idsig, &apk).unwrap_err(),
            Finding::V4RootHashMismatch
        );
        // A longer file is another file too (its size is signed).
        let (apk, _, idsig) = signed(&key("v4"));
        let mut longer = apk.clone();
        longer.push(0);
        assert!(matches!(
            check(&idsig, &longer).unwrap_err(),
            Finding::V4SignatureDoesNotVerify { algorithm: 0x0201 }
        ));
    }

    #[test]
    fn refuses_a_changed_tree_or_signature_or_version() {
        let (apk, _, idsig) = signed(&key("v4"));
        // The tree is the file's last bytes: one byte of it changed.
        let mut t = idsig.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert_eq!(check(&t, &apk).unwrap_err(), Finding::V4TreeMismatch);
        // The signature ends the signing info, just before the tree's length and the tree.
        let tree_len = BLOCK;
        let mut s = idsig.clone();
        let sig_end = s.len() - tree_len - 4;
        s[sig_end - 3] ^= 1;
        assert!(matches!(
            check(&s, &apk).unwrap_err(),
            Finding::V4SignatureDoesNotVerify { .. } | Finding::V4SignatureUnusable { .. }
        ));
        let mut v = idsig.clone();
        v[0] = 3;
        assert_eq!(
            check(&v, &apk).unwrap_err(),
            Finding::V4Malformed {
                detail: "not a version 2 signature file"
            }
        );
    }

    #[test]
    fn refuses_a_certificate_that_is_not_the_signers() {
        // The signing info rebuilt with another key's certificate, the rest unchanged.
        let (apk, _, mine) = signed(&key("mine"));
        let other = key("other");
        let mut r = length_prefixed::Reader::new(&mine);
        let version = r.u32().unwrap();
        let hashing = r.lp().unwrap();
        let signing = r.lp().unwrap();
        let tree = r.lp().unwrap();
        let mut s = length_prefixed::Reader::new(signing);
        let info = SigningInfo::read(&mut s).unwrap();
        let mut rebuilt = Vec::new();
        length_prefixed::put(&mut rebuilt, info.apk_digest);
        length_prefixed::put(&mut rebuilt, other.chain[0].der());
        length_prefixed::put(&mut rebuilt, info.additional_data);
        length_prefixed::put(&mut rebuilt, info.public_key);
        rebuilt.extend_from_slice(&info.algorithm.to_le_bytes());
        length_prefixed::put(&mut rebuilt, info.signature);
        let mut swapped = version.to_le_bytes().to_vec();
        length_prefixed::put(&mut swapped, hashing);
        length_prefixed::put(&mut swapped, &rebuilt);
        length_prefixed::put(&mut swapped, tree);
        assert_eq!(
            check(&swapped, &apk).unwrap_err(),
            Finding::V4PublicKeyMismatch
        );
    }

    #[test]
    fn small_file_has_a_single_level() {
        let data = vec![7u8; 100];
        let (tree, root) = merkle_tree(&mut std::io::Cursor::new(&data), 100).unwrap();
        assert_eq!(tree.len(), BLOCK);
        let mut block = data.clone();
        block.resize(BLOCK, 0);
        let leaf = digest::digest(&digest::SHA256, &block);
        assert_eq!(&tree[..HASH_LEN], leaf.as_ref());
        assert_eq!(root, digest::digest(&digest::SHA256, &tree).as_ref());
    }

    #[test]
    fn levels_are_stored_top_down() {
        // 129 data blocks: level 0 is 129 hashes (two blocks), level 1 one block.
        let size = 129 * BLOCK as u64;
        let data = vec![1u8; size as usize];
        let (tree, root) = merkle_tree(&mut std::io::Cursor::new(&data), size).unwrap();
        assert_eq!(tree.len(), 3 * BLOCK);
        let level0 = &tree[BLOCK..];
        let top: Vec<u8> = level0
            .chunks(BLOCK)
            .flat_map(|b| digest::digest(&digest::SHA256, b).as_ref().to_vec())
            .collect();
        assert_eq!(&tree[..top.len()], top.as_slice());
        assert_eq!(
            root,
            digest::digest(&digest::SHA256, &tree[..BLOCK]).as_ref()
        );
    }
}
