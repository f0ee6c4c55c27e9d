//! The APK Signing Block and the content digests v2 and v3 sign.
//!
//! ```text
//! size_of_block  u64   (excludes this field)
//! pairs          (u64 length, u32 id, value)*
//! size_of_block  u64
//! magic          "APK Sig Block 42"
//! ```
//!
//! It sits between the last entry and the central directory. Content digests cover three
//! sections — the entries, the central directory, and the end of central directory record
//! with its central-directory offset pointing at the signing block's start — each cut into
//! 1 MiB chunks: `chunk = H(0xa5 || u32le len || bytes)`, `top = H(0x5a || u32le count ||
//! chunk digests)`. <https://source.android.com/docs/security/features/apksigning/v2>

use std::io::{Read, Seek, SeekFrom};

use aws_lc_rs::digest;

use crate::{SignError, error::ZipError, zip::Eocd};

/// "APK Sig Block 42".
pub const MAGIC: &[u8; 16] = b"APK Sig Block 42";
/// The v2 block's id.
pub const V2_BLOCK_ID: u32 = 0x7109_871a;
/// The v3 block's id.
pub const V3_BLOCK_ID: u32 = 0xf053_68c0;
/// The v3.1 block's id (key rotation targeting newer platforms).
pub const V31_BLOCK_ID: u32 = 0x1b93_ad61;
/// Verity padding.
pub const VERITY_PADDING_BLOCK_ID: u32 = 0x4272_6577;
const CHUNK: usize = 1024 * 1024;

/// Finds the signing block that ends where the central directory starts. Returns its
/// offset and its id/value pairs, or `None` when the APK has no signing block.
pub fn find<R: Read + Seek>(
    r: &mut R,
    eocd: &Eocd,
) -> Result<Option<(u64, Vec<(u32, Vec<u8>)>)>, SignError> {
    let cd = eocd.cd_offset;
    if cd < 32 {
        return Ok(None);
    }
    let mut footer = [0u8; 24];
    r.seek(SeekFrom::Start(cd - 24))?;
    r.read_exact(&mut footer)?;
    if &footer[8..] != MAGIC {
        return Ok(None);
    }
    let size = u64::from_le_bytes(footer[..8].try_into().unwrap_or_default());
    let total = size
        .checked_add(8)
        .filter(|&t| t <= cd && t >= 32)
        .ok_or_else(|| {
            ZipError::Malformed(format!("APK Signing Block size {size} is out of range"))
        })?;
    let start = cd - total;
    if total > 64 * 1024 * 1024 {
        return Err(ZipError::Malformed("APK Signing Block larger than 64 MiB".into()).into());
    }
    let mut block = vec![0u8; total as usize];
    r.seek(SeekFrom::Start(start))?;
    r.read_exact(&mut block)?;
    if block[..8] != footer[..8] {
        return Err(ZipError::Malformed("APK Signing Block sizes disagree".into()).into());
    }
    let mut pairs = Vec::new();
    let mut pos = 8usize;
    let end = block.len() - 24;
    while pos < end {
        let len_bytes = block
            .get(pos..pos + 8)
            .ok_or(ZipError::Truncated("APK Signing Block pair"))?;
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or_default());
        let len =
            usize::try_from(len).map_err(|_| ZipError::Truncated("APK Signing Block pair"))?;
        let body_end = pos
            .checked_add(8)
            .and_then(|p| p.checked_add(len))
            .filter(|&e| e <= end);
        let body_end = body_end.ok_or(ZipError::Truncated("APK Signing Block pair"))?;
        if len < 4 {
            return Err(
                ZipError::Malformed("APK Signing Block pair shorter than its id".into()).into(),
            );
        }
        let id = u32::from_le_bytes(block[pos + 8..pos + 12].try_into().unwrap_or_default());
        pairs.push((id, block[pos + 12..body_end].to_vec()));
        pos = body_end;
    }
    Ok(Some((start, pairs)))
}

