//! credentials.json as eas-cli itself reads it.
//!
//! The files are written with signet-formats' `credentials_json` (the writer the CLI uses),
//! the credential files put where its path functions say, and then read by eas-cli's own
//! reader (`readAndroidCredentialsAsync`, `readIosCredentialsAsync` and
//! `ensureAllTargetsAreConfigured`, from the pinned eas-cli `scripts/test` installs and
//! exports as `SIGNET_TEST_EAS_CLI`) through `eas/read_credentials.js`, which prints what
//! the reader returned. The same reader refusing malformed files, with its own message,
//! shows the oracle can fail; a table of files shows signet's reader accepts exactly
//! what eas-cli's accepts.

use std::{collections::BTreeMap, path::Path, process::Command};

use base64::Engine as _;
use serde_json::{Value, json};
use signet_formats::{
    FormatError, Password,
    credentials_json::{
        self, AndroidKeystore, DistributionCertificate, Ios, IosFilePaths, IosTarget,
    },
};

use crate::util::Dir;

const READ_CREDENTIALS_JS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/eas/read_credentials.js"
);

/// The node_modules directory holding eas-cli; the suite proves compatibility with it, so
/// its absence fails the test.
fn eas_cli_modules() -> String {
    let dir = std::env::var("SIGNET_TEST_EAS_CLI").unwrap_or_else(|_| {
        panic!(
            "SIGNET_TEST_EAS_CLI is not set: run scripts/test, which installs eas-cli with \
             npm into the build cache and exports its node_modules directory"
        )
    });
    let reader = Path::new(&dir).join("eas-cli/build/credentials/credentialsJson/read.js");
    assert!(
        reader.is_file(),
        "SIGNET_TEST_EAS_CLI={dir} holds no eas-cli ({} is missing): run scripts/test",
        reader.display()
    );
    dir
}

