//! APK signing and verification: JAR (v1), APK Signature Scheme v2 and v3.
//!
//! [`sign`] streams the input once: every entry is copied verbatim (never recompressed),
//! stored entries are aligned (4 bytes, shared libraries on 16 KiB pages) with apksig's
//! `0xd935` extra field, old signatures are dropped, and while the bytes go out the v1
//! entry digests (on a worker thread, `v1_worker`) and the v2/v3 chunk digests (on
//! worker threads of their own) are computed. Memory holds the central directory and a
//! few bounded buffers, never the APK.

pub mod algorithms;
mod finding;
pub(crate) mod length_prefixed;
pub mod lineage;
pub mod manifest;
mod scheme;
pub mod signing_block;
pub mod v1;
mod v1_worker;
pub mod v2;
pub mod v3;
pub mod v4;

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    path::Path,
};

use aws_lc_rs::digest;
use signet_formats::Certificate;

pub use finding::{Finding, Scheme};

use crate::{
    SignError,
    apk::{
        algorithms::ApkSigAlg,
        signing_block::{ChunkedDigester, ContentDigest},
        v1::V1Digest,
    },
    error::ZipError,
    key::{SigningKey, ToSign, sign_batch, sign_one},
    zip::{self, CdEntry, LocalHeader},
};

/// Which archive is being signed: an APK gets v1 + v2 + v3, an AAB only v1 (as jarsigner
/// signs it; Play reads nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// An Android application package.
    Apk,
    /// An Android App Bundle.
    Aab,
}

/// What to sign with, beyond the key.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// The archive type.
    pub kind: ArchiveKind,
    /// Overrides the min SDK read from AndroidManifest.xml.
    pub min_sdk: Option<u32>,
    /// JAR signing; default on (as apksigner).
    pub v1: Option<bool>,
    /// Scheme v2; default on for APKs.
    pub v2: Option<bool>,
    /// Scheme v3; default on for APKs.
    pub v3: Option<bool>,
    /// Basename of the JAR signature files (`META-INF/<NAME>.SF`).
    pub v1_basename: String,
    /// Sign even with the Android debug certificate.
    pub allow_debug_key: bool,
}

/// What [`sign`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignReport {
    /// The min SDK the schemes were chosen for.
    pub min_sdk: u32,
    /// Whether a JAR signature was written.
    pub v1: bool,
    /// Whether a v2 block was written.
    pub v2: bool,
    /// Whether a v3 block was written.
    pub v3: bool,
    /// Entries copied.
    pub entries: usize,
    /// The v2/v3 signature algorithm and top-level content digest, which a v4 signature
    /// ([`v4::sign`]) signs over.
    #[serde(skip)]
    pub content_digest: Option<(ApkSigAlg, Vec<u8>)>,
}

/// apksig's value for a codename (pre-release) min SDK: newer than any release.
const DEVELOPMENT_SDK: u32 = 10_000;
const COPY_BUF: usize = 256 * 1024;
/// Stored shared libraries are aligned to 16 KiB pages so they can be mapped directly on
/// devices with 16 KiB pages (and 4 KiB ones).
const LIBRARY_ALIGNMENT: u64 = 16 * 1024;

/// An opened archive: its end record, where its entries end, and its central directory.
pub(crate) struct Archive {
    file: zip::ArchiveReader<File>,
    eocd: zip::Eocd,
    entries_end: u64,
    block: Option<Vec<(u32, Vec<u8>)>>,
    cd: Vec<u8>,
    pub(crate) entries: Vec<CdEntry>,
    inflater: Inflater,
    buf: Vec<u8>,
}

impl Archive {
    pub(crate) fn open(path: &Path) -> Result<Archive, SignError> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut file = zip::ArchiveReader::new(file, COPY_BUF);
        let eocd = zip::read_eocd(&mut file, len)?;
        let (entries_end, block) = match signing_block::find(&mut file, &eocd)? {
            Some((start, pairs)) => (start, Some(pairs)),
            None => (eocd.cd_offset, None),
        };
        let mut cd = vec![0u8; usize::try_from(eocd.cd_size).map_err(|_| ZipError::Zip64)?];
        file.seek(SeekFrom::Start(eocd.cd_offset))?;
        file.read_exact(&mut cd)?;
        let entries = zip::read_central_directory(&cd, eocd.entries, entries_end)?;
        for e in &entries {
            if e.local_offset + e.compressed_size > entries_end {
                return Err(ZipError::Malformed(format!(
                    "entry `{}` extends past the end of the entries",
                    e.name
                ))
                .into());
            }
        }
        Ok(Archive {
            file,
            eocd,
            entries_end,
            block,
            cd,
            entries,
            inflater: Inflater::new(),
            buf: vec![0u8; 64 * 1024],
        })
    }

    /// Reads and inflates one entry into memory (for small entries: manifests, META-INF).
    pub(crate) fn read_entry(&mut self, entry: &CdEntry, limit: u64) -> Result<Vec<u8>, SignError> {
        if entry.uncompressed_size > limit {
            return Err(ZipError::Malformed(format!(
                "entry `{}` is implausibly large",
                entry.name
            ))
            .into());
        }
        let mut out = Vec::with_capacity(entry.uncompressed_size as usize);
        self.stream_entry(entry, &mut |chunk| {
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(ZipError::Malformed(format!(
                    "entry `{}` inflates past its size",
                    entry.name
                ))
                .into());
            }
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `sink` with the uncompressed data of `entry`, chunk by chunk.
    pub(crate) fn stream_entry(
        &mut self,
        entry: &CdEntry,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), SignError>,
    ) -> Result<(), SignError> {
        let header = LocalHeader::read(&mut self.file, entry)?;
        let start = entry.local_offset + header.data_offset();
        if start + entry.compressed_size > self.entries_end {
            return Err(ZipError::Truncated("entry data").into());
        }
        self.file.seek(SeekFrom::Start(start))?;
        let mut reader = (&mut self.file).take(entry.compressed_size);
        let inflater = &mut self.inflater;
        inflater.start(entry)?;
        let buf = &mut self.buf;
        // The data must inflate to exactly the size the central directory promises.
        let mut produced = 0u64;
        let mut counted = |c: &[u8]| {
            produced += c.len() as u64;
            if produced > entry.uncompressed_size {
                return Err(ZipError::Malformed(format!(
                    "entry `{}` is larger than its recorded size",
                    entry.name
                ))
                .into());
            }
            sink(c)
        };
        loop {
            let n = reader.read(buf)?;
            if n == 0 {
                break;
            }
            inflater.feed(&buf[..n], &mut counted)?;
        }
        inflater.finish(&mut counted)?;
        if produced != entry.uncompressed_size {
            return Err(ZipError::Malformed(format!(
                "entry `{}` is smaller than its recorded size",
                entry.name
            ))
            .into());
        }
        Ok(())
    }
}

