//! Opening sealed blobs (as read back from the database).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_store::{Binding, Keyring, Sealed};

fuzz_target!(|data: &[u8]| {
    let Ok(ring) = Keyring::generate("k1") else { return };
    let binding = Binding { org: "o", record: "r", kind: "k", version: 1, derived: Some("{}") };
    let sealed = Sealed::from_bytes(data.to_vec());
    let _ = sealed.key_id();
    let _ = ring.open(&sealed, &binding);
    let _ = ring.rewrap(&sealed, &binding);
});
