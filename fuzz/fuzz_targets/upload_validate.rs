//! A credential upload as the server receives it: JSON, then validation of whatever
//! files it carries (keystores, .p12, profiles, .p8, service-account JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_store::validate::{Upload, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(upload) = serde_json::from_slice::<Upload>(data) else { return };
    let _ = validate(&upload, time::OffsetDateTime::UNIX_EPOCH);
});
