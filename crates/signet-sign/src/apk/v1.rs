//! JAR signing (APK signature scheme v1), as Android verifies it and apksigner writes it.
//!
//! `META-INF/MANIFEST.MF` lists a digest of every entry; `META-INF/<NAME>.SF` holds a digest
//! of the whole manifest and of each of its sections, and `X-Android-APK-Signed` naming the
//! newer schemes also present (stripping protection); `META-INF/<NAME>.RSA|.EC` is a
//! detached PKCS#7 SignedData over the .SF, without signed attributes (as apksigner writes
//! it; signed attributes, as jarsigner writes them, are verified too).
//! <https://docs.oracle.com/en/java/javase/17/docs/specs/jar/jar.html#signed-jar-file>

use aws_lc_rs::digest;
use base64::Engine as _;
use signet_formats::{Certificate, FormatError, KeyAlgorithm, SignatureScheme};

use crate::{
    SignError,
    apk::Finding,
    asn1::{self, oids},
    key::{Purpose, SigningKey, sign_one},
};

/// The digest of JAR manifests and .SF files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Digest {
    /// SHA-1: needed for RSA below API 18.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl V1Digest {
    /// Picks the digest as apksigner does: SHA-256 from API 18 on, SHA-1 before (RSA
    /// only: Android before API 18 cannot verify ECDSA JAR signatures at all).
    pub fn for_key(alg: KeyAlgorithm, min_sdk: u32) -> Result<V1Digest, SignError> {
        let is_ec = matches!(alg, KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384);
        match (is_ec, min_sdk < 18) {
            (true, true) => Err(SignError::Config(
                "ECDSA JAR (v1) signatures are only supported for min SDK 18 and higher; \
                 use an RSA key, raise --min-sdk-version, or pass --v1-signing-enabled false"
                    .into(),
            )),
            (false, true) => Ok(V1Digest::Sha1),
            _ => Ok(V1Digest::Sha256),
        }
    }

    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            V1Digest::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            V1Digest::Sha256 => &digest::SHA256,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            V1Digest::Sha1 => "SHA1-Digest",
            V1Digest::Sha256 => "SHA-256-Digest",
        }
    }

    /// A digest context for entry data.
    pub fn context(self) -> digest::Context {
        digest::Context::new(self.algorithm())
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Appends `Name: value` with JAR line wrapping: at most 72 bytes a line, continuation
/// lines starting with one space, never splitting a UTF-8 character.
fn write_attribute(out: &mut Vec<u8>, name: &str, value: &str) {
    if name.len() + 2 + value.len() <= 72 {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
        return;
    }
    let line = format!("{name}: {value}");
    let mut limit = 72;
    let mut current = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if current + len > limit {
            out.extend_from_slice(b"\r\n ");
            current = 0;
            limit = 71;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        current += len;
    }
    out.extend_from_slice(b"\r\n");
}

/// The files of one JAR signature.
pub struct V1Files {
    /// `META-INF/MANIFEST.MF`.
    pub manifest: Vec<u8>,
    /// `META-INF/<NAME>.SF`.
    pub signature_file: Vec<u8>,
    /// `META-INF/<NAME>.RSA` or `.EC`.
    pub block: Vec<u8>,
    /// `<NAME>`.
    pub basename: String,
    /// `RSA` or `EC`.
    pub block_extension: &'static str,
}

/// Builds MANIFEST.MF, the .SF and the signature block for entries given as (name,
/// digest of the uncompressed data), which must be sorted by name.
pub fn sign(
    entries: &[(String, Vec<u8>)],
    digest_alg: V1Digest,
    apk_signed_schemes: &[u32],
    basename: &str,
    key: &dyn SigningKey,
) -> Result<V1Files, SignError> {
    let mut manifest = b"Manifest-Version: 1.0\r\n\r\n".to_vec();
    let mut sections = Vec::with_capacity(entries.len());
    for (name, d) in entries {
        let mut section = Vec::with_capacity(name.len() + 80);
        write_attribute(&mut section, "Name", name);
        write_attribute(&mut section, digest_alg.attribute(), &b64(d));
        section.extend_from_slice(b"\r\n");
        manifest.extend_from_slice(&section);
        sections.push((name, section));
    }

    let mut sf = Vec::with_capacity(256 + entries.len() * 100);
    write_attribute(&mut sf, "Signature-Version", "1.0");
    write_attribute(&mut sf, "Created-By", "1.0 (Android)");
    let whole = digest::digest(digest_alg.algorithm(), &manifest);
    write_attribute(
        &mut sf,
        &format!("{}-Manifest", digest_alg.attribute()),
        &b64(whole.as_ref()),
    );
    if !apk_signed_schemes.is_empty() {
        let ids: Vec<String> = apk_signed_schemes.iter().map(u32::to_string).collect();
        write_attribute(&mut sf, "X-Android-APK-Signed", &ids.join(", "));
    }
    sf.extend_from_slice(b"\r\n");
    for (name, section) in &sections {
        let d = digest::digest(digest_alg.algorithm(), section);
        write_attribute(&mut sf, "Name", name);
        write_attribute(&mut sf, digest_alg.attribute(), &b64(d.as_ref()));
        sf.extend_from_slice(b"\r\n");
    }

    let is_rsa = !matches!(key.algorithm(), KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384);
    let (scheme, digest_oid, sig_alg) = match (is_rsa, digest_alg) {
        (true, V1Digest::Sha1) => (
            SignatureScheme::RsaPkcs1Sha1,
            oids::SHA1,
            asn1::seq(&[&asn1::oid(oids::RSA_ENCRYPTION), &asn1::NULL]),
        ),
        (true, V1Digest::Sha256) => (
            SignatureScheme::RsaPkcs1Sha256,
            oids::SHA256,
            asn1::seq(&[&asn1::oid(oids::RSA_ENCRYPTION), &asn1::NULL]),
        ),
        (false, _) => (
            SignatureScheme::EcdsaSha256,
            oids::SHA256,
            asn1::seq(&[&asn1::oid(oids::ECDSA_WITH_SHA256)]),
        ),
    };
    let signature = sign_one(key, Purpose::JarSignatureFile, scheme, &sf)?;
    let cert = key
        .certificates()
        .first()
        .ok_or_else(|| SignError::Config("the signing key has no certificate".into()))?;
    let block = signed_data(cert, key.certificates(), digest_oid, &sig_alg, &signature);
    Ok(V1Files {
        manifest,
        signature_file: sf,
        block,
        basename: basename.to_owned(),
        block_extension: if is_rsa { "RSA" } else { "EC" },
    })
}

/// `ContentInfo { signedData, SignedData { 1, {digest}, {data}, [0] certs, {SignerInfo} } }`.
fn signed_data(
    signer: &Certificate,
    chain: &[Certificate],
    digest_oid: &[u8],
    sig_alg: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    let digest_alg = asn1::seq(&[&asn1::oid(digest_oid), &asn1::NULL]);
    let (issuer, serial) = signer.issuer_and_serial();
    let signer_info = asn1::seq(&[
        &asn1::small_int(1),
        &asn1::seq(&[issuer, &asn1::tlv(0x02, serial)]),
        &digest_alg,
        sig_alg,
        &asn1::tlv(0x04, signature),
    ]);
    let certs: Vec<u8> = chain.iter().flat_map(|c| c.der().iter().copied()).collect();
    let sd = asn1::seq(&[
        &asn1::small_int(1),
        &asn1::set(&[&digest_alg]),
        &asn1::seq(&[&asn1::oid(oids::DATA)]),
        &asn1::tlv(0xa0, &certs),
        &asn1::set(&[&signer_info]),
    ]);
    asn1::seq(&[&asn1::oid(oids::SIGNED_DATA), &asn1::tlv(0xa0, &sd)])
}

/// The basename apksigner derives from a key alias: upper case, at most 8 characters,
/// anything outside `A-Z 0-9 _ -` replaced by `_`.
pub fn basename_for_alias(alias: &str) -> String {
    let name: String = alias
        .chars()
        .take(8)
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "CERT".to_owned()
    } else {
        name
    }
}

