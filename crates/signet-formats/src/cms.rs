//! CMS / PKCS#7 SignedData (RFC 5652), read from DER or BER (indefinite lengths and
//! constructed OCTET STRINGs, as `openssl cms -sign -stream` writes), and its signatures
//! verified: Apple's provisioning profiles and JAR signature blocks are both SignedData.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo
//!     SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL },
//!     certificates [0] IMPLICIT SET OF Certificate OPTIONAL, crls [1] OPTIONAL,
//!     signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE { version, sid IssuerAndSerialNumber | [0] SubjectKeyIdentifier,
//!     digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL, signatureAlgorithm,
//!     signature OCTET STRING, unsignedAttrs [1] OPTIONAL }
//! ```

use aws_lc_rs::digest;

use crate::{Certificate, FormatError, Result, SignatureScheme};

const MAX_DEPTH: usize = 32;

/// One BER element: tag, content bytes (without an end-of-contents marker) and the whole
/// encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// Reads one element from the front of `data`.
fn read_tlv(data: &[u8], depth: usize) -> Option<Tlv<'_>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let tag = *data.first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in CMS
    }
    let first = *data.get(1)?;
    if first == 0x80 {
        // Indefinite length: children until 00 00; only for constructed elements.
        if tag & 0x20 == 0 {
            return None;
        }
        let mut pos = 2;
        loop {
            if data.get(pos..pos + 2)? == [0, 0] {
                return Some(Tlv {
                    tag,
                    content: data.get(2..pos)?,
                    whole: data.get(..pos + 2)?,
                });
            }
            let child = read_tlv(data.get(pos..)?, depth + 1)?;
            pos += child.whole.len();
        }
    }
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*data.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some(Tlv {
        tag,
        content: data.get(header..end)?,
        whole: data.get(..end)?,
    })
}

struct Reader<'a> {
    data: &'a [u8],
    depth: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], depth: usize) -> Reader<'a> {
        Reader { data, depth }
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn any(&mut self) -> Option<Tlv<'a>> {
        let t = read_tlv(self.data, self.depth)?;
        self.data = self.data.get(t.whole.len()..)?;
        Some(t)
    }

    fn tagged(&mut self, tag: u8) -> Option<Tlv<'a>> {
        self.any().filter(|t| t.tag == tag)
    }

    fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }
}

/// The bytes of an OCTET STRING, primitive (0x04) or constructed (0x24) from segments.
fn octets(t: Tlv<'_>, depth: usize, out: &mut Vec<u8>) -> Option<()> {
    match t.tag {
        0x04 => {
            out.extend_from_slice(t.content);
            Some(())
        }
        0x24 if depth < MAX_DEPTH => {
            let mut r = Reader::new(t.content, depth + 1);
            while !r.is_empty() {
                octets(r.any()?, depth + 1, out)?;
            }
            Some(())
        }
        _ => None,
    }
}

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

/// One signer of a SignedData.
#[derive(Debug, Clone)]
pub struct SignerInfo {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    digest_oid: Vec<u8>,
    signed_attrs: Option<Vec<u8>>,
    signature_oid: Vec<u8>,
    signature: Vec<u8>,
}

/// A parsed SignedData.
#[derive(Debug, Clone)]
pub struct SignedData {
    /// The encapsulated content, when not detached.
    pub content: Option<Vec<u8>>,
    /// The certificates carried along (signer, intermediates, sometimes the root).
    pub certificates: Vec<Certificate>,
    /// The signers.
    pub signers: Vec<SignerInfo>,
}

fn malformed(detail: &str) -> FormatError {
    FormatError::Malformed {
        what: "CMS signed data",
        detail: detail.to_owned(),
    }
}

