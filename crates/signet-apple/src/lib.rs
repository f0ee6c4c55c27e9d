//! signet's side of Apple: a small async client of the App Store Connect API's
//! provisioning endpoints ([`AscClient`]), and the flows of `signet serve` built on it
//! (setting an app up for a distribution, the doctor, devices, certificates).
//!
//! The client signs ES256 tokens with the team's API key ([`AscKey`], which never leaves
//! the server), caches them until shortly before they expire, re-mints once on a 401,
//! retries 429 and 5xx with backoff (honouring `Retry-After`), follows `links.next` on
//! Apple's host only, and maps Apple's `errors[]` to [`AscError::Apple`].
//!
//! Requests and answers follow Apple's OpenAPI document (4.4.1); the test suite runs them
//! against a simulator (`signet-asc-sim`) that validates every request body against the
//! document's schemas.

mod client;
mod error;
pub mod flows;
pub mod jwt;
pub mod report;
pub mod types;

pub use crate::{
    client::{AscClient, DEFAULT_BASE_URL, Policy, check_base_url},
    error::{AppleError, AscError},
    flows::{Context, FlowError, REVOKE_IMPACT},
    jwt::AscKey,
};
