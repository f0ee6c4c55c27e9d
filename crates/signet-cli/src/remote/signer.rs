//! A key that stays on the server: [`RemoteKey`] implements signet-sign's [`SigningKey`]
//! with one `POST …/apps/{app}/sign` per batch of to-be-signed messages. The artifact is
//! read and written here; only the messages (digests and the data around them), the
//! signatures and the certificate chain cross the network.

use std::sync::Mutex;

use signet_client::{Bytes, ClientError, SignBuild, SignMessage, SignRequest, Signed};
use signet_formats::{Certificate, KeyAlgorithm};
use signet_sign::{SignError, SigningKey, ToSign};

use super::Remote;

/// The held key of one build set (Android) or pair (iOS).
pub struct RemoteKey<'a> {
    remote: &'a Remote,
    app: String,
    artifact: &'static str,
    build: SignBuild,
    certificates: Vec<Certificate>,
    algorithm: KeyAlgorithm,
    /// The certificate's SHA-256, as the server reported it.
    pub key_sha256: String,
    /// The iOS pair's provisioning profile.
    pub profile: Option<Vec<u8>>,
    /// The keystore alias of an Android build set's key.
    pub alias: Option<String>,
    /// The last request's failure, for the CLI's message and hint (an IPA signer wraps
    /// our error into its own, which loses the source).
    failure: Mutex<Option<ClientError>>,
}

/// A server answer that does not fit what was asked.
#[derive(Debug)]
pub struct BadAnswer(pub String);

impl std::fmt::Display for BadAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server's answer to a signing request {}", self.0)
    }
}

impl std::error::Error for BadAnswer {}

impl<'a> RemoteKey<'a> {
    /// Asks the server for the signer of `build` (no signature yet): its certificates,
    /// and for iOS the profile. `artifact` is `apk`, `aab` or `ipa`.
    pub fn connect(
        remote: &'a Remote,
        app: &str,
        artifact: &'static str,
        build: SignBuild,
    ) -> anyhow::Result<RemoteKey<'a>> {
        let request = SignRequest {
            artifact: artifact.to_owned(),
            build: build.clone(),
            messages: Vec::new(),
        };
        let signed = remote.block_on(remote.client.sign(&remote.org, app, &request))?;
        let certificates = signed
            .certificates
            .iter()
            .map(|c| Certificate::from_der(&c.0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BadAnswer(format!("carries a certificate that does not parse: {e}")))?;
        let leaf = certificates
            .first()
            .ok_or_else(|| BadAnswer("carries no certificate".into()))?;
        let info = leaf.info();
        let algorithm = KeyAlgorithm::from_name_and_size(&info.key_algorithm, Some(info.key_size))
            .map_err(|e| BadAnswer(format!("names a key signet cannot sign with: {e}")))?;
        if leaf.info().fingerprints.sha256 != signed.key_sha256 {
            return Err(BadAnswer("names another key than its certificate's".into()).into());
        }
        Ok(RemoteKey {
            remote,
            app: app.to_owned(),
            artifact,
            build,
            certificates,
            algorithm,
            key_sha256: signed.key_sha256,
            profile: signed.profile.map(|p| p.0),
            alias: signed.alias,
            failure: Mutex::new(None),
        })
    }

    /// The error of the request that failed, if one did.
    pub fn take_failure(&self) -> Option<ClientError> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    fn request(&self, batch: &[ToSign<'_>]) -> Result<Signed, SignError> {
        let request = SignRequest {
            artifact: self.artifact.to_owned(),
            build: self.build.clone(),
            messages: batch
                .iter()
                .map(|m| SignMessage {
                    purpose: m.purpose,
                    algorithm: m.scheme,
                    message: Bytes(m.message.to_vec()),
                })
                .collect(),
        };
        let remote = self.remote;
        match remote.block_on(remote.client.sign(&remote.org, &self.app, &request)) {
            Ok(signed) => Ok(signed),
            Err(e) => {
                let message = e.to_string();
                if let Ok(mut f) = self.failure.lock() {
                    *f = Some(e);
                }
                Err(SignError::Key(message.into()))
            }
        }
    }
}

impl SigningKey for RemoteKey<'_> {
    fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn sign(&self, batch: &[ToSign<'_>]) -> Result<Vec<Vec<u8>>, SignError> {
        let signed = self.request(batch)?;
        // The key must not change between the first request and this one (a build set
        // swapped meanwhile): the signatures would not match the certificates already
        // written into the archive.
        if signed.key_sha256 != self.key_sha256 {
            return Err(SignError::Key(Box::new(BadAnswer(
                "comes from another key than the one signing began with (was the build set's \
                 keystore swapped meanwhile?)"
                    .into(),
            ))));
        }
        if signed.signatures.len() != batch.len() {
            return Err(SignError::Key(Box::new(BadAnswer(format!(
                "has {} signatures for {} messages",
                signed.signatures.len(),
                batch.len()
            )))));
        }
        // A signature that does not verify would make an archive that nothing accepts:
        // refuse it here, before anything is written.
        let leaf = self
            .certificates
            .first()
            .ok_or_else(|| SignError::Key(Box::new(BadAnswer("carries no certificate".into()))))?;
        for (m, s) in batch.iter().zip(&signed.signatures) {
            if !leaf.verify_with(m.scheme, m.message, &s.0)? {
                return Err(SignError::Key(Box::new(BadAnswer(
                    "carries a signature that does not verify with the key's certificate".into(),
                ))));
            }
        }
        Ok(signed.signatures.into_iter().map(|s| s.0).collect())
    }
}
