//! New keys and self-signed certificates, as `keytool -genkeypair` makes them.

use rcgen::{CertificateParams, DnType, DnValue, IsCa, KeyPair, SerialNumber};
use time::{Duration, OffsetDateTime};

use crate::{
    DistinguishedName, FormatError, KeyAlgorithm, PrivateKey, Result, dname::Attribute,
    keystore::KeyEntry, x509::Certificate,
};

/// Issues a self-signed certificate for `key`, valid from now for `validity_days` days.
///
/// Like keytool: X.509 v3, a random positive 64-bit serial, a SubjectKeyIdentifier, and a
/// signature digest chosen as Java's `SignatureUtil.getDefaultSigAlgForKey` does (SHA-256
/// for RSA up to 3072 bits and P-256, SHA-384 for RSA up to 7680 bits and P-384).
pub fn self_signed(
    key: &PrivateKey,
    subject: &DistinguishedName,
    validity_days: u32,
) -> Result<Certificate> {
    if validity_days == 0 {
        return Err(FormatError::InvalidParameter(
            "validity must be at least one day".into(),
        ));
    }
    let pair = rcgen_key_pair(key)?;

    let mut params = CertificateParams::default();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::now_utc());
    params.not_before = now;
    params.not_after = now
        .checked_add(Duration::days(i64::from(validity_days)))
        .filter(|t| t.year() <= 9999)
        .ok_or_else(|| {
            FormatError::InvalidParameter(format!(
                "validity of {validity_days} days ends after the year 9999"
            ))
        })?;
    params.is_ca = IsCa::NoCa;
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
    params.distinguished_name = rcgen::DistinguishedName::new();
    // keytool's string order is most specific first; the encoding is the reverse.
    for (attr, value) in subject.attributes().iter().rev() {
        let (ty, value) = dn_value(*attr, value)?;
        params.distinguished_name.push(ty, value);
    }
    let cert = params
        .self_signed(&pair)
        .map_err(|e| FormatError::InvalidParameter(format!("cannot issue certificate: {e}")))?;
    Certificate::from_der(cert.der())
}

/// The key as rcgen signs with it, under the digest Java's keytool would choose.
fn rcgen_key_pair(key: &PrivateKey) -> Result<KeyPair> {
    let sign_alg = match key.algorithm() {
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => &rcgen::PKCS_RSA_SHA256,
        KeyAlgorithm::Rsa4096 => &rcgen::PKCS_RSA_SHA384,
        KeyAlgorithm::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
    };
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der());
    KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, sign_alg)
        .map_err(|e| FormatError::BadPrivateKey(e.to_string()))
}

/// Generates a key and its self-signed certificate as one keystore entry.
pub fn key_entry(
    alias: &str,
    algorithm: KeyAlgorithm,
    subject: &DistinguishedName,
    validity_days: u32,
) -> Result<KeyEntry> {
    let key = PrivateKey::generate(algorithm)?;
    let cert = self_signed(&key, subject, validity_days)?;
    Ok(KeyEntry {
        alias: alias.to_owned(),
        created: None,
        key,
        chain: vec![cert],
    })
}

fn dn_value(attr: Attribute, value: &str) -> Result<(DnType, DnValue)> {
    let ty = match attr {
        Attribute::CommonName => DnType::CommonName,
        Attribute::OrganizationalUnit => DnType::OrganizationalUnitName,
        Attribute::Organization => DnType::OrganizationName,
        Attribute::Locality => DnType::LocalityName,
        Attribute::State => DnType::StateOrProvinceName,
        Attribute::Country => DnType::CountryName,
        other => DnType::CustomDnType(other.oid().to_vec()),
    };
    let bad =
        |e: rcgen::Error| FormatError::BadDistinguishedName(format!("{}: {e}", attr.keyword()));
    let value = match attr {
        // X.520 requires PrintableString for countries and IA5String for these two.
        Attribute::Country => DnValue::PrintableString(value.try_into().map_err(bad)?),
        Attribute::Email | Attribute::DomainComponent => {
            DnValue::Ia5String(value.try_into().map_err(bad)?)
        }
        _ => DnValue::Utf8String(value.to_owned()),
    };
    Ok((ty, value))
}

/// Eight random bytes with the top bit clear: a positive 63-bit serial, as keytool makes.
fn random_serial() -> Result<[u8; 8]> {
    let mut serial = [0u8; 8];
    aws_lc_rs::rand::fill(&mut serial)
        .map_err(|_| FormatError::Crypto("random number generator"))?;
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 1;
    }
    Ok(serial)
}

/// A certificate signing request for `key`, subject `CN=<common_name>` plus
/// `emailAddress` and `C` when given, signed with SHA-256: what Keychain Access's
/// "Request a Certificate From a Certificate Authority" produces for Apple's portal.
pub fn csr_pem(
    key: &PrivateKey,
    common_name: &str,
    email: Option<&str>,
    country: Option<&str>,
) -> Result<String> {
    let pair = rcgen_key_pair(key)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(c) = country {
        let (ty, v) = dn_value(Attribute::Country, c)?;
        params.distinguished_name.push(ty, v);
    }
    params.distinguished_name.push(
        DnType::CommonName,
        DnValue::Utf8String(common_name.to_owned()),
    );
    if let Some(e) = email {
        let (ty, v) = dn_value(Attribute::Email, e)?;
        params.distinguished_name.push(ty, v);
    }
    let csr = params
        .serialize_request(&pair)
        .map_err(|e| FormatError::InvalidParameter(format!("cannot build the request: {e}")))?;
    csr.pem()
        .map_err(|e| FormatError::InvalidParameter(format!("cannot encode the request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prints_back_as_written() {
        let dn =
            DistinguishedName::parse("CN=Jane Doe, OU=Mobile, O=Acme, L=Berlin, ST=Berlin, C=DE")
                .unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let cert = self_signed(&key, &dn, 30).unwrap();
        assert_eq!(cert.info().subject, dn.to_string());
        assert_eq!(cert.info().issuer, dn.to_string());
        let days = (cert.info().not_after - cert.info().not_before).whole_days();
        assert_eq!(days, 30);
    }

    #[test]
    fn zero_and_overlong_validity_are_refused() {
        let dn = DistinguishedName::parse("CN=x").unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        assert!(matches!(
            self_signed(&key, &dn, 0),
            Err(FormatError::InvalidParameter(d)) if d == "validity must be at least one day"
        ));
        assert!(matches!(
            self_signed(&key, &dn, u32::MAX),
            Err(FormatError::InvalidParameter(_))
        ));
        assert!(matches!(
            self_signed(&key, &dn, 4_000_000),
            Err(FormatError::InvalidParameter(_))
        ));
    }

    #[test]
    fn digest_is_no_weaker_than_the_key() {
        let dn = DistinguishedName::parse("CN=x").unwrap();
        for (alg, sig) in [
            (KeyAlgorithm::Rsa2048, "SHA256withRSA"),
            (KeyAlgorithm::Rsa3072, "SHA256withRSA"),
            (KeyAlgorithm::EcP256, "SHA256withECDSA"),
            (KeyAlgorithm::EcP384, "SHA384withECDSA"),
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(
                self_signed(&key, &dn, 1)
                    .unwrap()
                    .info()
                    .signature_algorithm,
                sig
            );
        }
    }
}