/// Serializes a signing block from id/value pairs.
pub fn build(pairs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let body: usize = pairs.iter().map(|(_, v)| 12 + v.len()).sum();
    let size = (body + 8 + 16) as u64;
    let mut out = Vec::with_capacity(body + 32);
    out.extend_from_slice(&size.to_le_bytes());
    for (id, value) in pairs {
        out.extend_from_slice(&((value.len() + 4) as u64).to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(value);
    }
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(MAGIC);
    out
}

/// The content digest algorithms of v2/v3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContentDigest {
    /// Chunked SHA-256.
    Sha256,
    /// Chunked SHA-512.
    Sha512,
}

impl ContentDigest {
    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            ContentDigest::Sha256 => &digest::SHA256,
            ContentDigest::Sha512 => &digest::SHA512,
        }
    }
}

/// Computes chunked content digests over sections fed in order, for one or two
/// algorithms at once. Chunks are independent, so they are hashed on worker threads (one
/// per core, at most four), round-robin, while the caller reads, writes and inflates; at
/// most two chunks per worker are in flight.
pub struct ChunkedDigester {
    algs: Vec<ContentDigest>,
    buf: Vec<u8>,
    next: usize,
    workers: Vec<Worker>,
    recycle: std::sync::mpsc::Receiver<Vec<u8>>,
}

struct Worker {
    tx: Option<std::sync::mpsc::SyncSender<(usize, Vec<u8>)>>,
    handle: Option<std::thread::JoinHandle<Vec<(usize, Vec<u8>)>>>,
}

impl ChunkedDigester {
    /// A digester for these algorithms.
    pub fn new(algs: &[ContentDigest]) -> ChunkedDigester {
        let n = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, 4);
        // Emptied buffers come back for reuse, so steady state allocates nothing.
        let (give_back, recycle) = std::sync::mpsc::channel::<Vec<u8>>();
        let workers = (0..n)
            .map(|_| {
                let (tx, chunks) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(2);
                let algs = algs.to_vec();
                let give_back = give_back.clone();
                let handle = std::thread::spawn(move || {
                    let mut out = Vec::new();
                    for (index, chunk) in chunks {
                        let len = (chunk.len() as u32).to_le_bytes();
                        let mut digests = Vec::with_capacity(algs.len() * 64);
                        for alg in &algs {
                            let mut ctx = digest::Context::new(alg.algorithm());
                            ctx.update(&[0xa5]);
                            ctx.update(&len);
                            ctx.update(&chunk);
                            digests.extend_from_slice(ctx.finish().as_ref());
                        }
                        out.push((index, digests));
                        let _ = give_back.send(chunk);
                    }
                    out
                });
                Worker {
                    tx: Some(tx),
                    handle: Some(handle),
                }
            })
            .collect();
        ChunkedDigester {
            algs: algs.to_vec(),
            buf: Vec::with_capacity(CHUNK),
            next: 0,
            workers,
            recycle,
        }
    }

    /// Feeds bytes of the current section.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK {
                self.send();
            }
        }
    }

    /// Ends the current section: a partial chunk is digested as it is.
    pub fn end_section(&mut self) {
        if !self.buf.is_empty() {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.recycle.try_recv().map_or_else(
            |_| Vec::with_capacity(CHUNK),
            |mut b| {
                b.clear();
                b
            },
        );
        let chunk = std::mem::replace(&mut self.buf, next);
        let worker = &self.workers[self.next % self.workers.len()];
        if let Some(tx) = &worker.tx {
            // A worker only stops when its sender is dropped, so this fails only if it
            // panicked; `finish` then has fewer chunks than were sent.
            let _ = tx.send((self.next, chunk));
        }
        self.next += 1;
    }

    /// The top-level digests, one per algorithm, in the order given to [`ChunkedDigester::new`].
    pub fn finish(mut self) -> Vec<(ContentDigest, Vec<u8>)> {
        self.end_section();
        let mut chunks: Vec<(usize, Vec<u8>)> = Vec::with_capacity(self.next);
        for w in &mut self.workers {
            drop(w.tx.take());
        }
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                chunks.extend(h.join().unwrap_or_default());
            }
        }
        chunks.sort_unstable_by_key(|(i, _)| *i);
        let count = chunks.len() as u32;
        let mut offset = 0;
        self.algs
            .iter()
            .map(|alg| {
                let len = alg.algorithm().output_len();
                let mut ctx = digest::Context::new(alg.algorithm());
                ctx.update(&[0x5a]);
                ctx.update(&count.to_le_bytes());
                for (_, d) in &chunks {
                    ctx.update(d.get(offset..offset + len).unwrap_or_default());
                }
                offset += len;
                (*alg, ctx.finish().as_ref().to_vec())
            })
            .collect()
    }
}