/// Stored data passes through; deflated data is inflated. One inflater serves every
/// entry in turn ([`Inflater::start`]), so its state and buffer are allocated once.
struct Inflater {
    stored: bool,
    decompress: flate2::Decompress,
    out: Vec<u8>,
    name: String,
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            stored: true,
            decompress: flate2::Decompress::new(false),
            out: vec![0u8; 64 * 1024],
            name: String::new(),
        }
    }

    /// Prepares for the data of `entry`.
    fn start(&mut self, entry: &CdEntry) -> Result<(), SignError> {
        self.stored = match entry.method {
            zip::METHOD_STORED => true,
            zip::METHOD_DEFLATED => false,
            m => {
                return Err(ZipError::Unsupported(format!(
                    "entry `{}` uses compression method {m}",
                    entry.name
                ))
                .into());
            }
        };
        self.decompress.reset(false);
        self.name.clone_from(&entry.name);
        Ok(())
    }

    fn feed(
        &mut self,
        mut input: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> Result<(), SignError>,
    ) -> Result<(), SignError> {
        if self.stored {
            return sink(input);
        }
        let bad =
            || ZipError::Malformed(format!("entry `{}` is not valid deflate data", self.name));
        while !input.is_empty() {
            let before_in = self.decompress.total_in();
            let before_out = self.decompress.total_out();
            let status = self
                .decompress
                .decompress(input, &mut self.out, flate2::FlushDecompress::None)
                .map_err(|_| bad())?;
            let used = (self.decompress.total_in() - before_in) as usize;
            let produced = (self.decompress.total_out() - before_out) as usize;
            sink(&self.out[..produced])?;
            input = &input[used..];
            if status == flate2::Status::StreamEnd {
                break;
            }
            if used == 0 && produced == 0 {
                return Err(bad().into());
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), SignError>,
    ) -> Result<(), SignError> {
        if self.stored {
            return Ok(());
        }
        loop {
            let before_out = self.decompress.total_out();
            let status = self
                .decompress
                .decompress(&[], &mut self.out, flate2::FlushDecompress::Finish)
                .map_err(|_| {
                    ZipError::Malformed(format!("entry `{}` is not valid deflate data", self.name))
                })?;
            let produced = (self.decompress.total_out() - before_out) as usize;
            sink(&self.out[..produced])?;
            if status == flate2::Status::StreamEnd || produced == 0 {
                return Ok(());
            }
        }
    }
}

/// The min SDK of an APK: the flag, else AndroidManifest.xml's `uses-sdk`.
fn min_sdk(archive: &mut Archive, options: &SignOptions) -> Result<u32, SignError> {
    if let Some(v) = options.min_sdk {
        return Ok(v);
    }
    if options.kind == ArchiveKind::Aab {
        // An AAB's manifest is protobuf; its signature is only read by Play's upload
        // checks, which accept SHA-256 JAR signatures.
        return Ok(18);
    }
    let entry = archive
        .entries
        .iter()
        .find(|e| e.name == "AndroidManifest.xml")
        .cloned()
        .ok_or_else(|| {
            SignError::Manifest("the APK has no AndroidManifest.xml; pass --min-sdk-version".into())
        })?;
    let bytes = archive.read_entry(&entry, 16 * 1024 * 1024)?;
    match manifest::min_sdk_version(&bytes).map_err(|e| SignError::Manifest(e.to_string()))? {
        manifest::MinSdk::Level(n) => Ok(n),
        manifest::MinSdk::Codename(_) => Ok(DEVELOPMENT_SDK),
        manifest::MinSdk::Absent => Ok(1),
    }
}

/// The target SDK of an APK from its manifest (`None` for AABs, or when the manifest does
/// not say; Android then uses the min SDK).
fn target_sdk(archive: &mut Archive) -> Option<u32> {
    let entry = archive
        .entries
        .iter()
        .find(|e| e.name == "AndroidManifest.xml")
        .cloned()?;
    let bytes = archive.read_entry(&entry, 16 * 1024 * 1024).ok()?;
    match manifest::target_sdk_version(&bytes).ok()? {
        manifest::MinSdk::Level(n) => Some(n),
        manifest::MinSdk::Codename(_) => Some(DEVELOPMENT_SDK),
        manifest::MinSdk::Absent => None,
    }
}

/// A writer that counts bytes and feeds the entries section to the chunk digester.
struct Out<'a, W: Write> {
    inner: &'a mut W,
    pos: u64,
    digester: Option<ChunkedDigester>,
}

impl<W: Write> Out<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), SignError> {
        self.inner.write_all(bytes)?;
        if let Some(d) = &mut self.digester {
            d.update(bytes);
        }
        self.pos += bytes.len() as u64;
        Ok(())
    }
}

/// The keys of a signature after a key rotation, as apksigner signs with `--lineage`:
/// v1 and v2 by the lineage's oldest key (which every platform before v3 knows the app
/// by), v3 by the newest with the lineage up to it as its proof of rotation.
pub struct Rotation<'a> {
    oldest: &'a dyn SigningKey,
    lineage: lineage::Lineage,
}

impl<'a> Rotation<'a> {
    /// Checks that `newest` (the v3 signer) is in `lineage` and that `oldest` is its first
    /// certificate, as apksig does.
    pub fn new(
        lineage: &lineage::Lineage,
        oldest: &'a dyn SigningKey,
        newest: &dyn SigningKey,
    ) -> Result<Rotation<'a>, SignError> {
        let leaf = |k: &dyn SigningKey| {
            k.certificates()
                .first()
                .cloned()
                .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))
        };
        let lineage = lineage.up_to(&leaf(newest)?).ok_or_else(|| {
            SignError::Config("the signing key is not in the signing certificate lineage".into())
        })?;
        match lineage.position(&leaf(oldest)?) {
            Some(0) => Ok(Rotation { oldest, lineage }),
            Some(i) => Err(SignError::Config(format!(
                "v1 and v2 are signed by the lineage's oldest key, and the old key is \
                 certificate #{} of the lineage",
                i + 1
            ))),
            None => Err(SignError::Config(
                "v1 and v2 are signed by the lineage's oldest key, and the old key is not in \
                 the lineage"
                    .into(),
            )),
        }
    }

    /// The lineage the v3 signer carries (up to its certificate).
    pub fn lineage(&self) -> &lineage::Lineage {
        &self.lineage
    }
}

