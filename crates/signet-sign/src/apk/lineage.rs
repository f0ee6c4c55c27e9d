//! The signing certificate lineage of key rotation (APK Signature Scheme v3): each
//! certificate signed by the one before, so a platform that knows an app by an older key
//! accepts its newer one. apksigner's `rotate` writes it to a file; a v3 signer carries it
//! as its proof-of-rotation attribute.
//!
//! ```text
//! file      := u32 magic (0x3eff39d1) || u32 version (1) || lp(lineage)
//! lineage   := u32 version (1) || lp(node)*
//! node      := lp(signed_data) || u32 flags || u32 sig_alg (that this node's key signs the
//!              next node with; 0 for the last) || lp(signature by the previous node's key;
//!              empty for the first)
//! signed_data := lp(certificate) || u32 parent_sig_alg (0 for the first)
//! ```

use signet_formats::Certificate;

use crate::{
    SignError,
    apk::{algorithms::ApkSigAlg, length_prefixed},
    key::{Purpose, SigningKey, sign_one},
};

/// The magic number of a lineage file.
pub const MAGIC: u32 = 0x3eff_39d1;
const VERSION: u32 = 1;
/// The v3 signer attribute that carries the lineage.
pub const PROOF_OF_ROTATION_ATTR: u32 = 0x3ba0_6f8c;
/// apksigner's default capabilities of a certificate in a lineage: installed data, shared
/// user id, permission and auth (not rollback).
pub const DEFAULT_FLAGS: u32 = 1 | 2 | 4 | 16;

/// One certificate of a lineage.
#[derive(Debug, Clone)]
pub struct Node {
    /// The certificate.
    pub certificate: Certificate,
    /// Its capabilities (apksigner's `PAST_CERT_*` flags).
    pub flags: u32,
    /// The algorithm the previous certificate's key signed this node with (0 for the first).
    pub parent_sig_alg: u32,
    /// The algorithm this node's key signed the next node with (0 for the last).
    pub sig_alg: u32,
    /// The previous key's signature over this node's signed data (empty for the first).
    pub signature: Vec<u8>,
}

/// A signing certificate lineage, oldest certificate first.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// The certificates, oldest first.
    pub nodes: Vec<Node>,
}

/// Why a lineage cannot be read: its bytes, or a certificate not signed by its parent
/// (apksig tells these apart: `V3_SIG_MALFORMED_LINEAGE`, `V3_SIG_POR_DID_NOT_VERIFY`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineageError {
    /// The bytes do not follow the lineage's grammar.
    Malformed(String),
    /// Certificate `child` (from 1) is not signed by the one before it.
    NotSignedByParent {
        /// The certificate's position, from 1.
        child: usize,
    },
}

impl std::fmt::Display for LineageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a signing certificate lineage: ")?;
        match self {
            LineageError::Malformed(detail) => f.write_str(detail),
            LineageError::NotSignedByParent { child } => write!(
                f,
                "certificate #{child} is not signed by certificate #{}",
                child - 1
            ),
        }
    }
}

impl std::error::Error for LineageError {}

impl From<LineageError> for SignError {
    fn from(e: LineageError) -> SignError {
        SignError::Config(e.to_string())
    }
}

fn bad(detail: impl Into<String>) -> LineageError {
    LineageError::Malformed(detail.into())
}

fn signed_data(certificate: &Certificate, parent_sig_alg: u32) -> Vec<u8> {
    let mut d = Vec::new();
    length_prefixed::put(&mut d, certificate.der());
    d.extend_from_slice(&parent_sig_alg.to_le_bytes());
    d
}

impl Lineage {
    /// A lineage from `old` to `new`: `new`'s certificate signed by `old`'s key, each with
    /// apksigner's default capabilities.
    pub fn rotate(old: &dyn SigningKey, new: &dyn SigningKey) -> Result<Lineage, SignError> {
        let first = leaf(old)?;
        let lineage = Lineage {
            nodes: vec![Node {
                certificate: first.clone(),
                flags: DEFAULT_FLAGS,
                parent_sig_alg: 0,
                sig_alg: 0,
                signature: Vec::new(),
            }],
        };
        lineage.extend(old, new)
    }