/// Whether an entry is part of a JAR signature (and so not itself signed).
pub fn is_signature_file(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("META-INF/") else {
        return false;
    };
    if rest.contains('/') {
        return false;
    }
    let upper = rest.to_ascii_uppercase();
    upper == "MANIFEST.MF"
        || [".SF", ".RSA", ".DSA", ".EC"]
            .iter()
            .any(|ext| upper.ends_with(ext))
        || upper.starts_with("SIG-")
}

// ---------------------------------------------------------------------------------------
// Verification

/// One parsed manifest section: its attributes and its exact bytes.
struct Section<'a> {
    attrs: Vec<(String, String)>,
    raw: &'a [u8],
}

/// Splits a manifest or .SF into sections, joining continuation lines.
fn parse_sections(bytes: &[u8]) -> Option<Vec<Section<'_>>> {
    let mut sections = Vec::new();
    let mut start = 0usize;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let line_end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |i| pos + i);
        let mut next = line_end;
        if bytes.get(next) == Some(&b'\r') {
            next += 1;
        }
        if bytes.get(next) == Some(&b'\n') {
            next += 1;
        }
        let line = std::str::from_utf8(&bytes[pos..line_end]).ok()?;
        if line.is_empty() {
            if !attrs.is_empty() {
                sections.push(Section {
                    attrs: std::mem::take(&mut attrs),
                    raw: &bytes[start..next],
                });
            }
            start = next;
        } else if let Some(cont) = line.strip_prefix(' ') {
            attrs.last_mut()?.1.push_str(cont);
        } else {
            let (k, v) = line.split_once(": ")?;
            attrs.push((k.to_owned(), v.to_owned()));
        }
        pos = next;
        if next == line_end {
            break;
        }
    }
    if !attrs.is_empty() {
        sections.push(Section {
            attrs,
            raw: &bytes[start..],
        });
    }
    Some(sections)
}

