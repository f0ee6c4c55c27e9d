//! Apple credentials.

mod certificate;
pub mod check;
pub mod mobileprovision;
pub mod p8;

pub(crate) use certificate::classify;
pub use certificate::{AppleCertificateKind, AppleInfo};
