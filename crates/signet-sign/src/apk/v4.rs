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

use crate::{
    SignError,
    apk::{algorithms::ApkSigAlg, length_prefixed},
    key::SigningKey,
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
    let signature = key.sign(scheme, &signed_data)?;

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

#[cfg(test)]
mod tests {
    use super::*;

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
