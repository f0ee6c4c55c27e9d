//! Writing what signing changes: local headers with alignment, relocated central
//! directory records, new deflated entries, and the end record.

use super::{LOCAL_HEADER_LEN, LocalHeader};
use crate::error::ZipError;

/// apksig's alignment extra field: `u16 alignment` then zero padding.
pub const ALIGNMENT_EXTRA_ID: u16 = 0xd935;

/// The extra field without alignment padding: 0xd935 fields and zipalign's zero filler
/// are dropped, every other field kept.
pub fn strip_alignment(extra: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(extra.len());
    let mut pos = 0;
    while pos + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[pos], extra[pos + 1]]);
        let len = usize::from(u16::from_le_bytes([extra[pos + 2], extra[pos + 3]]));
        if pos + 4 + len > extra.len() {
            break;
        }
        if id != ALIGNMENT_EXTRA_ID && !(id == 0 && len == 0) {
            out.extend_from_slice(&extra[pos..pos + 4 + len]);
        }
        pos += 4 + len;
    }
    let rest = &extra[pos..];
    if rest.iter().any(|&b| b != 0) {
        out.extend_from_slice(rest);
    }
    out
}

/// The local header to write at `offset` so that the entry's data starts on a multiple
/// of `align` (no padding when `align` is 1).
pub fn aligned_local_header(h: &LocalHeader, offset: u64, align: u64) -> Result<Vec<u8>, ZipError> {
    let mut extra = strip_alignment(&h.extra);
    let data_at = offset + (LOCAL_HEADER_LEN + h.name.len() + extra.len()) as u64;
    if align > 1 && data_at % align != 0 {
        let pad = (align - (data_at + 6) % align) % align;
        extra.extend_from_slice(&ALIGNMENT_EXTRA_ID.to_le_bytes());
        extra.extend_from_slice(&((2 + pad) as u16).to_le_bytes());
        extra.extend_from_slice(&(align as u16).to_le_bytes());
        extra.resize(extra.len() + pad as usize, 0);
    }
    let extra_len = u16::try_from(extra.len())
        .map_err(|_| ZipError::Malformed("extra field too long to add alignment padding".into()))?;
    let mut out = Vec::with_capacity(LOCAL_HEADER_LEN + h.name.len() + extra.len());
    out.extend_from_slice(&h.fixed[..28]);
    out.extend_from_slice(&extra_len.to_le_bytes());
    out.extend_from_slice(&h.name);
    out.extend_from_slice(&extra);
    Ok(out)
}

/// A 32-bit ZIP offset or size; larger values would need ZIP64, which APKs never use.
pub fn u32_field(v: u64) -> Result<u32, ZipError> {
    u32::try_from(v).map_err(|_| ZipError::Zip64)
}

/// A central directory record with its local header offset replaced.
pub fn relocated_cd_record(raw: &[u8], offset: u64) -> Result<Vec<u8>, ZipError> {
    let mut r = raw.to_vec();
    r[42..46].copy_from_slice(&u32_field(offset)?.to_le_bytes());
    Ok(r)
}

/// DOS date and time of new entries: 1981-01-01 01:01:02, fixed so output is reproducible.
const DOS_TIME: u16 = 0x0821;
const DOS_DATE: u16 = 0x0221;

/// A new deflated entry: its local record (header + data) and central directory record
/// for `offset`.
pub fn new_entry(name: &str, data: &[u8], offset: u64) -> Result<(Vec<u8>, Vec<u8>), ZipError> {
    new_entry_with(name, data, offset, true, None)
}

