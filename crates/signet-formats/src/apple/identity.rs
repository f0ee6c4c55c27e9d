//! A signing identity from its parts: the private key a CSR was made with and the `.cer`
//! Apple issued for it, packed into a `.p12` as Keychain and the server keep identities.

use crate::{
    Certificate, FormatError, KeyEntry, KeystoreType, Password, Pkcs12Encryption, PrivateKey,
    Result, WriteOptions, pem,
};

/// Reads a PKCS#8 private key, PEM (`PRIVATE KEY`) or DER. Traditional OpenSSL PEM keys
/// (`RSA PRIVATE KEY`, `EC PRIVATE KEY`) are refused with the command that converts them.
pub fn read_private_key(bytes: &[u8]) -> Result<PrivateKey> {
    if pem::contains_label(bytes, "RSA PRIVATE KEY") || pem::contains_label(bytes, "EC PRIVATE KEY")
    {
        return Err(FormatError::BadPrivateKey(
            "the key is in a traditional OpenSSL format; convert it with \
             `openssl pkcs8 -topk8 -nocrypt -in KEY -out key.p8.pem`"
                .into(),
        ));
    }
    if pem::contains_label(bytes, "ENCRYPTED PRIVATE KEY") {
        return Err(FormatError::BadPrivateKey(
            "the key is encrypted; decrypt it with `openssl pkcs8 -in KEY -out key.p8.pem`".into(),
        ));
    }
    let der = if pem::contains_label(bytes, "PRIVATE KEY") {
        pem::decode_all(bytes, "PRIVATE KEY")?
            .into_iter()
            .next()
            .unwrap_or_default()
    } else {
        bytes.to_vec()
    };
    PrivateKey::from_pkcs8_der(&der)
}

/// Reads a certificate, PEM or DER (Apple's `.cer` downloads are DER).
pub fn read_certificate(bytes: &[u8]) -> Result<Certificate> {
    let der = if pem::contains_label(bytes, "CERTIFICATE") {
        pem::decode_all(bytes, "CERTIFICATE")?
            .into_iter()
            .next()
            .unwrap_or_default()
    } else {
        bytes.to_vec()
    };
    Certificate::from_der(&der)
}

/// Packs `key` and `cert` into a `.p12` under `password`, after checking that the
/// certificate was issued for the key. The entry is named by the certificate's Apple name
/// (`Apple Distribution: Acme Inc (A1B2C3D4E5)`), or its subject.
pub fn identity_p12(
    key: PrivateKey,
    cert: Certificate,
    password: &Password,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>> {
    if !key.matches(&cert)? {
        return Err(FormatError::InvalidParameter(
            "the certificate was not issued for the key: use the key the request \
             was made with"
                .into(),
        ));
    }
    let alias = cert
        .info()
        .apple
        .as_ref()
        .map_or_else(|| cert.info().subject.clone(), |a| a.name.clone());
    let entry = KeyEntry {
        alias,
        created: None,
        key,
        chain: vec![cert],
    };
    crate::write(
        std::slice::from_ref(&entry),
        &[],
        &WriteOptions {
            kind: KeystoreType::Pkcs12,
            store_password: password.clone(),
            key_password: None,
            pkcs12_encryption: encryption,
        },
    )
}