    /// This lineage with `new` appended, signed by `parent`, which must hold the newest
    /// certificate's key.
    pub fn extend(
        mut self,
        parent: &dyn SigningKey,
        new: &dyn SigningKey,
    ) -> Result<Lineage, SignError> {
        let parent_cert = leaf(parent)?;
        let newest = self
            .nodes
            .last_mut()
            .ok_or_else(|| SignError::from(bad("no certificates")))?;
        if newest.certificate.der() != parent_cert.der() {
            return Err(SignError::Config(
                "the old signer is not the newest certificate of the lineage".into(),
            ));
        }
        let child = leaf(new)?;
        if self
            .nodes
            .iter()
            .any(|n| n.certificate.der() == child.der())
        {
            return Err(SignError::Config(
                "the new signer's certificate is already in the lineage".into(),
            ));
        }
        let alg = ApkSigAlg::for_key(parent.algorithm());
        let (scheme, _) = alg
            .parts()
            .ok_or_else(|| SignError::Config("unsupported signature algorithm".into()))?;
        let data = signed_data(child, alg.0);
        let signature = sign_one(parent, Purpose::LineageNode, scheme, &data)?;
        if let Some(newest) = self.nodes.last_mut() {
            newest.sig_alg = alg.0;
        }
        self.nodes.push(Node {
            certificate: child.clone(),
            flags: DEFAULT_FLAGS,
            parent_sig_alg: alg.0,
            sig_alg: 0,
            signature,
        });
        Ok(self)
    }

    /// Reads a lineage file (as `apksigner rotate` writes).
    pub fn from_file(bytes: &[u8]) -> Result<Lineage, LineageError> {
        let mut r = length_prefixed::Reader::new(bytes);
        if r.u32() != Some(MAGIC) {
            return Err(bad("no lineage magic number"));
        }
        if r.u32() != Some(VERSION) {
            return Err(bad("unknown version"));
        }
        let encoded = r.lp().ok_or_else(|| bad("truncated"))?;
        Lineage::decode(encoded)
    }

    /// The file form.
    pub fn to_file(&self) -> Vec<u8> {
        let mut out = MAGIC.to_le_bytes().to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        length_prefixed::put(&mut out, &self.encode());
        out
    }

    /// Reads the encoded lineage (the file's payload, or the v3 attribute's value) and
    /// checks each certificate's signature by the one before.
    pub fn decode(bytes: &[u8]) -> Result<Lineage, LineageError> {
        let mut r = length_prefixed::Reader::new(bytes);
        if r.u32() != Some(VERSION) {
            return Err(bad("unknown version"));
        }
        let mut nodes: Vec<Node> = Vec::new();
        while !r.is_empty() {
            let n = nodes.len() + 1;
            let node = r
                .lp()
                .ok_or_else(|| bad(format!("certificate #{n} is truncated")))?;
            let mut nr = length_prefixed::Reader::new(node);
            let (Some(signed), Some(flags), Some(sig_alg), Some(signature)) =
                (nr.lp(), nr.u32(), nr.u32(), nr.lp())
            else {
                return Err(bad(format!("certificate #{n} is malformed")));
            };
            let mut sr = length_prefixed::Reader::new(signed);
            let (Some(der), Some(parent_sig_alg)) = (sr.lp(), sr.u32()) else {
                return Err(bad(format!("certificate #{n} is malformed")));
            };
            let certificate =
                Certificate::from_der(der).map_err(|e| bad(format!("certificate #{n}: {e}")))?;
            if let Some(prev) = nodes.last() {
                if prev.sig_alg != parent_sig_alg {
                    return Err(bad(format!(
                        "certificate #{n}: signature algorithm differs from its parent's"
                    )));
                }
                let (scheme, _) = ApkSigAlg(parent_sig_alg)
                    .parts()
                    .ok_or_else(|| bad(format!("certificate #{n}: unknown signature algorithm")))?;
                let verified = prev
                    .certificate
                    .verify_with(scheme, signed, signature)
                    .map_err(|e| bad(format!("certificate #{n}: {e}")))?;
                if !verified {
                    return Err(LineageError::NotSignedByParent { child: n });
                }
            }
            if nodes.iter().any(|p| p.certificate.der() == der) {
                return Err(bad(format!("certificate #{n} appears twice")));
            }
            nodes.push(Node {
                certificate,
                flags,
                parent_sig_alg,
                sig_alg,
                signature: signature.to_vec(),
            });
        }
        if nodes.is_empty() {
            return Err(bad("no certificates"));
        }
        Ok(Lineage { nodes })
    }