/// What eas-cli's reader returned for the project in `project` (`Ok`), or the message it
/// refused the file with (`Err`).
pub(crate) fn eas_read(project: &Path, args: &[&str]) -> Result<Value, String> {
    let out = Command::new("node")
        .arg(READ_CREDENTIALS_JS)
        .arg(project)
        .args(args)
        .env("SIGNET_TEST_EAS_CLI", eas_cli_modules())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}); run `scripts/test`, which installs npm and node")
        });
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    match out.status.code() {
        Some(0) => Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "read_credentials.js printed no JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })),
        Some(1) => Err(stderr),
        _ => panic!("read_credentials.js failed ({}):\n{stderr}", out.status),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Puts a credential file at `relative` in the project, making its directories.
fn put(dir: &Dir, relative: &str, bytes: &[u8]) {
    let path = dir.path(relative);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write credential file");
}

fn ios_target(paths: &IosFilePaths, password: &str) -> IosTarget {
    IosTarget {
        provisioning_profile_path: paths.provisioning_profile.clone(),
        distribution_certificate: DistributionCertificate {
            path: paths.distribution_certificate.clone(),
            password: Password::new(password),
        },
    }
}

#[test]
fn eas_cli_reads_the_android_keystore_signet_writes() {
    let dir = Dir::new();
    // A file with keys of its own, which stay.
    let existing = br#"{"experimental":{"note":"kept"},"android":{"other":1}}"#;
    let path = credentials_json::android_keystore_file_path(Some(existing)).unwrap();
    assert_eq!(path, "credentials/android/keystore.jks");
    let keystore_bytes = [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, b'\n'];
    put(&dir, &path, &keystore_bytes);
    let store_password = "store \"pw\" \\ ü\u{1}";
    let keystore = AndroidKeystore {
        keystore_path: path,
        keystore_password: Password::new(store_password),
        key_alias: "upload".into(),
        key_password: Some(Password::new("key pw")),
    };
    let file = credentials_json::with_android_keystore(Some(existing), &keystore).unwrap();
    let written: Value = serde_json::from_slice(&file).unwrap();
    assert_eq!(written["experimental"]["note"], "kept");
    dir.write("credentials.json", &file);
    assert_eq!(
        eas_read(dir.root(), &["android"]).unwrap(),
        json!({"keystore": {
            "keystore": b64(&keystore_bytes),
            "keystorePassword": store_password,
            "keyAlias": "upload",
            "keyPassword": "key pw",
        }})
    );

    // No key password, and a keystore outside the project named by its absolute path.
    let project = Dir::new();
    let elsewhere = dir.write("elsewhere.p12", b"another keystore");
    let keystore = AndroidKeystore {
        keystore_path: elsewhere.to_str().unwrap().to_owned(),
        keystore_password: Password::new(""),
        key_alias: "k".into(),
        key_password: None,
    };
    project.write(
        "credentials.json",
        credentials_json::with_android_keystore(None, &keystore).unwrap(),
    );
    assert_eq!(
        eas_read(project.root(), &["android"]).unwrap(),
        json!({"keystore": {
            "keystore": b64(b"another keystore"),
            "keystorePassword": "",
            "keyAlias": "k",
        }})
    );
}

#[test]
fn eas_cli_reads_a_single_target_ios_section() {
    let dir = Dir::new();
    // The file already holds an Android section, which eas-cli checks too and which stays.
    put(&dir, "credentials/android/keystore.jks", b"ks");
    let android = AndroidKeystore {
        keystore_path: credentials_json::ANDROID_KEYSTORE_PATH.into(),
        keystore_password: Password::new("s"),
        key_alias: "upload".into(),
        key_password: None,
    };
    let existing = credentials_json::with_android_keystore(None, &android).unwrap();

    let paths = credentials_json::ios_file_paths(Some(&existing), "App", &["App"]).unwrap();
    assert_eq!(
        paths,
        [(
            "App".to_owned(),
            IosFilePaths {
                provisioning_profile: "credentials/ios/profile.mobileprovision".into(),
                distribution_certificate: "credentials/ios/dist-cert.p12".into(),
            }
        )]
    );
    let (name, files) = &paths[0];
    let profile = b"0\x80\x06\x09*\x86H\x86\xf7\r\x01\x07\x02 a profile";
    let certificate = b"0\x82\x0a\x0b a p12";
    put(&dir, &files.provisioning_profile, profile);
    put(&dir, &files.distribution_certificate, certificate);
    let section = Ios::from_targets(BTreeMap::from([(
        name.clone(),
        ios_target(files, "p12 pw"),
    )]));
    assert!(matches!(section, Ios::Single(_)), "{section:?}");
    let file = credentials_json::with_ios(Some(&existing), &section).unwrap();
    let written: Value = serde_json::from_slice(&file).unwrap();
    assert_eq!(
        written["ios"]["provisioningProfilePath"],
        "credentials/ios/profile.mobileprovision"
    );
    dir.write("credentials.json", &file);

    assert_eq!(
        eas_read(dir.root(), &["ios", "App"]).unwrap(),
        json!({"App": {
            "provisioningProfile": b64(profile),
            "distributionCertificate": {
                "certificateP12": b64(certificate),
                "certificatePassword": "p12 pw",
            },
        }})
    );
    assert_eq!(
        eas_read(dir.root(), &["android"]).unwrap()["keystore"]["keystore"],
        b64(b"ks")
    );
}

#[test]
fn eas_cli_reads_two_ios_targets() {
    let dir = Dir::new();
    // The file names the application target's files (single form): they are kept, and
    // the new target gets eas-cli's default names with its own prefix.
    let existing = br#"{"ios":{"provisioningProfilePath":"mine/app.mobileprovision",
        "distributionCertificate":{"path":"mine/app.p12","password":"old"}}}"#;
    let paths =
        credentials_json::ios_file_paths(Some(existing), "App", &["App", "Widget"]).unwrap();
    assert_eq!(
        paths,
        [
            (
                "App".to_owned(),
                IosFilePaths {
                    provisioning_profile: "mine/app.mobileprovision".into(),
                    distribution_certificate: "mine/app.p12".into(),
                }
            ),
            (
                "Widget".to_owned(),
                IosFilePaths {
                    provisioning_profile: "credentials/ios/Widget-profile.mobileprovision".into(),
                    distribution_certificate: "credentials/ios/Widget-dist-cert.p12".into(),
                }
            ),
        ]
    );
    let mut targets = BTreeMap::new();
    let mut expected = serde_json::Map::new();
    for (i, (name, files)) in paths.iter().enumerate() {
        let profile = format!("profile of {name}").into_bytes();
        let certificate = vec![0x30, 0x82, u8::try_from(i).unwrap(), 0xff];
        put(&dir, &files.provisioning_profile, &profile);
        put(&dir, &files.distribution_certificate, &certificate);
        // An empty .p12 password is one eas-cli accepts.
        let password = if name == "App" { "app pw" } else { "" };
        targets.insert(name.clone(), ios_target(files, password));
        expected.insert(
            name.clone(),
            json!({
                "provisioningProfile": b64(&profile),
                "distributionCertificate": {
                    "certificateP12": b64(&certificate),
                    "certificatePassword": password,
                },
            }),
        );
    }
    let section = Ios::from_targets(targets);
    assert!(matches!(section, Ios::Targets(_)), "{section:?}");
    dir.write(
        "credentials.json",
        credentials_json::with_ios(Some(existing), &section).unwrap(),
    );
    assert_eq!(
        eas_read(dir.root(), &["ios", "App", "Widget"]).unwrap(),
        Value::Object(expected)
    );
}