/// Signs the archive at `input`, writing the signed archive to `output`.
pub fn sign<W: Write>(
    input: &Path,
    output: &mut W,
    key: &dyn SigningKey,
    options: &SignOptions,
) -> Result<SignReport, SignError> {
    sign_rotated(input, output, key, None, options)
}

/// As [`sign`], after a key rotation: `key` (the newest) signs v3 with the rotation's
/// lineage, the rotation's oldest key signs v1 and v2.
pub fn sign_rotated<W: Write>(
    input: &Path,
    output: &mut W,
    key: &dyn SigningKey,
    rotation: Option<&Rotation<'_>>,
    options: &SignOptions,
) -> Result<SignReport, SignError> {
    let old: &dyn SigningKey = rotation.map_or(key, |r| r.oldest);
    for k in [key, old] {
        let leaf = k
            .certificates()
            .first()
            .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))?;
        if leaf.info().is_debug && !options.allow_debug_key {
            return Err(SignError::DebugKey);
        }
    }
    if rotation.is_some() && (options.kind != ArchiveKind::Apk || options.v3 == Some(false)) {
        return Err(SignError::Config(
            "a signing certificate lineage is carried by the v3 signature, which is disabled"
                .into(),
        ));
    }
    let mut archive = Archive::open(input)?;
    let min_sdk = min_sdk(&mut archive, options)?;
    let is_apk = options.kind == ArchiveKind::Apk;
    let v1 = options.v1.unwrap_or(true);
    let v2 = is_apk && options.v2.unwrap_or(true);
    let v3 = is_apk && options.v3.unwrap_or(true);
    if !is_apk && (options.v2 == Some(true) || options.v3 == Some(true)) {
        return Err(SignError::Config(
            "an AAB is signed with JAR signing (v1) only".into(),
        ));
    }
    if !(v1 || v2 || v3) {
        return Err(SignError::Config(
            "every signature scheme is disabled".into(),
        ));
    }
    let v1_digest = if v1 {
        Some(V1Digest::for_key(old.algorithm(), min_sdk)?)
    } else {
        None
    };
    // v2 by the old key, v3 by the new one: each with its algorithm and content digest.
    let v2_alg = ApkSigAlg::for_key(old.algorithm());
    let v3_alg = ApkSigAlg::for_key(key.algorithm());
    let content = |alg: ApkSigAlg| alg.parts().map_or(ContentDigest::Sha256, |(_, d)| d);
    let mut content_algs = Vec::new();
    for (on, alg) in [(v2, v2_alg), (v3, v3_alg)] {
        if on && !content_algs.contains(&content(alg)) {
            content_algs.push(content(alg));
        }
    }

    let mut kept: Vec<CdEntry> = archive
        .entries
        .iter()
        .filter(|e| !v1::is_signature_file(&e.name))
        .cloned()
        .collect();
    kept.sort_by_key(|e| e.local_offset);
    let mut out = Out {
        inner: output,
        pos: 0,
        digester: (v2 || v3).then(|| ChunkedDigester::new(&content_algs)),
    };
    let order: std::collections::HashMap<&str, usize> = archive
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();

    // One pass over the entries: this thread copies them and feeds the v2/v3 chunk
    // digests; a worker inflates and hashes them for v1 meanwhile.
    let (mut cd_records, mut v1_digests) = std::thread::scope(|scope| {
        let (mut feed, worker) = match v1_digest {
            Some(alg) => {
                let (feed, worker) = v1_worker::channel();
                let kept = &kept;
                (Some(feed), Some(scope.spawn(move || worker.run(kept, alg))))
            }
            None => (None, None),
        };
        let copied = copy_entries(
            &mut archive.file,
            archive.entries_end,
            &kept,
            &mut out,
            &order,
            feed.as_mut(),
        );
        // Closing the feed lets the worker finish (or stop, after an error here).
        let fed = match feed {
            Some(feed) if copied.is_ok() => feed.finish(),
            Some(feed) => {
                drop(feed);
                Ok(())
            }
            None => Ok(()),
        };
        let digests = match worker.map(std::thread::ScopedJoinHandle::join) {
            None => Vec::new(),
            // The worker's error comes first: it is about an entry already copied.
            Some(Ok(result)) => result?,
            Some(Err(_)) => {
                return Err(SignError::Io(std::io::Error::other(
                    "the v1 digest worker failed (a bug in signet)",
                )));
            }
        };
        let cd_records = copied?;
        fed.map_err(|v1_worker::WorkerStopped| {
            SignError::Io(std::io::Error::other(
                "the v1 digest worker stopped early (a bug in signet)",
            ))
        })?;
        Ok::<_, SignError>((cd_records, digests))
    })?;
    // The central directory keeps the input's order; new entries go last.
    cd_records.sort_by_key(|(i, _)| *i);
    let mut cd: Vec<u8> = cd_records.into_iter().flat_map(|(_, r)| r).collect();
    let mut count = kept.len();

    if let Some(digest_alg) = v1_digest {
        v1_digests.sort_by(|a, b| a.0.cmp(&b.0));
        let mut schemes = Vec::new();
        if v2 {
            schemes.push(2);
        }
        if v3 {
            schemes.push(3);
        }
        let files = v1::sign(&v1_digests, digest_alg, &schemes, &options.v1_basename, old)?;
        for (name, data) in [
            ("META-INF/MANIFEST.MF".to_owned(), &files.manifest),
            (
                format!("META-INF/{}.SF", files.basename),
                &files.signature_file,
            ),
            (
                format!("META-INF/{}.{}", files.basename, files.block_extension),
                &files.block,
            ),
        ] {
            let (local, record) = zip::write::new_entry(&name, data, out.pos)?;
            out.write(&local)?;
            cd.extend_from_slice(&record);
            count += 1;
        }
    }
    let count = u16::try_from(count).map_err(|_| ZipError::Zip64)?;
    let entries_end = out.pos;

    let mut block = Vec::new();
    let mut content_digest = None;
    if let Some(mut d) = out.digester.take() {
        d.end_section();
        d.update(&cd);
        d.end_section();
        d.update(&zip::write::eocd(count, cd.len() as u64, entries_end)?);
        let digests = d.finish();
        let digest_for = |alg: ApkSigAlg| {
            digests
                .iter()
                .find(|(a, _)| *a == content(alg))
                .map(|(_, d)| d.clone())
                .unwrap_or_default()
        };
        // Each signer's signed data first, then the signatures: one call to the key for
        // v2 and v3 together (after a rotation their keys differ: one call each).
        let mut signers: Vec<(u32, &dyn SigningKey, scheme::UnsignedSigner)> = Vec::new();
        if v2 {
            let digest = digest_for(v2_alg);
            signers.push((v2::BLOCK_ID, old, v2::unsigned(old, v2_alg, &digest, v3)?));
            content_digest = Some((v2_alg, digest));
        }
        if v3 {
            let digest = digest_for(v3_alg);
            let lineage = rotation.map(Rotation::lineage);
            signers.push((
                v3::BLOCK_ID,
                key,
                v3::unsigned(key, v3_alg, &digest, lineage)?,
            ));
            // A v4 signature builds on v3's signer where there is one.
            content_digest = Some((v3_alg, digest));
        }
        let signatures = if rotation.is_none() {
            let batch: Vec<ToSign<'_>> = signers.iter().map(|(_, _, s)| s.to_sign()).collect();
            sign_batch(key, &batch)?
        } else {
            signers
                .iter()
                .map(|(_, k, s)| {
                    let m = s.to_sign();
                    sign_one(*k, m.purpose, m.scheme, m.message)
                })
                .collect::<Result<Vec<_>, SignError>>()?
        };
        let mut pairs = Vec::with_capacity(signers.len());
        for ((id, k, signer), signature) in signers.iter().zip(&signatures) {
            pairs.push((*id, signer.block(*k, signature)?));
        }
        block = signing_block::build(&pairs);
    }
    out.write(&block)?;
    out.write(&cd)?;
    out.write(&zip::write::eocd(
        count,
        cd.len() as u64,
        entries_end + block.len() as u64,
    )?)?;
    out.inner.flush()?;
    Ok(SignReport {
        min_sdk,
        v1: v1_digest.is_some(),
        v2,
        v3,
        entries: kept.len(),
        content_digest,
    })
}