    /// The encoded lineage (the v3 attribute's value).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = VERSION.to_le_bytes().to_vec();
        for n in &self.nodes {
            let mut node = Vec::new();
            length_prefixed::put(&mut node, &signed_data(&n.certificate, n.parent_sig_alg));
            node.extend_from_slice(&n.flags.to_le_bytes());
            node.extend_from_slice(&n.sig_alg.to_le_bytes());
            length_prefixed::put(&mut node, &n.signature);
            length_prefixed::put(&mut out, &node);
        }
        out
    }

    /// The lineage up to and including `certificate` (apksig's `getSubLineage`), or `None`
    /// when it is not in the lineage.
    pub fn up_to(&self, certificate: &Certificate) -> Option<Lineage> {
        let i = self.position(certificate)?;
        Some(Lineage {
            nodes: self.nodes[..=i].to_vec(),
        })
    }

    /// The position of `certificate` in the lineage, from 0 (the oldest).
    pub fn position(&self, certificate: &Certificate) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.certificate.der() == certificate.der())
    }
}

fn leaf(key: &dyn SigningKey) -> Result<&Certificate, SignError> {
    key.certificates()
        .first()
        .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use signet_formats::{DistinguishedName, KeyAlgorithm, KeyEntry, generate};

    fn key(cn: &str, alg: KeyAlgorithm) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        generate::key_entry("k", alg, &dn, 30).unwrap()
    }

    #[test]
    fn a_rotation_round_trips_through_the_file_form() {
        let (old, new, newer) = (
            key("old", KeyAlgorithm::Rsa2048),
            key("new", KeyAlgorithm::EcP256),
            key("newer", KeyAlgorithm::EcP256),
        );
        let lineage = Lineage::rotate(&old, &new)
            .unwrap()
            .extend(&new, &newer)
            .unwrap();
        let file = lineage.to_file();
        assert_eq!(&file[..4], &MAGIC.to_le_bytes());
        let read = Lineage::from_file(&file).unwrap();
        assert_eq!(read.nodes.len(), 3);
        assert_eq!(read.to_file(), file);
        assert_eq!(read.position(&new.chain[0]), Some(1));
        let algs: Vec<(u32, u32)> = read
            .nodes
            .iter()
            .map(|n| (n.parent_sig_alg, n.sig_alg))
            .collect();
        assert_eq!(algs, [(0, 0x0103), (0x0103, 0x0201), (0x0201, 0)]);
        assert!(read.nodes.iter().all(|n| n.flags == DEFAULT_FLAGS));
    }

    #[test]
    fn refuses_a_certificate_not_signed_by_its_parent() {
        let (old, new) = (
            key("old", KeyAlgorithm::EcP256),
            key("new", KeyAlgorithm::EcP256),
        );
        let mut lineage = Lineage::rotate(&old, &new).unwrap();
        let last = lineage.nodes[1].signature.len() - 1;
        lineage.nodes[1].signature[last] ^= 1;
        let err = Lineage::from_file(&lineage.to_file())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "not a signing certificate lineage: certificate #2 is not signed by certificate #1"
        );
    }

    #[test]
    fn refuses_to_extend_from_a_key_that_is_not_the_newest() {
        let (old, new, other) = (
            key("old", KeyAlgorithm::EcP256),
            key("new", KeyAlgorithm::EcP256),
            key("other", KeyAlgorithm::EcP256),
        );
        let err = Lineage::rotate(&old, &new)
            .unwrap()
            .extend(&old, &other)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the old signer is not the newest certificate of the lineage"
        );
        let err = Lineage::from_file(b"nope").unwrap_err().to_string();
        assert_eq!(
            err,
            "not a signing certificate lineage: no lineage magic number"
        );
    }
}
