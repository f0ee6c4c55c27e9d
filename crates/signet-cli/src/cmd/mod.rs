//! One module per command group.

pub mod admin;
pub mod app;
pub mod apple;
pub mod archive;
pub mod build_credentials;
pub mod certificate_requests;
pub mod credentials;
pub mod credentials_android;
pub mod credentials_ios;
pub mod credentials_sync;
pub mod inspect;
pub mod ios;
pub mod ipa;
pub mod keystore;
pub mod serve;
pub mod session;
pub mod team;
