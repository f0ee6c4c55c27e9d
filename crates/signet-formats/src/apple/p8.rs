//! APNs authentication keys (`AuthKey_<KEYID>.p8`): a PEM PKCS#8 EC P-256 private key that
//! Apple lets a team download once, and the ES256 provider tokens (JWT) it signs for the
//! APNs HTTP/2 API.
//! <https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns>
//!
//! ```text
//! token := base64url({"alg":"ES256","kid":KEY_ID}) "." base64url({"iss":TEAM_ID,"iat":UNIX_TIME})
//!          "." base64url(r || s)
//! ```

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use base64::Engine as _;

use crate::{FormatError, KeyAlgorithm, PrivateKey, Result, pem};

/// A validated APNs (or App Store Connect API) .p8 key.
#[derive(Debug, Clone)]
pub struct AuthKey {
    key: PrivateKey,
}

impl AuthKey {
    /// Reads a `.p8`: PEM `PRIVATE KEY` (or raw DER) PKCS#8 holding an EC P-256 key.
    pub fn parse(bytes: &[u8]) -> Result<AuthKey> {
        let der = if pem::contains_label(bytes, "PRIVATE KEY") {
            let mut blocks = pem::decode_all(bytes, "PRIVATE KEY")?;
            if blocks.len() != 1 {
                return Err(FormatError::Malformed {
                    what: ".p8 key",
                    detail: format!("expected one PRIVATE KEY block, found {}", blocks.len()),
                });
            }
            blocks.remove(0)
        } else {
            bytes.to_vec()
        };
        let key = PrivateKey::from_pkcs8_der(&der).map_err(|e| match e {
            FormatError::BadPrivateKey(_) | FormatError::UnsupportedAlgorithm(_) => {
                FormatError::BadPrivateKey(
                    "not an APNs key: a .p8 holds a PKCS#8 EC P-256 private key".into(),
                )
            }
            other => other,
        })?;
        if key.algorithm() != KeyAlgorithm::EcP256 {
            return Err(FormatError::BadPrivateKey(format!(
                "APNs keys are EC P-256, this is {:?}",
                key.algorithm()
            )));
        }
        Ok(AuthKey { key })
    }

    /// The public key as an uncompressed point (65 bytes), to verify tokens with.
    pub fn public_key(&self) -> Result<Vec<u8>> {
        self.key.public_key_bits()
    }

    /// Mints a provider token. `key_id` and `team_id` are Apple's 10-character ids.
    pub fn provider_token(&self, key_id: &str, team_id: &str, issued_at: i64) -> Result<String> {
        check_id("key id", key_id)?;
        check_id("team id", team_id)?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(format!(r#"{{"alg":"ES256","kid":"{key_id}"}}"#));
        let claims = b64.encode(format!(r#"{{"iss":"{team_id}","iat":{issued_at}}}"#));
        let signing_input = format!("{header}.{claims}");
        let sig = self.sign_es256(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64.encode(sig)))
    }

    /// Signs `message` as JWS's ES256 does: ECDSA P-256 with SHA-256, the signature as
    /// `r || s` (64 bytes). App Store Connect API tokens are signed so too.
    pub fn sign_es256(&self, message: &[u8]) -> Result<Vec<u8>> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, self.key.pkcs8_der())
            .map_err(|_| FormatError::BadPrivateKey("EC P-256".into()))?;
        let sig = pair
            .sign(&SystemRandom::new(), message)
            .map_err(|_| FormatError::Crypto("ECDSA signing"))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// Apple's key and team ids: 10 upper-case letters and digits.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    if id.len() == 10
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(FormatError::InvalidParameter(format!(
            "{what} `{id}` is not an Apple id (10 upper-case letters and digits)"
        )))
    }
}

/// The key id in a file name as Apple names downloads: `AuthKey_<KEYID>.p8`.
pub fn key_id_from_file_name(name: &str) -> Option<&str> {
    let id = name.strip_prefix("AuthKey_")?.strip_suffix(".p8")?;
    check_id("key id", id).ok().map(|()| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p8() -> Vec<u8> {
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        pem::encode("PRIVATE KEY", key.pkcs8_der()).into_bytes()
    }

    #[test]
    fn token_has_apples_shape_and_verifies() {
        let key = AuthKey::parse(&p8()).unwrap();
        let token = key
            .provider_token("ABC123DEFG", "TEAM123456", 1_700_000_000)
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert_eq!(
            b64.decode(parts[0]).unwrap(),
            br#"{"alg":"ES256","kid":"ABC123DEFG"}"#
        );
        assert_eq!(
            b64.decode(parts[1]).unwrap(),
            br#"{"iss":"TEAM123456","iat":1700000000}"#
        );
        let sig = b64.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64);
        let public = key.public_key().unwrap();
        let verifier = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            &public,
        );
        assert!(
            verifier
                .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
                .is_ok()
        );
    }

