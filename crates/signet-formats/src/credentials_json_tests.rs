use super::*;

fn keystore() -> AndroidKeystore {
    AndroidKeystore {
        keystore_path: "keystores/upload.jks".into(),
        keystore_password: Password::new("sp"),
        key_alias: "upload".into(),
        key_password: Some(Password::new("kp")),
    }
}

fn target(profile: &str, cert: &str, password: &str) -> IosTarget {
    IosTarget {
        provisioning_profile_path: profile.into(),
        distribution_certificate: DistributionCertificate {
            path: cert.into(),
            password: Password::new(password),
        },
    }
}

/// The detail of a `Malformed` credentials.json error.
fn malformed_detail(result: Result<CredentialsJson>) -> String {
    match result {
        Err(FormatError::Malformed {
            what: "credentials.json",
            detail,
        }) => detail,
        other => panic!("expected a malformed credentials.json, got {other:?}"),
    }
}

fn invalid_parameter(result: Result<Vec<u8>>) -> String {
    match result {
        Err(FormatError::InvalidParameter(why)) => why,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

const T: &str =
    r#"{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":"pw"}}"#;

#[test]
fn reads_the_android_section() {
    let file = br#"{"android":{"keystore":{"keystorePath":"k.jks","keystorePassword":"",
        "keyAlias":"a","keyPassword":"kp","extra":1},"other":2},"experimental":{}}"#;
    let ks = read_android_keystore(file).unwrap().unwrap();
    assert_eq!(ks.keystore_path, "k.jks");
    assert_eq!(ks.keystore_password.expose(), "");
    assert_eq!(ks.key_alias, "a");
    assert_eq!(ks.key_password.as_ref().map(Password::expose), Some("kp"));

    // keyPassword may be left out, as eas-cli's schema allows.
    let file =
        br#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"s","keyAlias":"a"}}}"#;
    assert_eq!(
        read_android_keystore(file).unwrap().unwrap().key_password,
        None
    );

    // No android section: nothing, and no error.
    assert_eq!(read_android_keystore(b"{}").unwrap(), None);
    assert_eq!(read(b"{\"other\":1}").unwrap(), CredentialsJson::default());
}

