//! Signing-certificate lineages on arbitrary bytes: the file `apksigner rotate` writes and
//! the encoded form a v3 signer carries in its proof-of-rotation attribute.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_sign::apk::lineage::Lineage;

fuzz_target!(|data: &[u8]| {
    if let Ok(lineage) = Lineage::from_file(data) {
        // What was accepted writes back and reads again.
        let again = Lineage::from_file(&lineage.to_file()).expect("re-read a written lineage");
        assert_eq!(again.encode(), lineage.encode());
    }
    let _ = Lineage::decode(data);
});