    /// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from JOSE's r || s
    /// (P-256: every length fits one byte).
    fn jose_to_der(sig: &[u8]) -> Vec<u8> {
        let int = |b: &[u8]| {
            let b: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
            let pad = b.first().is_none_or(|&x| x & 0x80 != 0);
            let mut out = vec![0x02, (b.len() + usize::from(pad)) as u8];
            if pad {
                out.push(0);
            }
            out.extend(b);
            out
        };
        let mut body = int(&sig[..32]);
        body.extend(int(&sig[32..]));
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    fn openssl(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed (scripts/test installs the peer tools)")
    }

    /// The test above checks the token with the library that signed it; here OpenSSL
    /// makes the key (as Apple's are: PKCS#8 PEM, P-256), derives the public key, and
    /// verifies the ES256 signature over the JWT's signing input.
    #[test]
    fn token_verifies_with_openssl() {
        let dir = std::env::temp_dir().join(format!("signet-p8-openssl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| {
            let out = openssl(&dir, args);
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };
        run(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "AuthKey.p8",
        ]);
        run(&["ec", "-in", "AuthKey.p8", "-pubout", "-out", "pub.pem"]);
        let spki = run(&["ec", "-in", "AuthKey.p8", "-pubout", "-outform", "DER"]).stdout;

        let key = AuthKey::parse(&std::fs::read(dir.join("AuthKey.p8")).unwrap()).unwrap();
        // The public point signet derives is the one OpenSSL puts at the end of the SPKI.
        assert_eq!(key.public_key().unwrap(), spki[spki.len() - 65..]);
        let token = key
            .provider_token("ABC123DEFG", "TEAM123456", 1_700_000_000)
            .unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .unwrap();
        assert_eq!(sig.len(), 64, "JOSE r || s");
        std::fs::write(dir.join("sig.der"), jose_to_der(&sig)).unwrap();
        std::fs::write(dir.join("input"), input).unwrap();
        std::fs::write(dir.join("tampered"), format!("{input}x")).unwrap();
        let verify = |file: &str| {
            openssl(
                &dir,
                &[
                    "dgst",
                    "-sha256",
                    "-verify",
                    "pub.pem",
                    "-signature",
                    "sig.der",
                    file,
                ],
            )
        };
        let good = verify("input");
        let bad = verify("tampered");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            good.status.success() && String::from_utf8_lossy(&good.stdout).contains("Verified OK"),
            "{good:?}"
        );
        assert!(
            String::from_utf8_lossy(&bad.stdout).contains("Verification failure"),
            "{bad:?}"
        );
    }

    #[test]
    fn refuses_other_keys_and_bad_ids() {
        let rsa = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let pem_rsa = pem::encode("PRIVATE KEY", rsa.pkcs8_der());
        assert!(matches!(
            AuthKey::parse(pem_rsa.as_bytes()),
            Err(FormatError::BadPrivateKey(d)) if d.starts_with("APNs keys are EC P-256, this is Rsa")
        ));
        assert!(matches!(
            AuthKey::parse(b"garbage"),
            Err(FormatError::BadPrivateKey(d)) if d.starts_with("not an APNs key")
        ));
        let key = AuthKey::parse(&p8()).unwrap();
        let short = key.provider_token("short", "TEAM123456", 0).unwrap_err();
        assert!(
            matches!(short, FormatError::InvalidParameter(_)),
            "{short:?}"
        );
        assert!(short.to_string().contains("short"), "{short}");
        let lower = key
            .provider_token("ABC123DEFG", "team123456", 0)
            .unwrap_err();
        assert!(
            matches!(lower, FormatError::InvalidParameter(_)),
            "{lower:?}"
        );
        assert!(lower.to_string().contains("team123456"), "{lower}");
    }

    #[test]
    fn key_id_comes_from_apples_file_name() {
        assert_eq!(
            key_id_from_file_name("AuthKey_ABC123DEFG.p8"),
            Some("ABC123DEFG")
        );
        assert_eq!(key_id_from_file_name("AuthKey_abc.p8"), None);
        assert_eq!(key_id_from_file_name("key.p8"), None);
    }
}