impl SignedData {
    /// Parses a DER or BER `ContentInfo` holding SignedData.
    pub fn parse(bytes: &[u8]) -> Result<SignedData> {
        let bad = || malformed("structure does not follow RFC 5652");
        let ci = read_tlv(bytes, 0)
            .filter(|t| t.tag == 0x30)
            .ok_or_else(bad)?;
        let mut ci = Reader::new(ci.content, 1);
        if ci.tagged(0x06).ok_or_else(bad)?.content != OID_SIGNED_DATA {
            return Err(malformed("not SignedData"));
        }
        let explicit = ci.tagged(0xa0).ok_or_else(bad)?;
        let sd = Reader::new(explicit.content, 2)
            .tagged(0x30)
            .ok_or_else(bad)?;
        let mut sd = Reader::new(sd.content, 3);
        sd.tagged(0x02).ok_or_else(bad)?;
        sd.tagged(0x31).ok_or_else(bad)?;
        let encap = sd.tagged(0x30).ok_or_else(bad)?;
        let mut encap = Reader::new(encap.content, 4);
        encap.tagged(0x06).ok_or_else(bad)?;
        let content = if encap.is_empty() {
            None
        } else {
            let wrapper = encap.tagged(0xa0).ok_or_else(bad)?;
            let mut inner = Reader::new(wrapper.content, 5);
            let mut out = Vec::new();
            octets(inner.any().ok_or_else(bad)?, 5, &mut out).ok_or_else(bad)?;
            Some(out)
        };
        let mut certificates = Vec::new();
        if sd.peek_tag() == Some(0xa0) {
            let certs = sd.any().ok_or_else(bad)?;
            let mut r = Reader::new(certs.content, 4);
            while !r.is_empty() {
                let c = r.any().ok_or_else(bad)?;
                // Other certificate choices ([0]..[3]) are skipped.
                if c.tag == 0x30 {
                    certificates.push(Certificate::from_der(c.whole)?);
                }
            }
        }
        if sd.peek_tag() == Some(0xa1) {
            sd.any().ok_or_else(bad)?;
        }
        let infos = sd.tagged(0x31).ok_or_else(bad)?;
        let mut r = Reader::new(infos.content, 4);
        let mut signers = Vec::new();
        while !r.is_empty() {
            signers.push(parse_signer(r.any().ok_or_else(bad)?).ok_or_else(bad)?);
        }
        Ok(SignedData {
            content,
            certificates,
            signers,
        })
    }

    /// The certificate of the first signer, when the SignedData carries it.
    pub fn signer_certificate(&self) -> Option<&Certificate> {
        let signer = self.signers.first()?;
        self.certificates
            .iter()
            .find(|c| c.issuer_and_serial() == (&signer.issuer[..], &signer.serial[..]))
    }

    /// Verifies the first signer over the encapsulated content (or `detached`), returning
    /// the signer's certificate. Signed attributes, when present, must carry the content's
    /// digest, and the signature then covers them.
    pub fn verify(&self, detached: Option<&[u8]>) -> Result<Certificate> {
        let signer = self.signers.first().ok_or_else(|| malformed("no signer"))?;
        let content = detached
            .or(self.content.as_deref())
            .ok_or_else(|| malformed("no content to verify"))?;
        let cert = self
            .certificates
            .iter()
            .find(|c| c.issuer_and_serial() == (&signer.issuer[..], &signer.serial[..]))
            .ok_or_else(|| malformed("signer certificate not included"))?;
        let (digest_alg, digest_bits) = digest_by_oid(&signer.digest_oid)?;
        let message = match &signer.signed_attrs {
            None => content.to_vec(),
            Some(attrs) => {
                let expected = digest::digest(digest_alg, content);
                let mut r = Reader::new(attrs, 1);
                let mut found = false;
                while !r.is_empty() {
                    let a = r
                        .tagged(0x30)
                        .ok_or_else(|| malformed("bad signed attribute"))?;
                    let mut a = Reader::new(a.content, 2);
                    let oid = a
                        .tagged(0x06)
                        .ok_or_else(|| malformed("bad signed attribute"))?;
                    let values = a
                        .tagged(0x31)
                        .ok_or_else(|| malformed("bad signed attribute"))?;
                    if oid.content == OID_MESSAGE_DIGEST {
                        let v = Reader::new(values.content, 3)
                            .tagged(0x04)
                            .ok_or_else(|| malformed("bad message digest"))?;
                        if v.content != expected.as_ref() {
                            return Err(FormatError::SignatureInvalid(
                                "content does not match its signed digest".into(),
                            ));
                        }
                        found = true;
                    }
                }
                if !found {
                    return Err(malformed("signed attributes lack a message digest"));
                }
                crate::cms::der_set(attrs)
            }
        };
        let scheme = scheme_for(&signer.signature_oid, digest_bits)?;
        if cert.verify_with(scheme, &message, &signer.signature)? {
            Ok(cert.clone())
        } else {
            Err(FormatError::SignatureInvalid(
                "signature does not verify".into(),
            ))
        }
    }
}