#[test]
fn refuses_a_malformed_android_section_naming_the_field() {
    let k = |fields: &str| format!(r#"{{"android":{{"keystore":{{{fields}}}}}}}"#);
    let cases = [
        ("[1]".to_owned(), "the top level is not an object"),
        ("null".to_owned(), "the top level is not an object"),
        ("{".to_owned(), "JSON ends early at line 1 column 1"),
        (
            "{\"android\" 1}".to_owned(),
            "invalid JSON at line 1 column 12",
        ),
        (
            r#"{"android":null}"#.to_owned(),
            "`android` is not an object",
        ),
        (
            r#"{"android":{}}"#.to_owned(),
            "`android.keystore` is missing",
        ),
        (
            r#"{"android":{"keystore":[]}}"#.to_owned(),
            "`android.keystore` is not an object",
        ),
        (
            k(r#""keystorePassword":"s","keyAlias":"a""#),
            "`android.keystore.keystorePath` is missing",
        ),
        (
            k(r#""keystorePath":"","keystorePassword":"s","keyAlias":"a""#),
            "`android.keystore.keystorePath` is empty",
        ),
        (
            k(r#""keystorePath":"k","keystorePassword":987654321,"keyAlias":"a""#),
            "`android.keystore.keystorePassword` is not a string",
        ),
        (
            k(r#""keystorePath":"k","keyAlias":"a""#),
            "`android.keystore.keystorePassword` is missing",
        ),
        (
            k(r#""keystorePath":"k","keystorePassword":"s","keyAlias":"""#),
            "`android.keystore.keyAlias` is empty",
        ),
        (
            k(r#""keystorePath":"k","keystorePassword":"s","keyAlias":true"#),
            "`android.keystore.keyAlias` is not a string",
        ),
        (
            k(r#""keystorePath":"k","keystorePassword":"s","keyAlias":"a","keyPassword":null"#),
            "`android.keystore.keyPassword` is not a string",
        ),
    ];
    for (file, why) in cases {
        assert_eq!(malformed_detail(read(file.as_bytes())), why, "{file}");
    }
}

#[test]
fn reads_ios_in_the_single_target_form() {
    let file = br#"{"ios":{"provisioningProfilePath":"a.mobileprovision","x":{"provisioningProfilePath":"q"},
        "distributionCertificate":{"path":"d.p12","password":"","extra":1}}}"#;
    assert_eq!(
        read_ios(file).unwrap(),
        Some(Ios::Single(target("a.mobileprovision", "d.p12", "")))
    );
}

#[test]
fn reads_ios_as_a_map_of_targets() {
    let file = format!(r#"{{"ios":{{"App":{T},"Widget Extension":{T},"":3}}}}"#);
    let Some(Ios::Targets(targets)) = read_ios(file.as_bytes()).unwrap() else {
        panic!("not read as a map");
    };
    // The empty name is dropped, as eas-cli's schema drops it.
    assert_eq!(
        targets.keys().collect::<Vec<_>>(),
        ["App", "Widget Extension"]
    );
    assert_eq!(targets["Widget Extension"], target("p", "c", "pw"));

    // A map's key may be any name, even a field name of the single form.
    let file = format!(r#"{{"ios":{{"provisioningProfilePath":{T}}}}}"#);
    let Some(Ios::Targets(targets)) = read_ios(file.as_bytes()).unwrap() else {
        panic!("not read as a map");
    };
    assert!(targets.contains_key("provisioningProfilePath"));

    // An empty map is accepted, as eas-cli's reader accepts it.
    assert_eq!(
        read_ios(br#"{"ios":{}}"#).unwrap(),
        Some(Ios::Targets(BTreeMap::new()))
    );
}

#[test]
fn refuses_a_malformed_ios_section_naming_the_field() {
    let cases = [
        (r#"{"ios":null}"#.to_owned(), "`ios` is not an object"),
        (r#"{"ios":[]}"#.to_owned(), "`ios` is not an object"),
        (
            r#"{"ios":{"provisioningProfilePath":"p"}}"#.to_owned(),
            "`ios.distributionCertificate` is missing",
        ),
        (
            r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":null}}"#.to_owned(),
            "`ios.distributionCertificate` is not an object",
        ),
        (
            r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c"}}}"#
                .to_owned(),
            "`ios.distributionCertificate.password` is missing",
        ),
        (
            r#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"","password":"x"}}}"#
                .to_owned(),
            "`ios.distributionCertificate.path` is empty",
        ),
        (
            r#"{"ios":{"provisioningProfilePath":3,"distributionCertificate":{"path":"c","password":"x"}}}"#
                .to_owned(),
            "`ios.provisioningProfilePath` is not a string",
        ),
        (
            r#"{"ios":{"provisioningProfilePath":"","distributionCertificate":{"path":"c","password":"x"}}}"#
                .to_owned(),
            "`ios.provisioningProfilePath` is empty",
        ),
        (
            r#"{"ios":{"distributionCertificate":{"path":"c","password":"x"}}}"#.to_owned(),
            "`ios.provisioningProfilePath` is missing",
        ),
        (
            format!(r#"{{"ios":{{"App":{T},"Widget":{{}}}}}}"#),
            "`ios.Widget.provisioningProfilePath` is missing",
        ),
        (
            format!(r#"{{"ios":{{"App":{T},"Widget":3}}}}"#),
            "`ios.Widget` is not an object",
        ),
        (
            r#"{"ios":{"App":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":7}}}}"#
                .to_owned(),
            "`ios.App.distributionCertificate.password` is not a string",
        ),
        (
            format!(r#"{{"ios":{{"A\nB":{T},"W":{{"provisioningProfilePath":"p"}}}}}}"#),
            "`ios.W.distributionCertificate` is missing",
        ),
        (
            r#"{"ios":{"A\nB":{"provisioningProfilePath":"p"}}}"#.to_owned(),
            "`ios.A\\nB.distributionCertificate` is missing",
        ),
    ];
    for (file, why) in cases {
        assert_eq!(malformed_detail(read(file.as_bytes())), why, "{file}");
    }
}

#[test]
fn the_whole_file_is_checked_whichever_section_is_read() {
    let file = br#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"s","keyAlias":"a"}},"ios":3}"#;
    assert!(matches!(
        read_android_keystore(file),
        Err(FormatError::Malformed { detail, .. }) if detail == "`ios` is not an object"
    ));
    let file = format!(r#"{{"android":{{}},"ios":{T}}}"#);
    assert!(matches!(
        read_ios(file.as_bytes()),
        Err(FormatError::Malformed { detail, .. }) if detail == "`android.keystore` is missing"
    ));
}

#[test]
fn errors_never_quote_values() {
    let bad = br#"{"android":{"keystore":{"keystorePath":"a","keystorePassword":987654321,"keyAlias":"k","keyPassword":"x"}}}"#;
    let err = read_android_keystore(bad).unwrap_err().to_string();
    assert_eq!(
        err,
        "malformed credentials.json: `android.keystore.keystorePassword` is not a string"
    );
    let bad = br#"{"ios":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c","password":["hunter2"]}}}"#;
    let err = read_ios(bad).unwrap_err().to_string();
    assert!(!err.contains("hunter2"), "{err}");
    let err = read_android_keystore(b"{\n  \"android\": [1,")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "malformed credentials.json: JSON ends early at line 2 column 16"
    );
}

#[test]
fn writes_eas_field_names_and_keeps_other_sections() {
    let existing =
        br#"{"ios":{"provisioningProfilePath":"a.mobileprovision"},"android":{"other":1}}"#;
    let out = with_android_keystore(Some(existing), &keystore()).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["ios"]["provisioningProfilePath"], "a.mobileprovision");
    assert_eq!(v["android"]["other"], 1);
    assert_eq!(
        v["android"]["keystore"],
        serde_json::json!({"keystorePath": "keystores/upload.jks", "keystorePassword": "sp",
                           "keyAlias": "upload", "keyPassword": "kp"})
    );
    // Two-space indents and a final newline, as eas-cli's fs.writeJson(…, {spaces: 2}).
    assert!(out.starts_with(b"{\n  \"android\": {\n    \"keystore\": {\n"));
    assert!(out.ends_with(b"}\n"));

    // Without a key password, the field is left out.
    let no_key_password = AndroidKeystore {
        key_password: None,
        ..keystore()
    };
    let out = with_android_keystore(None, &no_key_password).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["android"]["keystore"].get("keyPassword"), None);
    assert_eq!(read_android_keystore(&out).unwrap(), Some(no_key_password));
}

#[test]
fn refuses_to_write_into_a_file_that_is_not_an_object() {
    for (bytes, why) in [
        (&b"[1]"[..], "the top level is not an object"),
        (b"{\"android\":3}", "`android` is not an object"),
        (b"{", "JSON ends early"),
    ] {
        assert!(
            matches!(
                with_android_keystore(Some(bytes), &keystore()),
                Err(FormatError::Malformed { what: "credentials.json", detail }) if detail.starts_with(why)
            ),
            "{why}"
        );
    }
    assert!(matches!(
        with_ios(Some(b"\"ios\""), &Ios::Single(target("p", "c", "x"))),
        Err(FormatError::Malformed { detail, .. }) if detail == "the top level is not an object"
    ));
    // An empty (or blank) existing file is a new one.
    assert!(with_ios(Some(b" \n"), &Ios::Single(target("p", "c", "x"))).is_ok());
}

#[test]
fn refuses_to_write_what_eas_cli_would_refuse_to_read() {
    let empty_alias = AndroidKeystore {
        key_alias: String::new(),
        ..keystore()
    };
    assert_eq!(
        invalid_parameter(with_android_keystore(None, &empty_alias)),
        "credentials.json: eas-cli would refuse this section: `android.keystore.keyAlias` is empty"
    );
    assert_eq!(
        invalid_parameter(with_ios(None, &Ios::Single(target("", "c", "x")))),
        "credentials.json: eas-cli would refuse this section: `ios.provisioningProfilePath` is empty"
    );
    let targets = BTreeMap::from([
        ("App".to_owned(), target("p", "c", "x")),
        ("Widget".to_owned(), target("q", "", "x")),
    ]);
    assert_eq!(
        invalid_parameter(with_ios(None, &Ios::Targets(targets))),
        "credentials.json: eas-cli would refuse this section: `ios.Widget.distributionCertificate.path` is empty"
    );
    assert_eq!(
        invalid_parameter(with_ios(None, &Ios::Targets(BTreeMap::new()))),
        "credentials.json: an `ios` section needs at least one target"
    );
    let unnamed = BTreeMap::from([(String::new(), target("p", "c", "x"))]);
    assert_eq!(
        invalid_parameter(with_ios(None, &Ios::Targets(unnamed))),
        "credentials.json: an iOS target name cannot be empty (eas-cli ignores such a target)"
    );
}

#[test]
fn writes_ios_in_either_form_keeping_every_key_outside_it() {
    let existing = br#"{"android":{"keystore":{"keystorePath":"k","keystorePassword":"s","keyAlias":"a"}},
        "ios":{"Old":{"provisioningProfilePath":"o","distributionCertificate":{"path":"o","password":""}}},
        "experimental":{"x":[1,2]}}"#;
    let single = Ios::Single(target("p.mobileprovision", "c.p12", "pw"));
    let out = with_ios(Some(existing), &single).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["experimental"], serde_json::json!({"x": [1, 2]}));
    assert_eq!(v["android"]["keystore"]["keystorePath"], "k");
    // The section is replaced whole: the old target is gone.
    assert_eq!(
        v["ios"],
        serde_json::json!({"provisioningProfilePath": "p.mobileprovision",
                           "distributionCertificate": {"path": "c.p12", "password": "pw"}})
    );
    assert_eq!(read_ios(&out).unwrap(), Some(single));

    let targets = Ios::Targets(BTreeMap::from([
        ("App".to_owned(), target("a.mobileprovision", "a.p12", "1")),
        (
            "Widget".to_owned(),
            target("w.mobileprovision", "w.p12", ""),
        ),
    ]));
    let out = with_ios(Some(existing), &targets).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["ios"]["Widget"]["distributionCertificate"]["path"],
        "w.p12"
    );
    assert_eq!(v["ios"].as_object().unwrap().len(), 2);
    assert_eq!(read_ios(&out).unwrap(), Some(targets));
}

#[test]
fn from_targets_writes_one_target_in_the_single_form() {
    let one = BTreeMap::from([("App".to_owned(), target("p", "c", "x"))]);
    assert_eq!(
        Ios::from_targets(one.clone()),
        Ios::Single(target("p", "c", "x"))
    );
    assert_eq!(Ios::Single(target("p", "c", "x")).into_targets("App"), one);
    let two = BTreeMap::from([
        ("App".to_owned(), target("p", "c", "x")),
        ("Widget".to_owned(), target("q", "d", "y")),
    ]);
    assert_eq!(Ios::from_targets(two.clone()), Ios::Targets(two.clone()));
    assert_eq!(Ios::Targets(two.clone()).into_targets("App"), two);
}

#[test]
fn default_paths_are_eas_clis() {
    assert_eq!(ANDROID_KEYSTORE_PATH, "credentials/android/keystore.jks");
    assert_eq!(
        default_ios_file_paths("App", false),
        IosFilePaths {
            provisioning_profile: "credentials/ios/profile.mobileprovision".into(),
            distribution_certificate: "credentials/ios/dist-cert.p12".into(),
        }
    );
    assert_eq!(
        default_ios_file_paths("Widget", true),
        IosFilePaths {
            provisioning_profile: "credentials/ios/Widget-profile.mobileprovision".into(),
            distribution_certificate: "credentials/ios/Widget-dist-cert.p12".into(),
        }
    );
}

#[test]
fn android_keystore_file_path_keeps_the_one_the_file_names() {
    assert_eq!(
        android_keystore_file_path(None).unwrap(),
        ANDROID_KEYSTORE_PATH
    );
    assert_eq!(
        android_keystore_file_path(Some(
            br#"{"android":{"keystore":{"keystorePath":"ks/up.jks"}}}"#
        ))
        .unwrap(),
        "ks/up.jks"
    );
    // A path eas-cli could not use is not kept.
    assert_eq!(
        android_keystore_file_path(Some(br#"{"android":{"keystore":{"keystorePath":3}}}"#))
            .unwrap(),
        ANDROID_KEYSTORE_PATH
    );
}

fn paths(profile: &str, cert: &str) -> IosFilePaths {
    IosFilePaths {
        provisioning_profile: profile.into(),
        distribution_certificate: cert.into(),
    }
}

#[test]
fn ios_file_paths_follow_eas_cli() {
    // No file: the defaults, prefixed when there are several targets.
    assert_eq!(
        ios_file_paths(None, "App", &["App"]).unwrap(),
        [(
            "App".to_owned(),
            paths(
                "credentials/ios/profile.mobileprovision",
                "credentials/ios/dist-cert.p12"
            )
        )]
    );
    assert_eq!(
        ios_file_paths(None, "App", &["App", "Widget"]).unwrap(),
        [
            (
                "App".to_owned(),
                paths(
                    "credentials/ios/App-profile.mobileprovision",
                    "credentials/ios/App-dist-cert.p12"
                )
            ),
            (
                "Widget".to_owned(),
                paths(
                    "credentials/ios/Widget-profile.mobileprovision",
                    "credentials/ios/Widget-dist-cert.p12"
                )
            ),
        ]
    );

    // A single-form section names the application target's paths.
    let single = br#"{"ios":{"provisioningProfilePath":"mine/p.mobileprovision",
        "distributionCertificate":{"path":"mine/c.p12","password":""}}}"#;
    assert_eq!(
        ios_file_paths(Some(single), "App", &["Widget", "App"]).unwrap(),
        [
            (
                "Widget".to_owned(),
                paths(
                    "credentials/ios/Widget-profile.mobileprovision",
                    "credentials/ios/Widget-dist-cert.p12"
                )
            ),
            (
                "App".to_owned(),
                paths("mine/p.mobileprovision", "mine/c.p12")
            ),
        ]
    );

    // Paths a map names, and a second target naming the same files gets its name put
    // before the file name (node's path.join(dirname, `${target}-${basename}`)).
    let shared = br#"{"ios":{
        "App":{"provisioningProfilePath":"./x//p.mobileprovision","distributionCertificate":{"path":"c.p12"}},
        "Widget":{"provisioningProfilePath":"./x//p.mobileprovision","distributionCertificate":{"path":"c.p12"}}}}"#;
    assert_eq!(
        ios_file_paths(Some(shared), "App", &["App", "Widget"]).unwrap(),
        [
            ("App".to_owned(), paths("./x//p.mobileprovision", "c.p12")),
            (
                "Widget".to_owned(),
                paths("x/Widget-p.mobileprovision", "Widget-c.p12")
            ),
        ]
    );
}

#[test]
fn ios_file_paths_take_targets_in_javascripts_key_order() {
    // Both name the same files; JavaScript puts the array-index key "10" before "b", so
    // "b" is the one whose files are renamed.
    let file = br#"{"ios":{
        "b":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c"}},
        "10":{"provisioningProfilePath":"p","distributionCertificate":{"path":"c"}}}}"#;
    assert_eq!(
        ios_file_paths(Some(file), "b", &["b", "10"]).unwrap(),
        [
            ("10".to_owned(), paths("p", "c")),
            ("b".to_owned(), paths("b-p", "b-c")),
        ]
    );
    assert_eq!(js_array_index("10"), Some(10));
    assert_eq!(js_array_index("010"), None);
    assert_eq!(js_array_index("-1"), None);
    assert_eq!(js_array_index("4294967294"), Some(4_294_967_294));
    assert_eq!(js_array_index("4294967295"), None);
}

#[test]
fn ios_file_paths_refuse_targets_that_cannot_be_eas_clis() {
    let why = |r: Result<Vec<(String, IosFilePaths)>>| match r {
        Err(FormatError::InvalidParameter(why)) => why,
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    assert_eq!(
        why(ios_file_paths(None, "App", &["App", "App"])),
        "iOS target `App` is named twice"
    );
    assert_eq!(
        why(ios_file_paths(None, "App", &["App", ""])),
        "an iOS target name cannot be empty"
    );
    assert_eq!(
        why(ios_file_paths(None, "App", &["Widget"])),
        "the application target `App` is not among the targets"
    );
}

#[test]
fn node_path_functions_match_node() {
    // Expected values printed by node 20: path.posix.basename(p) and
    // path.posix.join(path.posix.dirname(p), "T-" + path.posix.basename(p)).
    for (p, base, joined) in [
        ("a//b", "b", "a/T-b"),
        ("a/b/", "b", "a/T-b"),
        ("/", "", "/T-"),
        ("", "", "T-"),
        ("a", "a", "T-a"),
        ("/a", "a", "/T-a"),
        ("//a//b//", "b", "/a/T-b"),
        ("./a", "a", "T-a"),
        ("../x/y", "y", "../x/T-y"),
        (
            "credentials/ios/profile.mobileprovision",
            "profile.mobileprovision",
            "credentials/ios/T-profile.mobileprovision",
        ),
    ] {
        let (dir, b) = node_split(p);
        assert_eq!(b, base, "{p}");
        assert_eq!(node_normalize(&format!("{dir}/T-{b}")), joined, "{p}");
    }
    assert_eq!(node_normalize("/../a/./b/../c/"), "/a/c/");
    assert_eq!(node_normalize("a/../.."), "..");
}

#[test]
fn debug_hides_passwords() {
    let entry = AndroidKeystore {
        keystore_password: Password::new("store-secret-1"),
        key_password: Some(Password::new("key-secret-2")),
        ..keystore()
    };
    let ios = Ios::Targets(BTreeMap::from([(
        "App".to_owned(),
        target("p.mobileprovision", "c.p12", "p12-secret-3"),
    )]));
    let shown = format!(
        "{:?}",
        CredentialsJson {
            android: Some(entry),
            ios: Some(ios)
        }
    );
    for secret in ["store-secret-1", "key-secret-2", "p12-secret-3"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    // The rest is shown, so the check above is not passing on an empty string.
    for shown_part in ["keystores/upload.jks", "upload", "App", "c.p12"] {
        assert!(shown.contains(shown_part), "{shown}");
    }
}
