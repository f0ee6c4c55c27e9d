//! What can go wrong talking to App Store Connect.

/// One entry of Apple's `errors[]` (the document's `ErrorResponse`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct AppleError {
    /// The HTTP status, as a string.
    pub status: String,
    /// Apple's machine-readable code (`ENTITY_ERROR`, `NOT_AUTHORIZED`, …).
    pub code: String,
    /// A short summary.
    pub title: String,
    /// What went wrong, in Apple's words.
    pub detail: String,
}

/// An App Store Connect call that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AscError {
    /// Apple answered with an error status and its `errors[]`.
    #[error("App Store Connect refused the request ({status}): {}", detail_of(.errors))]
    Apple {
        /// The HTTP status.
        status: u16,
        /// Apple's errors, at least one.
        errors: Vec<AppleError>,
    },
    /// An error status whose body was not Apple's `errors[]`.
    #[error("App Store Connect answered {status} without an error document")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Still 429 or 5xx after every retry.
    #[error("App Store Connect is unavailable ({status}) after {attempts} attempts")]
    Unavailable {
        /// The last status.
        status: u16,
        /// How many requests were made.
        attempts: u32,
    },
    /// The connection failed or timed out.
    #[error("cannot reach App Store Connect at {url}: {reason}")]
    Transport {
        /// The base URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A response that is not the document's schema.
    #[error("unexpected answer from App Store Connect to {what}: {reason}")]
    Decode {
        /// Which request.
        what: String,
        /// What did not parse (serde's message; never a secret: Apple's answers hold none).
        reason: String,
    },
    /// A `links.next` to another host than the API's: not followed (the token would go there).
    #[error("App Store Connect's next page points to another host ({host}); not followed")]
    ForeignNextLink {
        /// The host named.
        host: String,
    },
    /// More pages than the bound.
    #[error("App Store Connect's list {what} has more than {max} pages")]
    TooManyPages {
        /// Which list.
        what: String,
        /// The bound.
        max: usize,
    },
    /// The API key cannot sign a token.
    #[error("the App Store Connect API key cannot be used: {0}")]
    Key(String),
    /// The base URL is not an http(s) URL.
    #[error("SIGNET_ASC_URL is not an http(s) URL: {0}")]
    BadUrl(String),
}

impl AscError {
    /// Apple's first error's `detail`, when Apple sent one.
    pub fn apple_detail(&self) -> Option<&str> {
        match self {
            AscError::Apple { errors, .. } => errors.first().map(|e| e.detail.as_str()),
            _ => None,
        }
    }

    /// The HTTP status Apple answered, when it did.
    pub fn status(&self) -> Option<u16> {
        match self {
            AscError::Apple { status, .. }
            | AscError::Status { status }
            | AscError::Unavailable { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn detail_of(errors: &[AppleError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.detail.is_empty() {
                e.title.clone()
            } else {
                e.detail.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
