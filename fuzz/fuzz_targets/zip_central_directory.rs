//! ZIP end record and central directory parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut cursor = std::io::Cursor::new(data);
    if let Ok(eocd) = signet_sign::zip::read_eocd(&mut cursor, data.len() as u64) {
        let _ = signet_sign::apk::signing_block::find(&mut cursor, &eocd);
    }
    if data.len() > 2 {
        let _ = signet_sign::zip::read_central_directory(&data[2..], u16::from(data[0]), u64::from(data[1]) << 8);
    }
});
