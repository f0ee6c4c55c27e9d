//! The whole APK verifier (ZIP, signing block, v1/v2/v3, binary manifest) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_sign::apk::{self, ArchiveKind};

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    let _ = apk::verify(file.path(), ArchiveKind::Apk, None);
    let _ = apk::verify(file.path(), ArchiveKind::Aab, Some(21));
});