/// Copies the entries `kept` (in file order) to `out`, aligned, each with its local header
/// rewritten, feeding each file entry's compressed data to the v1 worker when there is
/// one; returns each entry's relocated central directory record with its index in the
/// input's central directory (`order`).
fn copy_entries<W: Write>(
    file: &mut zip::ArchiveReader<File>,
    entries_end: u64,
    kept: &[CdEntry],
    out: &mut Out<'_, W>,
    order: &std::collections::HashMap<&str, usize>,
    mut v1: Option<&mut v1_worker::Feed>,
) -> Result<Vec<(usize, Vec<u8>)>, SignError> {
    // The worker stopped on an error of its own, which the caller reports.
    let stopped = |v1_worker::WorkerStopped| {
        SignError::Io(std::io::Error::other("the v1 digest worker stopped"))
    };
    let mut cd_records = Vec::with_capacity(kept.len() + 3);
    let mut buf = vec![0u8; COPY_BUF];
    for (index, entry) in kept.iter().enumerate() {
        let header = LocalHeader::read(file, entry)?;
        let align = match entry.method {
            zip::METHOD_STORED if entry.name.ends_with(".so") => LIBRARY_ALIGNMENT,
            zip::METHOD_STORED => 4,
            _ => 1,
        };
        let new_offset = out.pos;
        out.write(&zip::write::aligned_local_header(
            &header, new_offset, align,
        )?)?;
        let data_start = entry.local_offset + header.data_offset();
        let dd_len =
            zip::data_descriptor_len(file, header.flags(), data_start + entry.compressed_size)?;
        let copy_len = entry.compressed_size + dd_len;
        if data_start + copy_len > entries_end {
            return Err(ZipError::Truncated("entry data").into());
        }
        file.seek(SeekFrom::Start(data_start))?;

        let mut feed = v1.as_deref_mut().filter(|_| !entry.is_dir());
        if let Some(feed) = feed.as_deref_mut() {
            feed.start(index);
        }
        let mut left = copy_len;
        let mut data_left = entry.compressed_size;
        while left > 0 {
            let n = usize::try_from(left.min(COPY_BUF as u64)).unwrap_or(COPY_BUF);
            file.read_exact(&mut buf[..n])?;
            out.write(&buf[..n])?;
            if let Some(feed) = feed.as_deref_mut() {
                let data_n = usize::try_from(data_left.min(n as u64)).unwrap_or(n);
                feed.data(&buf[..data_n]).map_err(stopped)?;
                data_left -= data_n as u64;
            }
            left -= n as u64;
        }
        if let Some(feed) = feed {
            feed.end().map_err(stopped)?;
        }
        let index = order
            .get(entry.name.as_str())
            .copied()
            .unwrap_or(usize::MAX);
        cd_records.push((
            index,
            zip::write::relocated_cd_record(&entry.raw, new_offset)?,
        ));
    }
    Ok(cd_records)
}

// ---------------------------------------------------------------------------------------
// Verification

/// What verification found, scheme by scheme.
#[derive(Debug, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Whether every check passed.
    pub verified: bool,
    /// The min SDK verification assumed.
    pub min_sdk: u32,
    /// v1 verified. As apksigner, `false` where no platform the APK supports would check it
    /// (min SDK 24 or later with a v2/v3 signature present).
    pub v1: bool,
    /// v2 verified. As apksigner, `false` where no platform the APK supports would check it
    /// (min SDK 28 or later with a v3 signature present).
    pub v2: bool,
    /// v3 verified.
    pub v3: bool,
    /// The v4 signature given to [`verify_with`] verified, and matches the v3 (or v2) signer.
    pub v4: bool,
    /// The signers' certificates: the v3 signer's where v3 verified, else v2's, else v1's
    /// (apksigner's choice).
    #[serde(skip)]
    pub signers: Vec<Certificate>,
    /// The signing certificate lineage of the v3 signer, when v3 verified and its keys
    /// rotated.
    #[serde(skip)]
    pub lineage: Option<lineage::Lineage>,
    /// Problems, one per cause; each displays as the sentence `apk verify` prints.
    pub errors: Vec<Finding>,
}

/// What to verify, beyond the archive.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The archive type.
    pub kind: ArchiveKind,
    /// Overrides the min SDK read from AndroidManifest.xml.
    pub min_sdk: Option<u32>,
    /// The bytes of a v4 signature file (`<apk>.idsig`) to verify against the APK, as
    /// apksigner's `--v4-signature-file`.
    pub v4_signature: Option<&'a [u8]>,
}

