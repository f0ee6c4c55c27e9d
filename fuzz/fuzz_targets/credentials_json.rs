//! eas-cli credentials.json reading and merging.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_formats::{Password, credentials_json};

fuzz_target!(|data: &[u8]| {
    let _ = credentials_json::read_android_keystore(data);
    let entry = credentials_json::AndroidKeystore {
        keystore_path: "k.jks".into(),
        keystore_password: Password::new("a"),
        key_alias: "k".into(),
        key_password: Password::new("b"),
    };
    let _ = credentials_json::with_android_keystore(Some(data), &entry);
});
