//! eas-cli credentials.json reading and merging, and the file paths chosen from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_formats::{Password, credentials_json};

fuzz_target!(|data: &[u8]| {
    let _ = credentials_json::read(data);
    let entry = credentials_json::AndroidKeystore {
        keystore_path: "k.jks".into(),
        keystore_password: Password::new("a"),
        key_alias: "k".into(),
        key_password: Some(Password::new("b")),
    };
    let _ = credentials_json::with_android_keystore(Some(data), &entry);
    let ios = credentials_json::Ios::Single(credentials_json::IosTarget {
        provisioning_profile_path: "p.mobileprovision".into(),
        distribution_certificate: credentials_json::DistributionCertificate {
            path: "c.p12".into(),
            password: Password::new("c"),
        },
    });
    let _ = credentials_json::with_ios(Some(data), &ios);
    let _ = credentials_json::android_keystore_file_path(Some(data));
    let _ = credentials_json::ios_file_paths(Some(data), "App", &["App", "10", "Widget"]);
});