/// Verifies every signature scheme present in the archive at `path`.
pub fn verify(
    path: &Path,
    kind: ArchiveKind,
    min_sdk_override: Option<u32>,
) -> Result<VerifyReport, SignError> {
    verify_with(
        path,
        &VerifyOptions {
            kind,
            min_sdk: min_sdk_override,
            v4_signature: None,
        },
    )
}

/// Verifies the archive at `path` as apksig's `ApkVerifier` does: each scheme where a
/// platform the APK supports would check it, and a v4 signature when one is given.
pub fn verify_with(path: &Path, verify: &VerifyOptions<'_>) -> Result<VerifyReport, SignError> {
    let kind = verify.kind;
    let mut archive = Archive::open(path)?;
    let options = SignOptions {
        kind,
        min_sdk: verify.min_sdk,
        v1: None,
        v2: None,
        v3: None,
        v1_basename: String::new(),
        allow_debug_key: true,
    };
    let min_sdk = min_sdk(&mut archive, &options)?;
    let mut report = VerifyReport {
        min_sdk,
        ..VerifyReport::default()
    };

    // v2 / v3.
    let pairs = archive.block.clone().unwrap_or_default();
    let v2_block = pairs
        .iter()
        .find(|(id, _)| *id == v2::BLOCK_ID)
        .map(|(_, v)| v.as_slice());
    let v3_block = pairs
        .iter()
        .find(|(id, _)| *id == v3::BLOCK_ID)
        .map(|(_, v)| v.as_slice());
    // Like apksigner (and Android): from API 28 on, a platform that finds a v3 signature
    // never reads v2, so v2 is checked only below API 28 or without v3. Nothing is lost:
    // v2's stripping protection guards v3, which is then present and checked.
    let v2_block = v2_block.filter(|_| min_sdk < 28 || v3_block.is_none());
    let mut needed: Vec<ContentDigest> = Vec::new();
    for (b, is_v3) in [(v2_block, false), (v3_block, true)] {
        if let Some(b) = b {
            for d in scheme::content_digests_needed(b, is_v3) {
                if !needed.contains(&d) {
                    needed.push(d);
                }
            }
        }
    }
    let computed = if needed.is_empty() {
        Vec::new()
    } else {
        let entries_end = archive.entries_end;
        let cd = archive.cd.clone();
        let eocd = archive.eocd.raw.clone();
        signing_block::digest_file(&mut archive.file, entries_end, &cd, &eocd, &needed)?
    };
    let lookup = |alg: ContentDigest| {
        computed
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, d)| d.clone())
            .unwrap_or_default()
    };
    let mut v1_certs: Option<Vec<Certificate>> = None;
    let mut v3_lineage = None;
    let mut v2_stripping: Vec<u32> = Vec::new();
    let mut v2_signers = Vec::new();
    let mut v3_signers = Vec::new();
    if let Some(b) = v2_block {
        let r = v2::verify(b, &lookup);
        report.v2 = r.issues.is_empty();
        report.errors.extend(r.issues);
        v2_stripping = r.stripping_protection;
        if report.v2 {
            v2_signers = r.signers;
        }
    }
    if let Some(b) = v3_block {
        let r = v3::verify(b, &lookup);
        report.v3 = r.issues.is_empty();
        report.errors.extend(r.issues);
        if report.v3 {
            v3_signers = r.signers;
            v3_lineage = r.lineage;
        }
    }
    if v2_stripping.contains(&3) && v3_block.is_none() {
        report.errors.push(Finding::V3Stripped);
    }

    // v4, when given: its signers against the APK, then against v3's (or v2's).
    if let Some(idsig) = verify.v4_signature {
        let len = archive.file.seek(SeekFrom::End(0))?;
        match v4::verify(idsig, &mut archive.file, len)? {
            Err(finding) => report.errors.push(finding),
            Ok(v4_signers) => {
                let against = if report.v3 {
                    Some(&v3_signers)
                } else if report.v2 {
                    Some(&v2_signers)
                } else {
                    None
                };
                let before = report.errors.len();
                match against {
                    None => report.errors.push(Finding::V4WithoutV2V3),
                    Some(signers) => {
                        check_v4(&v4_signers, signers, &mut report.errors);
                    }
                }
                report.v4 = report.errors.len() == before;
            }
        }
    }

    // v1. Like apksigner, a JAR signature is only checked where a platform would check
    // it: below API 24, or when there is no newer scheme.
    let meta: Vec<CdEntry> = archive
        .entries
        .iter()
        .filter(|e| v1::is_signature_file(&e.name))
        .cloned()
        .collect();
    let newer_present = v2_block.is_some() || v3_block.is_some();
    let check_v1 = kind == ArchiveKind::Aab || min_sdk < 24 || !newer_present;
    if check_v1
        && meta
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case("META-INF/MANIFEST.MF"))
    {
        // Only the files a JAR signature consists of, with limits, before anything is
        // authenticated: a manifest and .SF grow with the entry count, a block does not.
        let mut files = Vec::with_capacity(meta.len());
        let mut budget: u64 = 512 * 1024 * 1024;
        let mut signature_files = 0;
        for e in &meta {
            let upper = e.name.to_ascii_uppercase();
            let limit: u64 = if upper.ends_with(".SF") || upper.ends_with("MANIFEST.MF") {
                256 * 1024 * 1024
            } else if upper.ends_with(".RSA") || upper.ends_with(".EC") || upper.ends_with(".DSA") {
                1024 * 1024
            } else {
                continue;
            };
            if upper.ends_with(".SF") {
                signature_files += 1;
                if signature_files > 16 {
                    return Err(ZipError::Malformed("more than 16 JAR signers".into()).into());
                }
            }
            let limit = limit.min(budget);
            let data = archive.read_entry(e, limit)?;
            budget -= data.len() as u64;
            files.push((e.name.clone(), data));
        }
        let names: Vec<String> = archive
            .entries
            .iter()
            .filter(|e| !v1::is_signature_file(&e.name) && !e.is_dir())
            .map(|e| e.name.clone())
            .collect();
        let by_name: std::collections::HashMap<String, CdEntry> = archive
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.clone()))
            .collect();
        let archive_ref = &mut archive;
        let mut entry_digest =
            |name: &str, alg: &'static digest::Algorithm| -> Result<Vec<u8>, SignError> {
                let entry = by_name
                    .get(name)
                    .ok_or_else(|| ZipError::Malformed(format!("no entry `{name}`")))?;
                let mut ctx = digest::Context::new(alg);
                archive_ref.stream_entry(entry, &mut |c| {
                    ctx.update(c);
                    Ok(())
                })?;
                Ok(ctx.finish().as_ref().to_vec())
            };
        let r = v1::verify(&files, &names, &mut entry_digest)?;
        report.v1 = r.issues.is_empty() && !r.signers.is_empty();
        report.errors.extend(r.issues);
        if report.v1 {
            v1_certs = Some(r.signers);
        }
        for (scheme, block) in [(Scheme::V2, v2_block), (Scheme::V3, v3_block)] {
            if r.apk_signed_schemes.contains(&scheme.id()) && block.is_none() {
                report.errors.push(Finding::StrippedPerJar { scheme });
            }
        }
    }

    // Signers must agree across schemes: v1 and v2 have the same signers; v3's is theirs,
    // or (after a key rotation) the oldest certificate of v3's lineage is, as apksig checks.
    let v2_certs: Option<Vec<Certificate>> = report
        .v2
        .then(|| v2_signers.iter().map(|s| s.certificate.clone()).collect());
    let fp = |set: &[Certificate]| {
        set.iter()
            .map(|c| c.fingerprints().sha256.clone())
            .collect::<Vec<_>>()
    };
    if let (Some(v1), Some(v2)) = (&v1_certs, &v2_certs) {
        if fp(v1) != fp(v2) {
            report.errors.push(Finding::SignersDiffer);
        }
    }
    if report.v3 {
        if let Some(old) = v1_certs.as_ref().or(v2_certs.as_ref()) {
            if old.len() != 1 {
                report.errors.push(Finding::MultiplePastSigners);
            }
            let root = match &v3_lineage {
                Some(lineage) => lineage.nodes.first().map(|n| &n.certificate),
                None => v3_signers.first().map(|s| &s.certificate),
            };
            if old.first().map(Certificate::der) != root.map(Certificate::der) {
                report.errors.push(Finding::PastSignersMismatch);
            }
        }
    }
    // apksigner reports v3's newest signer, else every v2 signer, else every v1 signer.
    report.signers = match v3_signers.last() {
        Some(newest) => vec![newest.certificate.clone()],
        None => v2_certs.or(v1_certs).unwrap_or_default(),
    };
    report.lineage = v3_lineage;
    if !(report.v1 || report.v2 || report.v3) && report.errors.is_empty() {
        report.errors.push(Finding::NoSignaturesFound);
    }
    if kind == ArchiveKind::Apk {
        if min_sdk < 24 && !report.v1 && report.errors.is_empty() {
            report.errors.push(Finding::V1Needed { min_sdk });
        }
        if min_sdk < 28 && !report.v1 && !report.v2 && report.v3 && report.errors.is_empty() {
            report.errors.push(Finding::OnlyV3 { min_sdk });
        }
        // Android 11 refuses to install an app targeting API 30+ without v2 or later.
        let target = target_sdk(&mut archive).unwrap_or(min_sdk);
        if target >= 30 && !report.v2 && !report.v3 && report.errors.is_empty() {
            report
                .errors
                .push(Finding::V2NeededForTarget { target_sdk: target });
        }
    }
    report.verified = report.errors.is_empty();
    if !report.verified {
        report.v4 = false;
    }
    Ok(report)
}

