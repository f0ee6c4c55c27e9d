//! ZIP as APKs use it (APPNOTE.TXT): the end of central directory record, the central
//! directory, and local file headers. Only what signing needs, and strict about it: ZIP64,
//! multi-disk archives, duplicate or unsafe entry names and records that overlap are
//! refused rather than guessed at.
//!
//! ```text
//! [local file header 1][data 1][data descriptor 1] … [APK Signing Block] [central directory] [EOCD]
//! ```

pub mod write;

use std::io::{Read, Seek, SeekFrom};

use crate::{SignError, error::ZipError};

/// `PK\x05\x06`.
pub const EOCD_SIGNATURE: u32 = 0x0605_4b50;
/// `PK\x01\x02`.
pub const CD_SIGNATURE: u32 = 0x0201_4b50;
/// `PK\x03\x04`.
pub const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
/// `PK\x07\x08`, the optional signature of a data descriptor.
pub const DATA_DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
/// `PK\x06\x07`, the ZIP64 end of central directory locator.
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const EOCD_LEN: usize = 22;
const CD_HEADER_LEN: usize = 46;
/// Size of a local file header without name and extra field.
pub const LOCAL_HEADER_LEN: usize = 30;
/// Compression methods APKs use.
pub const METHOD_STORED: u16 = 0;
/// Deflate.
pub const METHOD_DEFLATED: u16 = 8;
/// General-purpose flag: sizes and CRC follow the data in a data descriptor.
pub const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;

/// A buffered file reader whose seeks are free when they land where it already is or
/// inside its buffer: signing reads entries in file order, header after data, and a plain
/// `BufReader` would throw its buffer away at every entry.
pub struct ArchiveReader<R> {
    inner: std::io::BufReader<R>,
    pos: u64,
}

impl<R: Read + Seek> ArchiveReader<R> {
    /// Wraps `inner` with a buffer of `capacity` bytes.
    pub fn new(inner: R, capacity: usize) -> ArchiveReader<R> {
        ArchiveReader {
            inner: std::io::BufReader::with_capacity(capacity, inner),
            pos: 0,
        }
    }
}

impl<R: Read + Seek> Read for ArchiveReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for ArchiveReader<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        if let SeekFrom::Start(target) = to {
            let buffered = self.inner.buffer().len() as u64;
            if target >= self.pos && target - self.pos <= buffered {
                let delta = i64::try_from(target - self.pos).unwrap_or(0);
                self.inner.seek_relative(delta)?;
                self.pos = target;
                return Ok(target);
            }
        }
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

/// The end of central directory record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eocd {
    /// Where the record starts in the file.
    pub offset: u64,
    /// Offset of the central directory.
    pub cd_offset: u64,
    /// Size of the central directory in bytes.
    pub cd_size: u64,
    /// Number of entries.
    pub entries: u16,
    /// The whole record, comment included.
    pub raw: Vec<u8>,
}

/// One central directory record.
#[derive(Debug, Clone)]
pub struct CdEntry {
    /// Entry name, as UTF-8 (APK entry names are UTF-8 or ASCII).
    pub name: String,
    /// General-purpose flags.
    pub flags: u16,
    /// Compression method.
    pub method: u16,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Size of the stored data.
    pub compressed_size: u64,
    /// Size of the data once inflated.
    pub uncompressed_size: u64,
    /// Offset of the local file header.
    pub local_offset: u64,
    /// The whole central directory record (header, name, extra, comment).
    pub raw: Vec<u8>,
}

