//! APK Signature Scheme v4 (`.idsig`) files on arbitrary bytes, verified against a small
//! fixed APK-sized input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_sign::apk::v4;

fuzz_target!(|data: &[u8]| {
    let apk = vec![0x5au8; 10_000];
    let mut r = std::io::Cursor::new(&apk);
    let _ = v4::verify(data, &mut r, apk.len() as u64);
});