/// apksig's checks of a verified v4 signature against the scheme it builds on: one v4
/// signer per v2/v3 signer, the same certificate, and the same content digest.
fn check_v4(
    v4_signers: &[v4::V4Signer],
    signers: &[scheme::VerifiedSigner],
    errors: &mut Vec<Finding>,
) {
    if v4_signers.len() != 1 || signers.len() != 1 {
        errors.push(Finding::V4SignerCount);
        return;
    }
    let (v4, signer) = (&v4_signers[0], &signers[0]);
    if v4.certificate.der() != signer.certificate.der() {
        errors.push(Finding::V4SignerMismatch);
    }
    if signer.best_digest_for_v4() != Some(v4.apk_digest.as_slice()) {
        errors.push(Finding::V4DigestMismatch);
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;

    use signet_formats::{DistinguishedName, KeyAlgorithm, KeyEntry, generate};

    pub(super) fn key(cn: &str) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).unwrap()
    }

    /// A ZIP of one stored entry, written by hand.
    pub(super) fn tiny_zip() -> Vec<u8> {
        let (name, data) = (b"a.txt", b"hello");
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut common = Vec::new();
        common.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        common.extend_from_slice(&crc.sum().to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&[0, 0]);
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&common);
        z.extend_from_slice(name);
        z.extend_from_slice(data);
        let cd_offset = z.len() as u32;
        z.extend_from_slice(b"PK\x01\x02\x14\x00");
        z.extend_from_slice(&common);
        z.extend_from_slice(&[0; 14]); // comment length, disk, attributes, local offset 0
        z.extend_from_slice(name);
        let cd_size = z.len() as u32 - cd_offset;
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\x00\x01\x00");
        z.extend_from_slice(&cd_size.to_le_bytes());
        z.extend_from_slice(&cd_offset.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z
    }

    /// Signs the tiny ZIP for API 24 (so v2 is checked beside v3) and verifies it.
    fn sign_and_verify(newest: &KeyEntry, rotation: &Rotation<'_>) -> VerifyReport {
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("u.apk"), dir.path().join("s.apk"));
        std::fs::write(&input, tiny_zip()).unwrap();
        let options = SignOptions {
            kind: ArchiveKind::Apk,
            min_sdk: Some(24),
            v1: Some(false),
            v2: None,
            v3: None,
            v1_basename: "K".into(),
            allow_debug_key: false,
        };
        let mut out = Vec::new();
        sign_rotated(&input, &mut out, newest, Some(rotation), &options).unwrap();
        std::fs::write(&output, out).unwrap();
        verify(&output, ArchiveKind::Apk, Some(24)).unwrap()
    }

    #[test]
    fn accepts_v2_by_the_lineages_oldest_key_and_reports_the_lineage() {
        let (old, new) = (key("old"), key("new"));
        let lineage = lineage::Lineage::rotate(&old, &new).unwrap();
        let r = sign_and_verify(&new, &Rotation::new(&lineage, &old, &new).unwrap());
        assert_eq!(r.errors, []);
        assert!(r.verified && r.v2 && r.v3);
        assert_eq!(r.signers[0].der(), new.chain[0].der());
        assert_eq!(r.lineage.map(|l| l.encode()), Some(lineage.encode()));
    }

    #[test]
    fn refuses_v2_by_a_key_that_is_not_the_lineages_oldest() {
        let (old, new, other) = (key("old"), key("new"), key("other"));
        let lineage = lineage::Lineage::rotate(&old, &new).unwrap();
        // Rotation::new refuses this; built by hand to sign what a forger could.
        let forged = Rotation {
            oldest: &other,
            lineage: lineage.clone(),
        };
        let r = sign_and_verify(&new, &forged);
        assert_eq!(r.errors, [Finding::PastSignersMismatch]);
        assert!(!r.verified);
        assert!(matches!(
            Rotation::new(&lineage, &other, &new),
            Err(SignError::Config(m)) if m.ends_with("the old key is not in the lineage")
        ));
        // Without a lineage to link them, two keys are two signers.
        let alone = Rotation {
            oldest: &old,
            lineage: lineage::Lineage {
                nodes: lineage.nodes[1..].to_vec(),
            },
        };
        let r = sign_and_verify(&new, &alone);
        assert_eq!(r.errors, [Finding::PastSignersMismatch]);
    }
}

