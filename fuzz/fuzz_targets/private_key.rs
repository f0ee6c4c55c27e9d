//! PKCS#8 private key parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = signet_formats::PrivateKey::from_pkcs8_der(data) {
        let _ = key.public_key_bits();
    }
});
