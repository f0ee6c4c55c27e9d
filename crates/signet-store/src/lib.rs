//! The credential store of `signet serve`.
//!
//! # Brief overview
//!
//! This first part is the encryption at rest of SPEC §3: every secret blob is sealed with
//! AES-256-GCM under a fresh data key ([`Keyring::seal`]); the data key is wrapped by the
//! current master key, named by a key id; the associated data binds the ciphertext to its
//! organization, record, type and version, so a ciphertext moved to another row, or
//! changed, fails to open. Several master keys can be loaded at once, so keys rotate
//! online: [`Keyring::rotate`] adds a key and makes it current, [`Keyring::rewrap`]
//! re-wraps a data key under the current key without touching the ciphertext.
//!
//! [`Store`] keeps sealed secrets in SQLite or PostgreSQL with versioned updates. The
//! domain model, auth and the HTTP API come next.
//!
//! # Example
//!
//! ```
//! use signet_store::{Binding, Keyring};
//!
//! let mut keyring = Keyring::generate("k1")?;
//! let binding = Binding { org: "acme", record: "ks_1", kind: "android-keystore", version: 1 };
//! let sealed = keyring.seal(b"keystore bytes", &binding)?;
//! assert_eq!(&*keyring.open(&sealed, &binding)?, b"keystore bytes");
//!
//! keyring.rotate("k2")?;
//! let rewrapped = keyring.rewrap(&sealed, &binding)?;
//! assert_eq!(&*keyring.open(&rewrapped, &binding)?, b"keystore bytes");
//! # Ok::<(), signet_store::StoreError>(())
//! ```

#![deny(missing_docs)]

mod db;
mod envelope;
mod error;
mod keyring;

pub use crate::{
    db::{Backend, Secret, Store},
    envelope::{Binding, Sealed},
    error::StoreError,
    keyring::Keyring,
};
