//! PEM decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signet_formats::pem::decode_all(data, "CERTIFICATE");
});
