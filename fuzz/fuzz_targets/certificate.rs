//! X.509 certificate parsing and inspection.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = signet_formats::Certificate::from_der(data) {
        let _ = cert.info().key_description();
        let _ = cert.to_pem();
    }
});