/// Computes content digests of an APK on disk whose entries end at `entries_end` (the
/// signing block's start), with central directory `cd` and end record `eocd`.
pub fn digest_file<R: Read + Seek>(
    r: &mut R,
    entries_end: u64,
    cd: &[u8],
    eocd: &[u8],
    algs: &[ContentDigest],
) -> Result<Vec<(ContentDigest, Vec<u8>)>, SignError> {
    let mut d = ChunkedDigester::new(algs);
    r.seek(SeekFrom::Start(0))?;
    let mut left = entries_end;
    let mut buf = vec![0u8; CHUNK];
    while left > 0 {
        let n = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        r.read_exact(&mut buf[..n])?;
        d.update(&buf[..n]);
        left -= n as u64;
    }
    d.end_section();
    d.update(cd);
    d.end_section();
    d.update(&eocd_for_digest(eocd, entries_end));
    Ok(d.finish())
}

/// The end record as digested: its central-directory offset replaced by `entries_end`.
pub fn eocd_for_digest(eocd: &[u8], entries_end: u64) -> Vec<u8> {
    let mut e = eocd.to_vec();
    if e.len() >= 20 {
        e[16..20].copy_from_slice(&(entries_end as u32).to_le_bytes());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// signet reads what signet wrote; `signing_blocks_agree_with_apksigner` (signet-cli's
    /// tests) checks both sides against apksigner.
    #[test]
    fn block_round_trips() {
        let pairs = vec![(V2_BLOCK_ID, vec![1, 2, 3]), (V3_BLOCK_ID, vec![9; 100])];
        let block = build(&pairs);
        let mut file = vec![0u8; 10];
        file.extend_from_slice(&block);
        let cd_offset = file.len() as u64;
        let eocd = Eocd {
            offset: cd_offset,
            cd_offset,
            cd_size: 0,
            entries: 0,
            raw: vec![],
        };
        let (start, got) = find(&mut std::io::Cursor::new(&file), &eocd)
            .unwrap()
            .unwrap();
        assert_eq!(start, 10);
        assert_eq!(got, pairs);
    }

    #[test]
    fn chunking_matches_a_direct_computation() {
        // Two sections: 1 MiB + 5 bytes (two chunks) and 3 bytes (one chunk).
        let a = vec![1u8; CHUNK + 5];
        let b = [2u8; 3];
        let mut d = ChunkedDigester::new(&[ContentDigest::Sha256]);
        d.update(&a[..10]);
        d.update(&a[10..]);
        d.end_section();
        d.update(&b);
        let got = d.finish();

        let chunk = |c: &[u8]| {
            let mut ctx = digest::Context::new(&digest::SHA256);
            ctx.update(&[0xa5]);
            ctx.update(&(c.len() as u32).to_le_bytes());
            ctx.update(c);
            ctx.finish().as_ref().to_vec()
        };
        let mut top = digest::Context::new(&digest::SHA256);
        top.update(&[0x5a]);
        top.update(&3u32.to_le_bytes());
        top.update(&chunk(&a[..CHUNK]));
        top.update(&chunk(&a[CHUNK..]));
        top.update(&chunk(&b));
        assert_eq!(
            got,
            vec![(ContentDigest::Sha256, top.finish().as_ref().to_vec())]
        );
    }
}