/// How many calls signing makes to the key, and what each call signs.
#[cfg(test)]
mod sign_call_tests {
    use std::sync::Mutex;

    use signet_formats::{KeyAlgorithm, KeyEntry, Purpose, SignatureScheme};

    use super::{rotation_tests::key, rotation_tests::tiny_zip, *};
    use crate::key::ToSign;

    /// A key that records each call's purposes and schemes; `drop` signatures are left
    /// off its answers, `extra` added.
    struct Counting<'a> {
        inner: &'a KeyEntry,
        calls: Mutex<Vec<Vec<(Purpose, SignatureScheme)>>>,
        drop: usize,
        extra: usize,
    }

    impl<'a> Counting<'a> {
        fn new(inner: &'a KeyEntry) -> Counting<'a> {
            Counting {
                inner,
                calls: Mutex::new(Vec::new()),
                drop: 0,
                extra: 0,
            }
        }

        fn purposes(&self) -> Vec<Vec<Purpose>> {
            let calls = self.calls.lock().unwrap();
            calls
                .iter()
                .map(|c| c.iter().map(|(p, _)| *p).collect())
                .collect()
        }
    }

    impl SigningKey for Counting<'_> {
        fn certificates(&self) -> &[Certificate] {
            self.inner.certificates()
        }

        fn algorithm(&self) -> KeyAlgorithm {
            self.inner.algorithm()
        }

        fn sign(&self, batch: &[ToSign<'_>]) -> Result<Vec<Vec<u8>>, SignError> {
            self.calls
                .lock()
                .unwrap()
                .push(batch.iter().map(|m| (m.purpose, m.scheme)).collect());
            let mut signatures = self.inner.sign(batch)?;
            signatures.truncate(signatures.len().saturating_sub(self.drop));
            signatures.extend(std::iter::repeat_n(vec![0u8; 64], self.extra));
            Ok(signatures)
        }
    }

    fn options(kind: ArchiveKind, min_sdk: u32, v1: Option<bool>) -> SignOptions {
        SignOptions {
            kind,
            min_sdk: Some(min_sdk),
            v1,
            v2: None,
            v3: None,
            v1_basename: "K".into(),
            allow_debug_key: false,
        }
    }

    /// Signs the tiny ZIP and checks that the result verifies.
    fn sign_tiny(
        newest: &dyn SigningKey,
        rotation: Option<&Rotation<'_>>,
        options: &SignOptions,
    ) -> Result<SignReport, SignError> {
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("u.apk"), dir.path().join("s.apk"));
        std::fs::write(&input, tiny_zip()).unwrap();
        let mut out = Vec::new();
        let report = sign_rotated(&input, &mut out, newest, rotation, options)?;
        std::fs::write(&output, out).unwrap();
        let verified = verify(&output, options.kind, options.min_sdk).unwrap();
        assert_eq!(verified.errors, []);
        assert!(verified.verified);
        Ok(report)
    }

    #[test]
    fn an_apk_with_v1_v2_and_v3_costs_two_calls_v1_first() {
        let k = key("k");
        let counting = Counting::new(&k);
        let r = sign_tiny(&counting, None, &options(ArchiveKind::Apk, 21, None)).unwrap();
        assert!(r.v1 && r.v2 && r.v3);
        assert_eq!(
            counting.purposes(),
            [
                vec![Purpose::JarSignatureFile],
                vec![Purpose::ApkV2SignedData, Purpose::ApkV3SignedData],
            ]
        );
        // Every message of this P-256 key is ECDSA with SHA-256.
        let calls = counting.calls.lock().unwrap();
        assert!(
            calls
                .iter()
                .flatten()
                .all(|(_, s)| *s == SignatureScheme::EcdsaSha256)
        );
    }

    #[test]
    fn an_apk_without_v1_costs_one_call() {
        let k = key("k");
        let counting = Counting::new(&k);
        let r = sign_tiny(&counting, None, &options(ArchiveKind::Apk, 24, Some(false))).unwrap();
        assert!(!r.v1 && r.v2 && r.v3);
        assert_eq!(
            counting.purposes(),
            [vec![Purpose::ApkV2SignedData, Purpose::ApkV3SignedData]]
        );
    }

    #[test]
    fn an_aab_costs_one_call() {
        let k = key("k");
        let counting = Counting::new(&k);
        sign_tiny(&counting, None, &options(ArchiveKind::Aab, 18, None)).unwrap();
        assert_eq!(counting.purposes(), [vec![Purpose::JarSignatureFile]]);
    }

    #[test]
    fn after_a_rotation_each_key_signs_its_schemes() {
        let (old, new) = (key("old"), key("new"));
        let (old_counting, new_counting) = (Counting::new(&old), Counting::new(&new));
        let lineage_counting = Counting::new(&old);
        let lineage = lineage::Lineage::rotate(&lineage_counting, &new).unwrap();
        assert_eq!(lineage_counting.purposes(), [vec![Purpose::LineageNode]]);
        let rotation = Rotation::new(&lineage, &old_counting, &new_counting).unwrap();
        sign_tiny(
            &new_counting,
            Some(&rotation),
            &options(ArchiveKind::Apk, 21, None),
        )
        .unwrap();
        assert_eq!(
            old_counting.purposes(),
            [
                vec![Purpose::JarSignatureFile],
                vec![Purpose::ApkV2SignedData]
            ]
        );
        assert_eq!(new_counting.purposes(), [vec![Purpose::ApkV3SignedData]]);
    }

    #[test]
    fn a_v4_signature_costs_one_call() {
        let k = key("k");
        let counting = Counting::new(&k);
        let apk = tiny_zip();
        let alg = algorithms::ApkSigAlg::for_key(k.algorithm());
        v4::sign(
            &mut std::io::Cursor::new(&apk),
            apk.len() as u64,
            &counting,
            alg,
            &[0; 32],
        )
        .unwrap();
        assert_eq!(counting.purposes(), [vec![Purpose::ApkV4SignedData]]);
    }

    #[test]
    fn refuses_a_key_that_returns_too_few_or_too_many_signatures() {
        let k = key("k");
        for (drop, extra, expected, returned) in [(1, 0, 2, 1), (0, 1, 2, 3)] {
            let counting = Counting {
                drop,
                extra,
                ..Counting::new(&k)
            };
            let err = sign_tiny(&counting, None, &options(ArchiveKind::Apk, 24, Some(false)))
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    SignError::SignatureCount { expected: e, returned: r }
                        if e == expected && r == returned
                ),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "the signing key returned {returned} signature(s) for {expected} message(s)"
                )
            );
        }
        // A single message (v1 of an AAB) is checked too.
        let counting = Counting {
            drop: 1,
            ..Counting::new(&k)
        };
        let err = sign_tiny(&counting, None, &options(ArchiveKind::Aab, 18, None)).unwrap_err();
        assert!(
            matches!(
                err,
                SignError::SignatureCount {
                    expected: 1,
                    returned: 0
                }
            ),
            "{err:?}"
        );
    }
}