fn attr<'a>(s: &'a Section<'_>, name: &str) -> Option<&'a str> {
    s.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Digest algorithms a verifier accepts in manifests and .SF files.
fn digest_attr(s: &Section<'_>, suffix: &str) -> Option<(&'static digest::Algorithm, Vec<u8>)> {
    for (prefix, alg) in [
        ("SHA-256", &digest::SHA256),
        ("SHA-512", &digest::SHA512),
        ("SHA-384", &digest::SHA384),
        ("SHA1", &digest::SHA1_FOR_LEGACY_USE_ONLY),
        ("SHA-1", &digest::SHA1_FOR_LEGACY_USE_ONLY),
    ] {
        if let Some(v) = attr(s, &format!("{prefix}-Digest{suffix}")) {
            let d = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()?;
            return Some((alg, d));
        }
    }
    None
}

/// What JAR signature verification found.
#[derive(Debug, Default)]
pub struct V1Result {
    /// The signers' certificates, when the signature verified.
    pub signers: Vec<Certificate>,
    /// Problems, empty when it verified.
    pub issues: Vec<Finding>,
    /// The scheme ids in `X-Android-APK-Signed`.
    pub apk_signed_schemes: Vec<u32>,
}

/// Verifies a JAR signature, as apksig's V1SchemeVerifier does. `files` maps META-INF
/// signature file names to contents; `entries` are all other file entries; `entry_digest`
/// computes an entry's digest under an algorithm.
///
/// An entry counts as signed by a signer only if that signer's .SF names it and the .SF
/// vouches for its manifest section (through the whole-manifest digest or the section's
/// own digest). Every entry must be signed by every signer whose block verifies, and its
/// data must match the manifest's digest.
pub fn verify(
    files: &[(String, Vec<u8>)],
    entries: &[String],
    entry_digest: &mut dyn FnMut(&str, &'static digest::Algorithm) -> Result<Vec<u8>, SignError>,
) -> Result<V1Result, SignError> {
    use std::collections::{HashMap, HashSet};

    let mut result = V1Result::default();
    let get = |n: &str| {
        files
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_slice())
    };
    let Some(manifest) = get("META-INF/MANIFEST.MF") else {
        result.issues.push(Finding::V1NoManifest);
        return Ok(result);
    };
    let Some(msections) = parse_sections(manifest) else {
        result.issues.push(Finding::V1MalformedManifest);
        return Ok(result);
    };
    // Named manifest sections, refusing duplicates (an old trick to show two digests).
    let mut by_name: HashMap<&str, &Section<'_>> = HashMap::with_capacity(msections.len());
    for m in msections.iter().skip(1) {
        let Some(name) = attr(m, "Name") else {
            continue;
        };
        if by_name.insert(name, m).is_some() {
            result.issues.push(Finding::V1DuplicateManifestSection {
                name: name.to_owned(),
            });
            return Ok(result);
        }
    }

    let sf_names: Vec<&String> = files
        .iter()
        .map(|(k, _)| k)
        .filter(|k| k.to_ascii_uppercase().ends_with(".SF"))
        .collect();
    if sf_names.is_empty() {
        result.issues.push(Finding::V1NoSignatureFile);
        return Ok(result);
    }
    let mut signed_sets: Vec<(String, HashSet<&str>)> = Vec::new();
    for sf_name in sf_names {
        let sf = get(sf_name).unwrap_or_default();
        let base = &sf_name[..sf_name.len() - 3];
        let Some(block) = ["RSA", "EC", "DSA"]
            .iter()
            .find_map(|ext| get(&format!("{base}.{ext}")))
        else {
            result.issues.push(Finding::V1NoSignatureBlock {
                signature_file: sf_name.clone(),
            });
            continue;
        };
        match verify_block(block, sf) {
            Ok(cert) => result.signers.push(cert),
            Err(error) => {
                result.issues.push(Finding::V1BlockDoesNotVerify {
                    signature_file: sf_name.clone(),
                    error,
                });
                continue;
            }
        }
        let Some(sfsections) = parse_sections(sf) else {
            result.issues.push(Finding::V1MalformedSignatureFile {
                signature_file: sf_name.clone(),
            });
            continue;
        };
        let Some(main) = sfsections.first() else {
            result.issues.push(Finding::V1EmptySignatureFile {
                signature_file: sf_name.clone(),
            });
            continue;
        };
        if let Some(v) = attr(main, "X-Android-APK-Signed") {
            result.apk_signed_schemes =
                v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        }
        let whole_ok = digest_attr(main, "-Manifest")
            .is_some_and(|(alg, d)| digest::digest(alg, manifest).as_ref() == d);
        let mut signed: HashSet<&str> = HashSet::with_capacity(sfsections.len());
        for s in &sfsections[1..] {
            let Some(name) = attr(s, "Name") else {
                continue;
            };
            let Some(m) = by_name.get(name) else {
                result.issues.push(Finding::V1SectionNotInManifest {
                    signature_file: sf_name.clone(),
                    name: name.to_owned(),
                });
                continue;
            };
            let vouched = whole_ok
                || digest_attr(s, "")
                    .is_some_and(|(alg, d)| digest::digest(alg, m.raw).as_ref() == d);
            if vouched {
                if let Some((key, _)) = by_name.get_key_value(name) {
                    signed.insert(key);
                }
            } else {
                result.issues.push(Finding::V1SectionDigestMismatch {
                    signature_file: sf_name.clone(),
                    name: name.to_owned(),
                });
            }
        }
        signed_sets.push((sf_name.clone(), signed));
    }

    // Every entry: signed by every signer, and its data as the manifest says.
    let present: HashSet<&str> = entries.iter().map(String::as_str).collect();
    for e in entries {
        for (sf_name, signed) in &signed_sets {
            if !signed.contains(e.as_str()) {
                result.issues.push(Finding::V1EntryNotSigned {
                    entry: e.clone(),
                    signature_file: sf_name.clone(),
                });
            }
        }
        let Some(m) = by_name.get(e.as_str()) else {
            continue;
        };
        let Some((alg, expected)) = digest_attr(m, "") else {
            result
                .issues
                .push(Finding::V1NoEntryDigest { entry: e.clone() });
            continue;
        };
        if entry_digest(e, alg)? != expected {
            result
                .issues
                .push(Finding::V1EntryDigestMismatch { entry: e.clone() });
        }
    }
    for name in by_name.keys() {
        if !present.contains(name) {
            result.issues.push(Finding::V1EntryMissing {
                name: (*name).to_owned(),
            });
        }
    }
    if !result.issues.is_empty() {
        result.signers.clear();
    }
    Ok(result)
}

/// Verifies a PKCS#7 signature block over `sf`, returning the signer's certificate.
fn verify_block(block: &[u8], sf: &[u8]) -> Result<Certificate, FormatError> {
    signet_formats::cms::SignedData::parse(block)?.verify(Some(sf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_72_bytes() {
        let mut out = Vec::new();
        let name = "res/".to_owned() + &"x".repeat(150);
        write_attribute(&mut out, "Name", &name);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines.iter().all(|l| l.len() <= 72), "{lines:?}");
        assert!(lines[1].starts_with(' '));
        let sections = parse_sections(text.as_bytes()).unwrap();
        assert_eq!(attr(&sections[0], "Name"), Some(name.as_str()));
    }

    #[test]
    fn basenames_follow_apksigner() {
        assert_eq!(basename_for_alias("upload"), "UPLOAD");
        assert_eq!(basename_for_alias("androiddebugkey"), "ANDROIDD");
        assert_eq!(basename_for_alias("my key"), "MY_KEY");
        assert_eq!(basename_for_alias(""), "CERT");
    }

    #[test]
    fn signature_files_are_recognised() {
        for yes in [
            "META-INF/MANIFEST.MF",
            "META-INF/CERT.SF",
            "META-INF/X.RSA",
            "META-INF/a.ec",
            "META-INF/SIG-X",
        ] {
            assert!(is_signature_file(yes), "{yes}");
        }
        for no in [
            "META-INF/services/x.SF",
            "MANIFEST.MF",
            "META-INF/foo.txt",
            "classes.dex",
        ] {
            assert!(!is_signature_file(no), "{no}");
        }
    }

    #[test]
    fn v1_digest_follows_min_sdk() {
        assert_eq!(
            V1Digest::for_key(KeyAlgorithm::Rsa2048, 14).unwrap(),
            V1Digest::Sha1
        );
        assert_eq!(
            V1Digest::for_key(KeyAlgorithm::Rsa2048, 18).unwrap(),
            V1Digest::Sha256
        );
        assert!(V1Digest::for_key(KeyAlgorithm::EcP256, 17).is_err());
        assert_eq!(
            V1Digest::for_key(KeyAlgorithm::EcP256, 21).unwrap(),
            V1Digest::Sha256
        );
    }
}
