//! JKS and PKCS#12 parsing: listing without a password, opening with one, unlocking keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_formats::{Keystore, Password};

fuzz_target!(|data: &[u8]| {
    let password = Password::new("fuzz");
    for pw in [None, Some(&password)] {
        if let Ok(store) = Keystore::open(data, pw) {
            for entry in store.entries() {
                let _ = store.unlock(Some(entry.alias()), &password);
            }
            let _ = store.key_entry(None);
        }
    }
});