impl CdEntry {
    /// Whether this is a directory entry.
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }

    /// The Unix mode (type and permission bits), when the archive was made on Unix.
    pub fn unix_mode(&self) -> Option<u32> {
        let made_by_host = self.raw.get(5).copied()?;
        let attrs = u32_at(&self.raw, 38);
        (made_by_host == 3 && attrs >> 16 != 0).then_some(attrs >> 16)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Finds and parses the end of central directory record, searching the last 64 KiB + 22
/// bytes for a signature whose comment length reaches exactly the end of the file.
pub fn read_eocd<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Eocd, SignError> {
    if file_len < EOCD_LEN as u64 {
        return Err(ZipError::NotZip.into());
    }
    let tail_len = file_len.min(EOCD_LEN as u64 + 0xFFFF);
    let tail_start = file_len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    r.seek(SeekFrom::Start(tail_start))?;
    r.read_exact(&mut tail)?;
    let mut found = None;
    for i in (0..=tail.len() - EOCD_LEN).rev() {
        if u32_at(&tail, i) == EOCD_SIGNATURE {
            let comment_len = usize::from(u16_at(&tail, i + 20));
            if i + EOCD_LEN + comment_len == tail.len() {
                found = Some(i);
                break;
            }
        }
    }
    let i = found.ok_or(ZipError::NotZip)?;
    let rec = &tail[i..];
    let disk = u16_at(rec, 4);
    let cd_disk = u16_at(rec, 6);
    let entries_here = u16_at(rec, 8);
    let entries = u16_at(rec, 10);
    let cd_size = u32_at(rec, 12);
    let cd_offset = u32_at(rec, 16);
    if i >= 20 && u32_at(&tail, i - 20) == ZIP64_LOCATOR_SIGNATURE
        || entries == 0xFFFF
        || cd_size == 0xFFFF_FFFF
        || cd_offset == 0xFFFF_FFFF
    {
        return Err(ZipError::Zip64.into());
    }
    if disk != 0 || cd_disk != 0 || entries_here != entries {
        return Err(ZipError::MultiDisk.into());
    }
    let offset = tail_start + i as u64;
    if u64::from(cd_offset) + u64::from(cd_size) != offset {
        return Err(ZipError::Malformed(format!(
            "central directory ({cd_size} bytes at {cd_offset}) does not end where the end record starts ({offset})"
        ))
        .into());
    }
    Ok(Eocd {
        offset,
        cd_offset: u64::from(cd_offset),
        cd_size: u64::from(cd_size),
        entries,
        raw: rec.to_vec(),
    })
}

/// Parses the central directory, refusing duplicate names, names that escape the archive
/// (`..` components, absolute paths, backslashes, NUL), and local offsets past `data_end`
/// (where the entries section ends: the signing block or the central directory).
pub fn read_central_directory(
    cd: &[u8],
    expected: u16,
    data_end: u64,
) -> Result<Vec<CdEntry>, SignError> {
    let mut entries = Vec::with_capacity(usize::from(expected));
    let mut names = std::collections::HashSet::with_capacity(usize::from(expected));
    let mut pos = 0usize;
    while pos < cd.len() {
        let rest = &cd[pos..];
        if rest.len() < CD_HEADER_LEN {
            return Err(ZipError::Truncated("central directory record").into());
        }
        if u32_at(rest, 0) != CD_SIGNATURE {
            return Err(ZipError::Malformed(format!(
                "bad central directory record signature at offset {pos}"
            ))
            .into());
        }
        let flags = u16_at(rest, 8);
        let method = u16_at(rest, 10);
        let crc32 = u32_at(rest, 16);
        let compressed_size = u32_at(rest, 20);
        let uncompressed_size = u32_at(rest, 24);
        let name_len = usize::from(u16_at(rest, 28));
        let extra_len = usize::from(u16_at(rest, 30));
        let comment_len = usize::from(u16_at(rest, 32));
        let local_offset = u32_at(rest, 42);
        let total = CD_HEADER_LEN + name_len + extra_len + comment_len;
        if rest.len() < total {
            return Err(ZipError::Truncated("central directory record").into());
        }
        if compressed_size == 0xFFFF_FFFF
            || uncompressed_size == 0xFFFF_FFFF
            || local_offset == 0xFFFF_FFFF
        {
            return Err(ZipError::Zip64.into());
        }
        let raw_name = &rest[CD_HEADER_LEN..CD_HEADER_LEN + name_len];
        let name = String::from_utf8(raw_name.to_vec())
            .map_err(|_| ZipError::BadName(String::from_utf8_lossy(raw_name).into_owned()))?;
        check_name(&name)?;
        if !names.insert(name.clone()) {
            return Err(ZipError::DuplicateEntry(name).into());
        }
        if u64::from(local_offset) + LOCAL_HEADER_LEN as u64 > data_end {
            return Err(ZipError::Malformed(format!(
                "entry `{name}` starts past the end of the entries"
            ))
            .into());
        }
        if flags & 0x0001 != 0 {
            return Err(ZipError::Unsupported(format!("entry `{name}` is encrypted")).into());
        }
        entries.push(CdEntry {
            name,
            flags,
            method,
            crc32,
            compressed_size: u64::from(compressed_size),
            uncompressed_size: u64::from(uncompressed_size),
            local_offset: u64::from(local_offset),
            raw: rest[..total].to_vec(),
        });
        pos += total;
    }
    if entries.len() != usize::from(expected) {
        return Err(ZipError::Malformed(format!(
            "central directory holds {} entries, the end record says {expected}",
            entries.len()
        ))
        .into());
    }
    Ok(entries)
}

fn check_name(name: &str) -> Result<(), ZipError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.split('/').any(|c| c == "..")
        || (name.len() >= 2 && name.as_bytes()[1] == b':');
    if bad {
        return Err(ZipError::BadName(name.to_owned()));
    }
    Ok(())
}

