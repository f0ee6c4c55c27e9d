//! Apple credentials.

pub mod p8;