/// A new entry, deflated or stored, with a Unix mode (file type and permissions) recorded
/// in the external attributes when given.
pub fn new_entry_with(
    name: &str,
    data: &[u8],
    offset: u64,
    deflate: bool,
    unix_mode: Option<u32>,
) -> Result<(Vec<u8>, Vec<u8>), ZipError> {
    use std::io::Write as _;
    let offset = u32_field(offset)?;
    let data_len = u32_field(data.len() as u64)?;
    let (method, compressed) = if deflate {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = enc.write_all(data);
        (super::METHOD_DEFLATED, enc.finish().unwrap_or_default())
    } else {
        (super::METHOD_STORED, data.to_vec())
    };
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let crc = crc.sum();

    let mut local = Vec::with_capacity(LOCAL_HEADER_LEN + name.len() + compressed.len());
    local.extend_from_slice(&super::LOCAL_SIGNATURE.to_le_bytes());
    local.extend_from_slice(&20u16.to_le_bytes()); // version needed
    local.extend_from_slice(&0u16.to_le_bytes()); // flags
    local.extend_from_slice(&method.to_le_bytes());
    local.extend_from_slice(&DOS_TIME.to_le_bytes());
    local.extend_from_slice(&DOS_DATE.to_le_bytes());
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&u32_field(compressed.len() as u64)?.to_le_bytes());
    local.extend_from_slice(&data_len.to_le_bytes());
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name.as_bytes());
    local.extend_from_slice(&compressed);

    let mut cd = Vec::with_capacity(46 + name.len());
    cd.extend_from_slice(&super::CD_SIGNATURE.to_le_bytes());
    // Version made by: 2.0, on Unix (3) when a mode is recorded.
    let made_by: u16 = if unix_mode.is_some() { 0x0314 } else { 20 };
    cd.extend_from_slice(&made_by.to_le_bytes());
    cd.extend_from_slice(&20u16.to_le_bytes()); // version needed
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&method.to_le_bytes());
    cd.extend_from_slice(&DOS_TIME.to_le_bytes());
    cd.extend_from_slice(&DOS_DATE.to_le_bytes());
    cd.extend_from_slice(&crc.to_le_bytes());
    cd.extend_from_slice(&u32_field(compressed.len() as u64)?.to_le_bytes());
    cd.extend_from_slice(&data_len.to_le_bytes());
    cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
    cd.extend_from_slice(&[0u8; 8]); // extra len, comment len, disk, internal attrs
    cd.extend_from_slice(&(unix_mode.unwrap_or(0) << 16).to_le_bytes());
    cd.extend_from_slice(&offset.to_le_bytes());
    cd.extend_from_slice(name.as_bytes());
    Ok((local, cd))
}

/// An end of central directory record without comment.
pub fn eocd(entries: u16, cd_size: u64, cd_offset: u64) -> Result<Vec<u8>, ZipError> {
    let mut e = Vec::with_capacity(22);
    e.extend_from_slice(&super::EOCD_SIGNATURE.to_le_bytes());
    e.extend_from_slice(&[0u8; 4]);
    e.extend_from_slice(&entries.to_le_bytes());
    e.extend_from_slice(&entries.to_le_bytes());
    e.extend_from_slice(&u32_field(cd_size)?.to_le_bytes());
    e.extend_from_slice(&u32_field(cd_offset)?.to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(extra: &[u8]) -> LocalHeader {
        let mut fixed = [0u8; LOCAL_HEADER_LEN];
        fixed[26] = 3;
        LocalHeader {
            fixed,
            name: b"a.so".to_vec(),
            extra: extra.to_vec(),
        }
    }

    #[test]
    fn alignment_puts_data_on_the_boundary() {
        for offset in [0u64, 1, 7, 4095, 4096, 100_001] {
            for align in [4u64, 16384] {
                let h = aligned_local_header(&header(&[]), offset, align).unwrap();
                assert_eq!(
                    (offset + h.len() as u64) % align,
                    0,
                    "offset {offset} align {align}"
                );
            }
        }
    }

    #[test]
    fn old_padding_is_replaced_not_stacked() {
        let once = aligned_local_header(&header(&[]), 3, 4).unwrap();
        let h2 = LocalHeader {
            fixed: header(&[]).fixed,
            name: b"a.so".to_vec(),
            extra: once[LOCAL_HEADER_LEN + 4..].to_vec(),
        };
        let twice = aligned_local_header(&h2, 3, 4).unwrap();
        assert_eq!(once, twice);
        // zipalign's zero filler is dropped too; other fields survive.
        assert_eq!(strip_alignment(&[0, 0, 0]), Vec::<u8>::new());
        assert_eq!(
            strip_alignment(&[0x55, 0x54, 1, 0, 9]),
            vec![0x55, 0x54, 1, 0, 9]
        );
    }
}
