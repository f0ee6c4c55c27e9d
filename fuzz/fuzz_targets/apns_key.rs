//! APNs .p8 key parsing and token minting.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = signet_formats::apple::p8::AuthKey::parse(data) {
        let _ = key.provider_token("ABC123DEFG", "TEAM123456", 0);
    }
});
