//! Binary AndroidManifest.xml (AXML) parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signet_sign::apk::manifest::min_sdk_version(data);
});