/// The v1 digests computed on the worker thread while the entries are copied.
#[cfg(test)]
mod v1_worker_tests {
    use std::io::Write as _;

    use super::{rotation_tests::key, *};

    /// A ZIP of `(name, method, data)` entries, deflating where asked; `raw` entries are
    /// written as given under the deflate method (for corrupt data).
    fn zip_of(entries: &[(&str, u16, Vec<u8>, bool)]) -> Vec<u8> {
        let mut z = Vec::new();
        let mut cd = Vec::new();
        for (name, method, data, raw) in entries {
            let stored = if *method == 8 && !*raw {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            } else {
                data.clone()
            };
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let mut common = Vec::new();
            common.extend_from_slice(&[20, 0, 0, 0]);
            common.extend_from_slice(&method.to_le_bytes());
            common.extend_from_slice(&[0, 0, 0, 0]);
            common.extend_from_slice(&crc.sum().to_le_bytes());
            common.extend_from_slice(&(stored.len() as u32).to_le_bytes());
            common.extend_from_slice(&(data.len() as u32).to_le_bytes());
            common.extend_from_slice(&(name.len() as u16).to_le_bytes());
            common.extend_from_slice(&[0, 0]);
            let offset = z.len() as u32;
            z.extend_from_slice(b"PK\x03\x04");
            z.extend_from_slice(&common);
            z.extend_from_slice(name.as_bytes());
            z.extend_from_slice(&stored);
            cd.extend_from_slice(b"PK\x01\x02\x14\x00");
            cd.extend_from_slice(&common);
            cd.extend_from_slice(&[0; 10]); // comment length, disk, attributes
            cd.extend_from_slice(&offset.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_offset = z.len() as u32;
        z.extend_from_slice(&cd);
        let n = (entries.len() as u16).to_le_bytes();
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        z.extend_from_slice(&n);
        z.extend_from_slice(&n);
        z.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        z.extend_from_slice(&cd_offset.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z
    }

    /// Pseudo-random bytes (xorshift), so that deflate cannot shrink them much.
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn sign_bytes(zip: &[u8], dir: &Path) -> Result<Vec<u8>, SignError> {
        let input = dir.join("u.apk");
        std::fs::write(&input, zip).unwrap();
        let options = SignOptions {
            kind: ArchiveKind::Apk,
            min_sdk: Some(21),
            v1: None,
            v2: None,
            v3: None,
            v1_basename: "K".into(),
            allow_debug_key: false,
        };
        let mut out = Vec::new();
        sign(&input, &mut out, &key("k"), &options)?;
        Ok(out)
    }

    #[test]
    fn digests_entries_that_span_batches_and_entries_that_share_one() {
        let mut entries = vec![
            ("big.bin", 8, noise(3 * 1024 * 1024, 7), false),
            ("big-stored.bin", 0, noise(1024 * 1024 + 17, 9), false),
            ("empty.txt", 0, Vec::new(), false),
            ("empty-deflated.txt", 8, Vec::new(), false),
        ];
        let names: Vec<String> = (0..3000).map(|i| format!("res/{i}.txt")).collect();
        for (i, name) in names.iter().enumerate() {
            let method = if i % 2 == 0 { 8 } else { 0 };
            entries.push((
                name,
                method,
                format!("resource {i}\n").repeat(i % 50).into_bytes(),
                false,
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let signed = sign_bytes(&zip_of(&entries), dir.path()).unwrap();
        let output = dir.path().join("s.apk");
        std::fs::write(&output, &signed).unwrap();
        // Verification recomputes every v1 digest on this thread, entry by entry.
        let r = verify(&output, ArchiveKind::Apk, Some(21)).unwrap();
        assert_eq!(r.errors, []);
        assert!(r.verified && r.v1 && r.v2 && r.v3);
    }

    #[test]
    fn bad_deflate_data_is_a_typed_error_even_with_much_left_to_copy() {
        // The worker fails on the first entry while the copy has megabytes to go: the
        // copy stops at its next hand-over instead of waiting for a worker that is gone.
        let mut entries = vec![("bad.bin", 8, vec![0xff; 64], true)];
        let names: Vec<String> = (0..40).map(|i| format!("assets/{i}.bin")).collect();
        for name in &names {
            entries.push((name, 0, noise(256 * 1024, 3), false));
        }
        let dir = tempfile::tempdir().unwrap();
        let err = sign_bytes(&zip_of(&entries), dir.path()).unwrap_err();
        assert!(
            matches!(&err, SignError::Zip(ZipError::Malformed(m))
                if m == "entry `bad.bin` is not valid deflate data"),
            "{err:?}"
        );
        // An unsupported method is the worker's error too, with the entry's name.
        let entries = vec![("odd.bin", 12, vec![1, 2, 3], true)];
        let err = sign_bytes(&zip_of(&entries), dir.path()).unwrap_err();
        assert!(
            matches!(&err, SignError::Zip(ZipError::Unsupported(m))
                if m == "entry `odd.bin` uses compression method 12"),
            "{err:?}"
        );
    }
}
