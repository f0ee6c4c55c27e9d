//! Provisioning profile parsing (CMS, property list, certificates).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = signet_formats::apple::mobileprovision::Profile::parse(data) {
        let _ = p.matches_bundle_id("com.example.app");
    }
});