/// Re-tags signed attributes as the `SET OF` they are signed as.
pub(crate) fn der_set(content: &[u8]) -> Vec<u8> {
    tlv(0x31, content)
}

/// Encodes one DER TLV with the minimal length form.
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

fn parse_signer(t: Tlv<'_>) -> Option<SignerInfo> {
    let mut r = Reader::new(t.content, 5);
    r.tagged(0x02)?;
    let sid = r.tagged(0x30)?;
    let mut sid = Reader::new(sid.content, 6);
    let issuer = sid.any()?.whole.to_vec();
    let serial = sid.tagged(0x02)?.content.to_vec();
    let digest_oid = Reader::new(r.tagged(0x30)?.content, 6)
        .tagged(0x06)?
        .content
        .to_vec();
    let mut next = r.any()?;
    let signed_attrs = if next.tag == 0xa0 {
        let attrs = next.content.to_vec();
        next = r.any()?;
        Some(attrs)
    } else {
        None
    };
    if next.tag != 0x30 {
        return None;
    }
    let signature_oid = Reader::new(next.content, 6).tagged(0x06)?.content.to_vec();
    let signature = r.tagged(0x04)?.content.to_vec();
    Some(SignerInfo {
        issuer,
        serial,
        digest_oid,
        signed_attrs,
        signature_oid,
        signature,
    })
}

fn digest_by_oid(oid: &[u8]) -> Result<(&'static digest::Algorithm, u32)> {
    Ok(match oid {
        [0x2b, 0x0e, 0x03, 0x02, 0x1a] => (&digest::SHA1_FOR_LEGACY_USE_ONLY, 1),
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => (&digest::SHA256, 256),
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => (&digest::SHA384, 384),
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => (&digest::SHA512, 512),
        _ => {
            return Err(FormatError::UnsupportedAlgorithm(
                "CMS digest algorithm".into(),
            ));
        }
    })
}

/// The scheme of a signature: RSA PKCS#1 v1.5 or ECDSA, with the signer info's digest.
fn scheme_for(sig_oid: &[u8], digest_bits: u32) -> Result<SignatureScheme> {
    let rsa = sig_oid.starts_with(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01]);
    let ec = sig_oid.starts_with(&[0x2a, 0x86, 0x48, 0xce, 0x3d]);
    Ok(match (rsa, ec, digest_bits) {
        (true, _, 1) => SignatureScheme::RsaPkcs1Sha1,
        (true, _, 256) => SignatureScheme::RsaPkcs1Sha256,
        (true, _, 384) => SignatureScheme::RsaPkcs1Sha384,
        (true, _, 512) => SignatureScheme::RsaPkcs1Sha512,
        (_, true, 256) => SignatureScheme::EcdsaSha256,
        (_, true, 384) => SignatureScheme::EcdsaSha384,
        (_, true, 512) => SignatureScheme::EcdsaSha512,
        _ => {
            return Err(FormatError::UnsupportedAlgorithm(
                "CMS signature algorithm".into(),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_segmented_octets() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        let t = read_tlv(&ber, 0).unwrap();
        assert_eq!(t.whole.len(), ber.len());
        let inner = Reader::new(t.content, 1).any().unwrap();
        let mut out = Vec::new();
        octets(inner, 1, &mut out).unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn malformed_input_never_panics() {
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        for n in 0..ber.len() {
            assert!(read_tlv(&ber[..n], 0).is_none(), "{n}");
            let _ = SignedData::parse(&ber[..n]);
        }
        // Deep nesting stops at the depth limit instead of overflowing the stack.
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 10_000)
            .flatten()
            .collect();
        assert!(read_tlv(&deep, 0).is_none());
    }
}
