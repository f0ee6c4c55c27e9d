//! App Store Connect API tokens: ES256 JWTs signed with the team's API key.
//! <https://developer.apple.com/documentation/appstoreconnectapi/generating-tokens-for-api-requests>
//!
//! ```text
//! header := {"alg":"ES256","kid":KEY_ID,"typ":"JWT"}
//! claims := {"iss":ISSUER_ID,"iat":NOW,"exp":NOW+LIFETIME,"aud":"appstoreconnect-v1"}
//! ```
//! Apple refuses a token whose `exp` lies more than 20 minutes after its `iat`.

use base64::Engine as _;
use signet_formats::apple::p8::{AuthKey, check_id};

use crate::AscError;

/// The audience every token names.
pub const AUDIENCE: &str = "appstoreconnect-v1";
/// Apple's longest lifetime.
pub const MAX_LIFETIME_SECS: i64 = 20 * 60;
/// The lifetime of the tokens minted here: under Apple's limit, with a minute for clocks.
pub const LIFETIME_SECS: i64 = 19 * 60;

/// An App Store Connect API key: the `.p8`, its key id and the issuer id. `Debug` shows the
/// ids only.
pub struct AscKey {
    key: AuthKey,
    key_id: String,
    issuer_id: String,
}

impl std::fmt::Debug for AscKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AscKey")
            .field("key_id", &self.key_id)
            .field("issuer_id", &self.issuer_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl AscKey {
    /// A key from its `.p8` (PEM) and ids.
    pub fn new(p8: &[u8], key_id: &str, issuer_id: &str) -> Result<AscKey, AscError> {
        let key = AuthKey::parse(p8).map_err(|e| AscError::Key(e.to_string()))?;
        check_id("key id", key_id).map_err(|e| AscError::Key(e.to_string()))?;
        if issuer_id.is_empty() || !issuer_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(AscError::Key("the issuer id is not a UUID".into()));
        }
        Ok(AscKey {
            key,
            key_id: key_id.to_owned(),
            issuer_id: issuer_id.to_owned(),
        })
    }

    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Mints a token valid from `now` (Unix seconds) for `lifetime` seconds.
    pub fn token(&self, now: i64, lifetime: i64) -> Result<String, AscError> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id, "typ": "JWT" });
        let claims = serde_json::json!({
            "iss": self.issuer_id,
            "iat": now,
            "exp": now + lifetime,
            "aud": AUDIENCE,
        });
        let input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign_es256(input.as_bytes())
            .map_err(|e| AscError::Key(e.to_string()))?;
        Ok(format!("{input}.{}", b64.encode(sig)))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn key() -> AscKey {
        let k = signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::EcP256).unwrap();
        let pem = signet_formats::pem::encode("PRIVATE KEY", k.pkcs8_der());
        AscKey::new(
            pem.as_bytes(),
            "ABC123DEFG",
            "57246542-96fe-1a63-e053-0824d011072a",
        )
        .unwrap()
    }

    #[test]
    fn tokens_carry_apples_claims_and_verify() {
        let k = key();
        let t = k.token(1_700_000_000, LIFETIME_SECS).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"})
        );
        assert_eq!(
            claims,
            serde_json::json!({"iss": "57246542-96fe-1a63-e053-0824d011072a", "iat": 1_700_000_000,
                "exp": 1_700_000_000 + LIFETIME_SECS, "aud": "appstoreconnect-v1"})
        );
        const { assert!(LIFETIME_SECS <= MAX_LIFETIME_SECS) };
        let public = k.key.public_key().unwrap();
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            &public,
        )
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn refuses_bad_keys_and_ids_without_showing_the_key() {
        let rsa =
            signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::Rsa2048).unwrap();
        let pem = signet_formats::pem::encode("PRIVATE KEY", rsa.pkcs8_der());
        assert!(matches!(
            AscKey::new(pem.as_bytes(), "ABC123DEFG", "57246542-96fe"),
            Err(AscError::Key(_))
        ));
        let k = key();
        assert!(matches!(
            AscKey::new(b"junk", "ABC123DEFG", "57246542"),
            Err(AscError::Key(_))
        ));
        let debug = format!("{k:?}");
        assert!(
            debug.contains("[redacted]") && debug.contains("ABC123DEFG"),
            "{debug}"
        );
        let ec =
            signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::EcP256).unwrap();
        let pem = signet_formats::pem::encode("PRIVATE KEY", ec.pkcs8_der());
        assert!(matches!(
            AscKey::new(pem.as_bytes(), "bad id", "57246542"),
            Err(AscError::Key(_))
        ));
        assert!(matches!(
            AscKey::new(pem.as_bytes(), "ABC123DEFG", "not a uuid!"),
            Err(AscError::Key(_))
        ));
    }
}