/// A project whose every file a test credentials.json may name exists, so that only the
/// file's content decides whether eas-cli reads it.
fn project_with(credentials_json: &str) -> Dir {
    let dir = Dir::new();
    for name in ["k", "p", "c"] {
        dir.write(name, name);
    }
    dir.write("credentials.json", credentials_json);
    dir
}

const TARGET: &str =
    r#"{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":"pw"}}"#;

#[test]
fn eas_cli_rejects_what_signet_rejects() {
    let cases = [
        (
            r#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":12345,"keyAlias":"a"}}}"#
                .to_owned(),
            &["android"][..],
            "`android.keystore.keystorePassword` is not a string",
            r#"credentials.json is not valid [ValidationError: "android.keystore.keystorePassword" must be a string]"#,
        ),
        (
            r#"{"android":{}}"#.to_owned(),
            &["android"][..],
            "`android.keystore` is missing",
            r#"credentials.json is not valid [ValidationError: "android.keystore" is required]"#,
        ),
        (
            format!(r#"{{"ios":{{"App":{TARGET},"Widget":{{"provisioningProfilePath":"p"}}}}}}"#),
            &["ios", "App", "Widget"][..],
            "`ios.Widget.distributionCertificate` is missing",
            r#"credentials.json is not valid [ValidationError: "ios" does not match any of the allowed types]"#,
        ),
        (
            "{".to_owned(),
            &["ios", "App"][..],
            "JSON ends early at line 1 column 1",
            "credentials.json must exist in the project root directory and contain a valid JSON",
        ),
    ];
    for (file, args, signet_says, eas_says) in cases {
        match credentials_json::read(file.as_bytes()) {
            Err(FormatError::Malformed {
                what: "credentials.json",
                detail,
            }) => assert_eq!(detail, signet_says, "{file}"),
            other => panic!("signet read {file}: {other:?}"),
        }
        let dir = project_with(&file);
        assert_eq!(
            eas_read(dir.root(), args),
            Err(eas_says.to_owned()),
            "{file}"
        );
    }

    // A well-formed file that lacks a target the project has: eas-cli's target check.
    let dir = project_with(&format!(r#"{{"ios":{TARGET}}}"#));
    assert_eq!(
        eas_read(dir.root(), &["ios", "App", "Widget"]),
        Err("Credentials for target 'Widget' are not defined in credentials.json".to_owned())
    );
    assert!(eas_read(dir.root(), &["ios", "App"]).is_ok());
}

#[test]
fn signet_accepts_exactly_the_files_eas_cli_accepts() {
    let k = r#""keystorePath":"k","keystorePassword":"s","keyAlias":"a""#;
    let android = format!(r#"{{"keystore":{{{k}}}}}"#);
    let t = TARGET;
    let files = [
        format!(r#"{{"android":{android}}}"#),
        format!(r#"{{"android":{{"keystore":{{{k},"keyPassword":""}}}}}}"#),
        format!(r#"{{"android":{{"keystore":{{{k},"keyPassword":null}}}}}}"#),
        format!(r#"{{"android":{{"keystore":{{{k},"keyPassword":1}}}}}}"#),
        r#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"","keyAlias":"a"}}}"#
            .to_owned(),
        r#"{"android":{"keystore":{"keystorePath":"","keystorePassword":"s","keyAlias":"a"}}}"#
            .to_owned(),
        r#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"s","keyAlias":""}}}"#
            .to_owned(),
        r#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":true,"keyAlias":"a"}}}"#
            .to_owned(),
        r#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"s"}}}"#.to_owned(),
        r#"{"android":{"keystore":null}}"#.to_owned(),
        r#"{"android":{}}"#.to_owned(),
        r#"{"android":null}"#.to_owned(),
        format!(r#"{{"android":{{"keystore":{{{k},"x":1}},"y":2}},"other":[1]}}"#),
        format!(r#"{{"android":{android},"ios":3}}"#),
        format!(r#"{{"android":{android},"ios":{{"App":{t},"W":{{}}}}}}"#),
        "[]".to_owned(),
        "null".to_owned(),
        format!(r#"{{"ios":{t}}}"#),
        r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":"","x":1},"y":{}}}"#
            .to_owned(),
        r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c"}}}"#
            .to_owned(),
        r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"","password":""}}}"#
            .to_owned(),
        r#"{"ios":{"provisioningProfilePath":3,"distributionCertificate":{"path":"c","password":""}}}"#
            .to_owned(),
        r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":null}}"#.to_owned(),
        r#"{"ios":{"provisioningProfilePath":"p"}}"#.to_owned(),
        format!(r#"{{"ios":{{"App":{t}}}}}"#),
        format!(r#"{{"ios":{{"App":{t},"Widget Extension":{t}}}}}"#),
        format!(r#"{{"ios":{{"App":{t},"":3}}}}"#),
        format!(r#"{{"ios":{{"App":{t},"W":{{}}}}}}"#),
        format!(r#"{{"ios":{{"App":{t},"W":3}}}}"#),
        r#"{"ios":{"App":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":7}}}}"#
            .to_owned(),
        r#"{"ios":null}"#.to_owned(),
        r#"{"ios":[]}"#.to_owned(),
        format!(r#"{{"ios":{t},"android":{{}}}}"#),
    ];
    let mut accepted = 0;
    for file in &files {
        let signet = credentials_json::read(file.as_bytes());
        // Read the section the file has (Android when it has none): eas-cli checks the
        // whole file either way.
        let args: &[&str] = if file.contains("\"ios\"") {
            &["ios", "App"]
        } else {
            &["android"]
        };
        let eas = eas_read(project_with(file).root(), args);
        assert_eq!(
            signet.is_ok(),
            eas.is_ok(),
            "{file}\nsignet: {signet:?}\neas-cli: {eas:?}"
        );
        accepted += usize::from(eas.is_ok());
    }
    // The table holds both kinds.
    assert_eq!((accepted, files.len() - accepted), (9, 24));
}
