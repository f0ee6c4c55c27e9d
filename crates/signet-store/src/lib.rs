//! The credential store of `signet serve`: the domain (organizations, users, roles,
//! tokens, apps, credentials, build credential sets and pairs, audit) on SQLite or
//! PostgreSQL, with every secret encrypted at rest.
//!
//! # Brief overview
//!
//! Encryption at rest follows SPEC §3: every secret blob is sealed with AES-256-GCM under
//! a fresh data key ([`Keyring::seal`]); the data key is wrapped by the current master key,
//! named by a key id; the associated data binds the ciphertext to its organization,
//! record, type and version, so a ciphertext moved to another row, or changed, fails to
//! open. Several master keys can be loaded at once, so keys rotate online:
//! [`Keyring::rotate`] adds a key and makes it current, [`Store::rewrap_all`] re-wraps
//! every data key under it without touching the ciphertexts.
//!
//! Uploads are validated with signet-formats ([`validate::validate`]); what is shown is
//! derived from the files, never taken from the client. Every change, and every read of
//! secret material, writes an audit record in the same transaction.
//!
//! # Example
//!
//! ```
//! use signet_store::{Binding, Keyring};
//!
//! let mut keyring = Keyring::generate("k1")?;
//! let binding = Binding { org: "acme", record: "ks_1", kind: "android-keystore", version: 1, derived: Some("{}") };
//! let sealed = keyring.seal(b"keystore bytes", &binding)?;
//! assert_eq!(&*keyring.open(&sealed, &binding)?, b"keystore bytes");
//!
//! keyring.rotate("k2")?;
//! let rewrapped = keyring.rewrap(&sealed, &binding)?;
//! assert_eq!(&*keyring.open(&rewrapped, &binding)?, b"keystore bytes");
//! # Ok::<(), signet_store::StoreError>(())
//! ```

#![deny(missing_docs)]
// The store's calls name who acts, in which organization and app, on what, at which
// version: explicit arguments read better at the call sites than one-use structs.
#![allow(clippy::too_many_arguments)]

mod apps;
mod audit_log;
mod credentials;
mod db;
mod envelope;
mod error;
mod hashing;
mod held;
mod ids;
mod keyring;
mod master_keys;
pub mod metadata;
mod model;
mod orgs;
mod reports;
pub mod secrets;
mod throttle;
mod tokens;
mod users;
pub mod validate;
mod versions;

pub use crate::{
    apps::{
        AppCredentials, BuildCredentials, DISTRIBUTIONS, SLOTS, check_build_set_name,
        check_identifier, check_pair_metadata,
    },
    db::{Backend, Limits, PageRequest, Store},
    envelope::{Binding, Sealed},
    error::{Rule, StoreError},
    hashing::QUEUE_WAIT,
    held::{
        CertificateRequest, DEFAULT_DNAME, DEFAULT_VALIDITY_DAYS, KeystoreSpec, OptedIn,
        PlayAppSigning,
    },
    ids::{
        AppId, BuildPairId, BuildSetId, CertificateRequestId, CredentialId, InvalidId, Named,
        OrgId, TokenId, UserId,
    },
    keyring::Keyring,
    metadata::Metadata,
    model::{
        Actor, App, AuditRecord, BuildPair, BuildSet, Credential, CredentialVersion, Impact, Kind,
        Link, Member, Org, Page, Role, Scope, TokenInfo, User,
    },
    reports::AuditFilter,
    throttle::Budget,
    tokens::Principal,
    users::{MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, SetupToken},
};