/// A local file header, as far as copying an entry needs it.
#[derive(Debug, Clone)]
pub struct LocalHeader {
    /// The 30 fixed bytes.
    pub fixed: [u8; LOCAL_HEADER_LEN],
    /// The name bytes.
    pub name: Vec<u8>,
    /// The extra field.
    pub extra: Vec<u8>,
}

impl LocalHeader {
    /// Reads the local header of `entry`, checking that it agrees with the central
    /// directory on the name.
    pub fn read<R: Read + Seek>(r: &mut R, entry: &CdEntry) -> Result<LocalHeader, SignError> {
        let mut fixed = [0u8; LOCAL_HEADER_LEN];
        r.seek(SeekFrom::Start(entry.local_offset))?;
        r.read_exact(&mut fixed)
            .map_err(|_| ZipError::Truncated("local file header"))?;
        if u32_at(&fixed, 0) != LOCAL_SIGNATURE {
            return Err(ZipError::Malformed(format!(
                "bad local header signature for `{}`",
                entry.name
            ))
            .into());
        }
        let name_len = usize::from(u16_at(&fixed, 26));
        let extra_len = usize::from(u16_at(&fixed, 28));
        let mut name = vec![0u8; name_len];
        let mut extra = vec![0u8; extra_len];
        r.read_exact(&mut name)
            .map_err(|_| ZipError::Truncated("local file header"))?;
        r.read_exact(&mut extra)
            .map_err(|_| ZipError::Truncated("local file header"))?;
        if name != entry.name.as_bytes() {
            return Err(ZipError::Malformed(format!(
                "local header name differs from central directory for `{}`",
                entry.name
            ))
            .into());
        }
        let header = LocalHeader { fixed, name, extra };
        header.check_against(entry)?;
        Ok(header)
    }

    /// The local header must agree with the central directory on what the data is, so
    /// that a reader streaming local headers sees what was digested.
    fn check_against(&self, entry: &CdEntry) -> Result<(), ZipError> {
        let mismatch = |what: &str| {
            ZipError::Malformed(format!(
                "{what} of `{}` differs between local header and central directory",
                entry.name
            ))
        };
        if u16_at(&self.fixed, 8) != entry.method {
            return Err(mismatch("compression method"));
        }
        let dd = self.flags() & FLAG_DATA_DESCRIPTOR;
        if dd != entry.flags & FLAG_DATA_DESCRIPTOR {
            return Err(mismatch("data descriptor flag"));
        }
        if dd == 0 {
            if u32_at(&self.fixed, 14) != entry.crc32 {
                return Err(mismatch("CRC-32"));
            }
            if u64::from(u32_at(&self.fixed, 18)) != entry.compressed_size
                || u64::from(u32_at(&self.fixed, 22)) != entry.uncompressed_size
            {
                return Err(mismatch("size"));
            }
        }
        if entry.method == METHOD_STORED && entry.compressed_size != entry.uncompressed_size {
            return Err(mismatch("stored size"));
        }
        Ok(())
    }

    /// Offset of the entry's data from the start of the local header.
    pub fn data_offset(&self) -> u64 {
        (LOCAL_HEADER_LEN + self.name.len() + self.extra.len()) as u64
    }

    /// General-purpose flags.
    pub fn flags(&self) -> u16 {
        u16_at(&self.fixed, 6)
    }
}

/// Length of the data descriptor after an entry's data (0 when the flag is not set):
/// 12 bytes, or 16 with the optional signature.
pub fn data_descriptor_len<R: Read + Seek>(
    r: &mut R,
    flags: u16,
    at: u64,
) -> Result<u64, SignError> {
    if flags & FLAG_DATA_DESCRIPTOR == 0 {
        return Ok(0);
    }
    let mut sig = [0u8; 4];
    r.seek(SeekFrom::Start(at))?;
    r.read_exact(&mut sig)
        .map_err(|_| ZipError::Truncated("data descriptor"))?;
    Ok(if u32::from_le_bytes(sig) == DATA_DESCRIPTOR_SIGNATURE {
        16
    } else {
        12
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unsafe_names() {
        for bad in ["../evil", "a/../../b", "/abs", "c:/x", "a\\b", "", "x\0y"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for ok in [
            "AndroidManifest.xml",
            "res/a..b.png",
            "lib/arm64-v8a/libx.so",
            "dir/",
        ] {
            assert!(check_name(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn not_a_zip() {
        let mut c = std::io::Cursor::new(b"this is not a zip file at all, no".to_vec());
        assert!(matches!(
            read_eocd(&mut c, 33),
            Err(SignError::Zip(ZipError::NotZip))
        ));
        let mut c = std::io::Cursor::new(vec![]);
        assert!(matches!(
            read_eocd(&mut c, 0),
            Err(SignError::Zip(ZipError::NotZip))
        ));
    }
}
