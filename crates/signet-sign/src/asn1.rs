//! The little DER that JAR signature blocks need: an encoder for PKCS#7 SignedData.
//! Reading them back is `signet_formats::cms`.

pub use signet_formats::cms::tlv;

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
    /// 1.2.840.10045.4.3.2 ecdsa-with-SHA256
    pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_use_the_minimal_form() {
        assert_eq!(tlv(0x04, &[7; 3])[..2], [0x04, 3]);
        assert_eq!(tlv(0x04, &[7; 128])[..3], [0x04, 0x81, 128]);
        assert_eq!(
            tlv(0x04, &vec![7; 70_000])[..5],
            [0x04, 0x83, 0x01, 0x11, 0x70]
        );
    }
}
