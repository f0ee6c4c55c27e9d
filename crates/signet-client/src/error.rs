//! What can go wrong talking to a server: no connection, a refusal the server explained
//! (problem+json, RFC 9457), or an answer this client cannot read.

use serde_json::Value;

/// A refusal as the server explained it (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The stable problem type: the last segment of the `type` URI (`forbidden`,
    /// `invalid`, `stale`, `limit`, …).
    pub kind: String,
    /// The server's sentence for a person.
    pub detail: String,
    /// For `invalid`: the request field at fault.
    pub field: Option<String>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
    /// Every member of the problem object (`occupied_by` of a limit, …).
    pub body: Value,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// An error of [`crate::Client`]. Messages name the server and what failed, never a token,
/// password or key.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL is not an `http://` or `https://` URL.
    #[error("`{0}` is not a server URL (http://HOST:PORT or https://HOST)")]
    BadUrl(String),
    /// No connection could be made.
    #[error("cannot connect to {server} ({reason})")]
    Connect {
        /// The server's URL.
        server: String,
        /// Why, in the system's words (connection refused, a name that does not resolve, a
        /// TLS failure).
        reason: String,
    },
    /// The server did not answer in time.
    #[error("{server} did not answer in time")]
    Timeout {
        /// The server's URL.
        server: String,
    },
    /// The request failed on the way (connection reset, TLS, …).
    #[error("the request to {server} failed: {reason}")]
    Transport {
        /// The server's URL.
        server: String,
        /// What failed (reqwest's description, which holds no request data).
        reason: String,
    },
    /// The server refused, and said why.
    #[error("{0}")]
    Problem(Box<Problem>),
    /// The server answered with an error that is not problem+json (a proxy, another
    /// program on that port).
    #[error("{server} answered {status} without a problem description: is it a signet server?")]
    Unexpected {
        /// The server's URL.
        server: String,
        /// The HTTP status.
        status: u16,
    },
    /// The server answered with a redirect, which this client does not follow: a request
    /// carries a token or secrets, which go to the server named and nowhere else.
    #[error(
        "{server} answered {status}, a redirect to {location}: give the URL it redirects to as the server"
    )]
    Redirected {
        /// The server's URL.
        server: String,
        /// The HTTP status.
        status: u16,
        /// Where it redirects (`Location`), or `(no Location)`.
        location: String,
    },
    /// An answer larger than any the API gives.
    #[error("{server} sent more than {limit} bytes in one answer: is it a signet server?")]
    TooLarge {
        /// The server's URL.
        server: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A success whose body this client cannot read.
    #[error(
        "{server} sent a response this client cannot read ({what}): is it a signet server of this version?"
    )]
    Decode {
        /// The server's URL.
        server: String,
        /// What was being read, and where it went wrong (never a value of the answer).
        what: String,
    },
    /// A call that needs a token was made without one.
    #[error("not logged in")]
    NoToken,
}

impl ClientError {
    /// The problem the server gave, if it refused.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Problem(p) => Some(p),
            _ => None,
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }
}

/// Reads a problem+json body (or any JSON object with a `type` and `detail`).
pub(crate) fn problem(status: u16, retry_after: Option<u64>, body: &[u8]) -> Option<Problem> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let kind = body.get("type")?.as_str()?;
    let kind = kind.rsplit('/').next().unwrap_or(kind).to_owned();
    let detail = printable(
        body.get("detail")
            .and_then(Value::as_str)
            .or_else(|| body.get("title").and_then(Value::as_str))
            .unwrap_or("the request failed"),
    );
    let field = body.get("field").and_then(Value::as_str).map(printable);
    Some(Problem {
        status,
        kind,
        detail,
        field,
        retry_after,
        body,
    })
}

/// A server's text as one printable line: control characters (terminal escapes, line
/// breaks that could fake an `error:` line) become U+FFFD.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_read_with_their_field() {
        let p = problem(
            422,
            None,
            br#"{"type":"https://signet.invalid/problems/invalid","title":"Unprocessable Entity",
                "status":422,"detail":"invalid `store_password`: wrong","field":"store_password"}"#,
        )
        .unwrap();
        assert_eq!(p.kind, "invalid");
        assert_eq!(p.field.as_deref(), Some("store_password"));
        assert_eq!(p.to_string(), "invalid `store_password`: wrong");
    }

    #[test]
    fn a_servers_detail_cannot_move_the_cursor_or_fake_a_line() {
        let p = problem(
            400,
            None,
            br#"{"type":"x","detail":"bad\u001b[2J\nerror: fake"}"#,
        )
        .unwrap();
        assert_eq!(p.detail, "bad\u{fffd}[2J\u{fffd}error: fake");
    }

    #[test]
    fn a_body_without_a_type_is_no_problem() {
        assert_eq!(problem(500, None, b"<html>bad gateway</html>"), None);
        assert_eq!(problem(500, None, br#"{"detail":"x"}"#), None);
    }
}
