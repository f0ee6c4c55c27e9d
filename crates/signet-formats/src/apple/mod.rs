//! Apple credentials.

mod certificate;
pub mod check;
mod identity;
pub mod mobileprovision;
pub mod p8;
pub mod pairing;
mod property_list;

pub(crate) use certificate::classify;
pub use certificate::{AppleCertificateKind, AppleInfo};
pub use identity::{identity_p12, read_certificate, read_private_key};
pub use property_list::plist_problem;
