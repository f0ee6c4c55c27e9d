//! Signing and verifying Android archives.
//!
//! # Brief overview
//!
//! [`apk::sign`] signs an APK with JAR signing (v1) and APK Signature Scheme v2 and v3,
//! choosing schemes and digests as apksigner does for the APK's min SDK; with
//! [`apk::ArchiveKind::Aab`] it signs an App Bundle the way jarsigner does (v1 only).
//! [`apk::verify`] checks every scheme present, as strictly as apksigner.
//!
//! [`ipa::sign`] signs an IPA through apple-codesign.
//!
//! Keys are behind the [`SigningKey`] trait: the signer computes what must be signed and
//! hands it to the key in batches of [`ToSign`] messages, each labelled with its
//! [`Purpose`], so a key held elsewhere (a server, an HSM) can sign and knows what it
//! signs. Signing makes as few calls as the formats allow: an APK with v1, v2 and v3 costs
//! two (the JAR signature file, then v2's and v3's signed data together), an APK without
//! v1 or an AAB one, an IPA one per code signature. A [`signet_formats::KeyEntry`] from a
//! local keystore implements it.

#![deny(missing_docs)]

pub mod apk;
mod asn1;
mod attest;
mod error;
pub mod ipa;
mod key;
pub mod zip;

pub use crate::{
    attest::{Attested, attest},
    error::{IpaError, SignError, ZipError},
    key::{Purpose, SigningKey, ToSign},
};
