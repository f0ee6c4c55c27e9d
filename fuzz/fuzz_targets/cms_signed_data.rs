//! CMS SignedData (DER and BER) parsing and signer verification.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = signet_formats::cms::SignedData::parse(data) {
        let _ = sd.verify(None);
        let _ = sd.verify(Some(b"detached"));
    }
});
