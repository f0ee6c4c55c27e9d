//! The little DER that JAR signature blocks need: an encoder for PKCS#7 SignedData and a
//! bounds-checked TLV reader for parsing them back.

/// Encodes one TLV.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// `SEQUENCE { parts… }`.
pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `SET { parts… }` (callers pass a single element or pre-sorted elements).
pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

/// An OBJECT IDENTIFIER from its encoded content bytes.
pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// A small non-negative INTEGER.
pub fn small_int(v: u8) -> Vec<u8> {
    if v < 0x80 {
        tlv(0x02, &[v])
    } else {
        tlv(0x02, &[0, v])
    }
}

/// `NULL`.
pub const NULL: [u8; 2] = [0x05, 0x00];

/// Encoded OID contents.
pub mod oids {
    /// 1.2.840.113549.1.7.1 data
    pub const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    /// 1.2.840.113549.1.7.2 signedData
    pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    /// 1.3.14.3.2.26 sha1
    pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// 2.16.840.1.101.3.4.2.1 sha256
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// 1.2.840.113549.1.1.1 rsaEncryption
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// 1.2.840.113549.1.1.5 sha1WithRSAEncryption
    pub const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    /// 1.2.840.113549.1.1.11 sha256WithRSAEncryption
    pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    /// 1.2.840.10045.4.3.2 ecdsa-with-SHA256
    pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
}

/// A bounds-checked DER reader. Every method returns `None` on malformed input.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Whether everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads one TLV: its tag, its content and its whole encoding.
    pub fn any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let tag = *self.data.first()?;
        let first = *self.data.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | usize::from(*self.data.get(2 + i)?);
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len)?;
        let whole = self.data.get(..end)?;
        let content = whole.get(header..)?;
        self.data = self.data.get(end..)?;
        Some((tag, content, whole))
    }

    /// Reads a TLV that must have `tag`, returning its content.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (t, content, _) = self.any()?;
        (t == tag).then_some(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let enc = tlv(0x04, &vec![7u8; len]);
            let mut r = Reader::new(&enc);
            assert_eq!(r.expect(0x04).map(<[u8]>::len), Some(len));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn reader_never_reads_past_the_end() {
        let enc = tlv(0x30, &[1, 2, 3, 4, 5]);
        for n in 0..enc.len() {
            assert!(Reader::new(&enc[..n]).any().is_none(), "{n}");
        }
        assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).any().is_none());
    }
}
