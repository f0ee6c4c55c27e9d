//! Tests of the binary AndroidManifest.xml parser: hand-built documents for each rule,
//! and APKs aapt builds against Debian's framework resources.

use super::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const FRAMEWORK_RES: &str = "/usr/share/android-framework-res/framework-res.apk";

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "signet-axml-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The text of a manifest whose `<manifest>` element holds `body`.
fn manifest_text(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <manifest xmlns:android=\"http://schemas.android.com/apk/res/android\"\n    \
         package=\"com.example.axml\">\n{body}\n</manifest>\n"
    )
}

/// Compiles a manifest whose `<manifest>` element holds `body` with aapt, and returns
/// the binary AndroidManifest.xml from the APK it builds.
fn aapt_manifest(body: &str) -> Vec<u8> {
    let dir = TempDir::new();
    let manifest = dir.0.join("AndroidManifest.xml");
    let apk = dir.0.join("out.apk");
    std::fs::write(&manifest, manifest_text(body)).unwrap();
    run(Command::new("aapt")
        .arg("package")
        .arg("-f")
        .arg("-M")
        .arg(&manifest)
        .arg("-I")
        .arg(FRAMEWORK_RES)
        .arg("-F")
        .arg(&apk));
    let axml = manifest_entry(&apk);
    assert_eq!(axml.get(..2), Some(&[0x03, 0x00][..]));
    axml
}

/// The same with aapt2 (from the same Debian package), which lays documents out
/// differently.
fn aapt2_manifest(body: &str) -> Vec<u8> {
    let dir = TempDir::new();
    let manifest = dir.0.join("AndroidManifest.xml");
    let apk = dir.0.join("out.apk");
    std::fs::write(&manifest, manifest_text(body)).unwrap();
    run(Command::new("aapt2")
        .arg("link")
        .arg("-o")
        .arg(&apk)
        .arg("--manifest")
        .arg(&manifest)
        .arg("-I")
        .arg(FRAMEWORK_RES));
    manifest_entry(&apk)
}

/// Runs a command and returns its standard output, failing the test if it fails.
fn run(command: &mut Command) -> Vec<u8> {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?} (Debian packages aapt, unzip): {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The AndroidManifest.xml entry of an APK.
fn manifest_entry(apk: &std::path::Path) -> Vec<u8> {
    run(Command::new("unzip")
        .arg("-p")
        .arg(apk)
        .arg("AndroidManifest.xml"))
}

fn uses_sdk(attrs: &str) -> Vec<u8> {
    aapt_manifest(&format!(
        "  <uses-sdk {attrs}/>\n  <application android:label=\"h\u{e9}llo\"/>"
    ))
}

#[test]
fn aapt_decimal_level() {
    let axml = uses_sdk("android:minSdkVersion=\"21\" android:targetSdkVersion=\"30\"");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(21)));
}

#[test]
fn aapt_hex_level() {
    // aapt stores this as TYPE_INT_HEX.
    let axml = uses_sdk("android:minSdkVersion=\"0x18\"");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(24)));
}

#[test]
fn aapt_codename() {
    let axml = uses_sdk("android:minSdkVersion=\"Q\" android:targetSdkVersion=\"30\"");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Codename("Q".to_owned())));
}

#[test]
fn aapt2_level_and_codename() {
    let axml = aapt2_manifest("  <uses-sdk android:minSdkVersion=\"23\"/>");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(23)));
    let axml = aapt2_manifest("  <uses-sdk android:minSdkVersion=\"Q\"/>");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Codename("Q".to_owned())));
}

#[test]
fn framework_res_manifest() {
    // A large real manifest: Android 10's own, with uses-sdk minSdkVersion 29.
    let axml = manifest_entry(std::path::Path::new(FRAMEWORK_RES));
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(29)));
}

#[test]
fn aapt_no_uses_sdk() {
    let axml = aapt_manifest("  <application android:label=\"x\"/>");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Absent));
}

#[test]
fn aapt_uses_sdk_without_min_sdk() {
    let axml = uses_sdk("android:targetSdkVersion=\"30\"");
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Absent));
}

#[test]
fn aapt_nested_uses_sdk_is_ignored() {
    let axml = aapt_manifest(
        "  <application android:label=\"x\">\n    \
         <uses-sdk android:minSdkVersion=\"26\"/>\n  </application>",
    );
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Absent));
}

#[test]
fn aapt_several_uses_sdk_take_the_highest() {
    let axml = aapt_manifest(
        "  <uses-sdk android:minSdkVersion=\"15\"/>\n  \
         <uses-sdk android:minSdkVersion=\"23\"/>\n  \
         <uses-sdk android:minSdkVersion=\"19\"/>",
    );
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(23)));
}

#[test]
fn aapt_every_truncation_fails_cleanly() {
    let axml = uses_sdk("android:minSdkVersion=\"21\"");
    for len in 0..axml.len() {
        let prefix = &axml[..len];
        assert!(min_sdk_version(prefix).is_err(), "prefix of {len} bytes");
        // Also with the document's size patched to fit, so that the chunks inside are
        // the ones cut short.
        if len >= 8 {
            let mut patched = prefix.to_vec();
            patched[4..8].copy_from_slice(&u32::try_from(len).unwrap().to_le_bytes());
            let _ = min_sdk_version(&patched);
        }
    }
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(21)));
}

#[test]
fn aapt_byte_flips_never_panic() {
    let axml = uses_sdk("android:minSdkVersion=\"Q\"");
    let mut changed = 0;
    for i in 0..axml.len() {
        for mask in [0x01, 0x02, 0x10, 0x80, 0xff] {
            let mut damaged = axml.clone();
            damaged[i] ^= mask;
            if min_sdk_version(&damaged) != Ok(MinSdk::Codename("Q".to_owned())) {
                changed += 1;
            }
        }
        for value in [0x00, 0x7f, 0xff] {
            let mut damaged = axml.clone();
            damaged[i] = value;
            let _ = min_sdk_version(&damaged);
        }
    }
    // The damage is noticed somewhere (an error or another answer).
    assert!(changed > 0);
}

// Hand-built documents, for what aapt does not produce: UTF-8 pools, long string
// lengths, missing resource maps, odd values and damage.

const NS: u32 = 2;
const S_MIN_SDK: u32 = 0;
const S_ANDROID: u32 = 1;
const S_MANIFEST: u32 = 3;
const S_USES_SDK: u32 = 4;
const S_EXTRA: u32 = 5;
const BASE_STRINGS: [&str; 5] = [
    "minSdkVersion",
    "android",
    ANDROID_NS,
    "manifest",
    "uses-sdk",
];

fn chunk(kind: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
    let header_size = u16::try_from(8 + header.len()).unwrap();
    let size = u32::try_from(8 + header.len() + body.len()).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&header_size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(body);
    out
}

fn words(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn string_pool(strings: &[&str], utf8: bool) -> Vec<u8> {
    let mut offsets = Vec::new();
    let mut data = Vec::new();
    for s in strings {
        offsets.push(u32::try_from(data.len()).unwrap());
        let units: Vec<u16> = s.encode_utf16().collect();
        if utf8 {
            for len in [units.len(), s.len()] {
                if len > 0x7f {
                    data.push(0x80 | u8::try_from(len >> 8).unwrap());
                }
                data.push(u8::try_from(len & 0xff).unwrap());
            }
            data.extend_from_slice(s.as_bytes());
            data.push(0);
        } else {
            if units.len() > 0x7fff {
                let high = 0x8000 | u16::try_from(units.len() >> 16).unwrap();
                data.extend_from_slice(&high.to_le_bytes());
            }
            let low = u16::try_from(units.len() & 0xffff).unwrap();
            data.extend_from_slice(&low.to_le_bytes());
            data.extend(units.iter().flat_map(|u| u.to_le_bytes()));
            data.extend_from_slice(&[0, 0]);
        }
    }
    while data.len() % 4 != 0 {
        data.push(0);
    }
    let count = u32::try_from(strings.len()).unwrap();
    let header = words(&[
        count,
        0,
        if utf8 { UTF8_FLAG } else { 0 },
        28 + 4 * count,
        0,
    ]);
    let mut body = words(&offsets);
    body.extend_from_slice(&data);
    chunk(RES_STRING_POOL_TYPE, &header, &body)
}

/// A node chunk: line number and (no) comment, then `ext`.
fn node(kind: u16, ext: &[u8]) -> Vec<u8> {
    chunk(kind, &words(&[1, NO_INDEX]), ext)
}

fn start_element(namespace: u32, name: u32, attrs: &[(u32, u32, u8, u32)]) -> Vec<u8> {
    let mut ext = words(&[namespace, name]);
    let count = u16::try_from(attrs.len()).unwrap();
    for field in [20, 20, count, 0, 0, 0] {
        ext.extend_from_slice(&u16::to_le_bytes(field));
    }
    for &(ns, attr_name, data_type, data) in attrs {
        let raw = if data_type == TYPE_STRING {
            data
        } else {
            NO_INDEX
        };
        ext.extend_from_slice(&words(&[ns, attr_name, raw]));
        ext.extend_from_slice(&[8, 0, 0, data_type]);
        ext.extend_from_slice(&data.to_le_bytes());
    }
    node(RES_XML_START_ELEMENT_TYPE, &ext)
}

fn end_element(namespace: u32, name: u32) -> Vec<u8> {
    node(RES_XML_END_ELEMENT_TYPE, &words(&[namespace, name]))
}

fn document(chunks: &[Vec<u8>]) -> Vec<u8> {
    chunk(RES_XML_TYPE, &[], &chunks.concat())
}

/// A manifest whose `uses-sdk` has the given attributes; `extra` strings follow the
/// base ones from index [`S_EXTRA`].
fn hand_built(
    utf8: bool,
    resource_map: Option<&[u32]>,
    extra: &[&str],
    attrs: &[(u32, u32, u8, u32)],
) -> Vec<u8> {
    let strings: Vec<&str> = BASE_STRINGS.iter().chain(extra).copied().collect();
    let mut chunks = vec![string_pool(&strings, utf8)];
    if let Some(ids) = resource_map {
        chunks.push(chunk(RES_XML_RESOURCE_MAP_TYPE, &[], &words(ids)));
    }
    chunks.extend([
        node(RES_XML_START_NAMESPACE_TYPE, &words(&[S_ANDROID, NS])),
        start_element(NO_INDEX, S_MANIFEST, &[]),
        node(
            RES_XML_CDATA_TYPE,
            &words(&[S_ANDROID, 0x0300_0008, S_ANDROID]),
        ),
        // An unknown chunk type, skipped by its size.
        chunk(0x0777, &[1, 2, 3, 4], &[5; 12]),
        start_element(NO_INDEX, S_USES_SDK, attrs),
        end_element(NO_INDEX, S_USES_SDK),
        end_element(NO_INDEX, S_MANIFEST),
        node(RES_XML_END_NAMESPACE_TYPE, &words(&[S_ANDROID, NS])),
    ]);
    document(&chunks)
}

const MAP: Option<&[u32]> = Some(&[MIN_SDK_VERSION_ATTR_ID]);

#[test]
fn hand_built_int_in_both_encodings() {
    for utf8 in [false, true] {
        let axml = hand_built(utf8, MAP, &[], &[(NS, S_MIN_SDK, TYPE_INT_DEC, 26)]);
        assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(26)), "utf8 {utf8}");
    }
}

#[test]
fn hand_built_strings() {
    for utf8 in [false, true] {
        for (value, expected) in [
            ("21", MinSdk::Level(21)),
            ("Tiramisu", MinSdk::Codename("Tiramisu".to_owned())),
            ("\u{c9}clair", MinSdk::Absent),
        ] {
            let attrs = [(NS, S_MIN_SDK, TYPE_STRING, S_EXTRA)];
            let result = min_sdk_version(&hand_built(utf8, MAP, &[value], &attrs));
            if expected == MinSdk::Absent {
                assert!(
                    matches!(result, Err(ManifestError::Malformed { .. })),
                    "{value}"
                );
            } else {
                assert_eq!(result, Ok(expected), "{value} utf8 {utf8}");
            }
        }
    }
}

#[test]
fn long_string_lengths() {
    // Over 0x7f needs the two-byte UTF-8 lengths (up to 0x7fff); over 0x7fff units the
    // two-unit UTF-16 one. The strings after the long ones check that they were skipped
    // correctly.
    let long = format!("\u{e9}{}", "x".repeat(40_000));
    for (utf8, longest) in [(false, 40_000), (true, 30_000)] {
        let strings = ["a", &long[..300], "b", &long[..longest], "c"];
        let chunk_bytes = string_pool(&strings, utf8);
        let mut input = &chunk_bytes[..];
        let pool = StringPool::parse(&next_chunk(&mut input).unwrap()).unwrap();
        assert!(input.is_empty());
        for (i, expected) in (0..).zip(strings) {
            let got = pool.get(i).unwrap();
            assert_eq!(got.to_string_lossy(), expected, "utf8 {utf8} string {i}");
            assert!(got.eq_str(expected));
        }
        assert!(pool.get(5).is_err());
    }
    // As a value: a 200-byte codename is read, a 2,000-byte one is refused.
    for utf8 in [false, true] {
        let attrs = [(NS, S_MIN_SDK, TYPE_STRING, S_EXTRA + 1)];
        let codename = format!("Q{}", "x".repeat(199));
        let axml = hand_built(utf8, MAP, &[&long[..300], &codename], &attrs);
        assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Codename(codename)));
        let codename = format!("Q{}", "x".repeat(1999));
        let axml = hand_built(utf8, MAP, &[&long[..300], &codename], &attrs);
        assert!(min_sdk_version(&axml).is_err());
    }
}

#[test]
fn hand_built_name_fallback_without_resource_id() {
    let attrs = [(NS, S_MIN_SDK, TYPE_INT_DEC, 19)];
    for map in [None, Some(&[][..]), Some(&[0][..])] {
        let axml = hand_built(false, map, &[], &attrs);
        assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(19)), "{map:?}");
    }
    // The name only counts in the android namespace.
    let attrs = [(NO_INDEX, S_MIN_SDK, TYPE_INT_DEC, 19)];
    let axml = hand_built(false, None, &[], &attrs);
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Absent));
    // An attribute with another resource id does not count, whatever its name.
    let axml = hand_built(false, Some(&[0x0101_0270]), &[], &attrs);
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Absent));
}

#[test]
fn hand_built_resource_id_wins_over_name() {
    // Attribute 1 is named minSdkVersion without an id; attribute 2 has the id.
    let attrs = [
        (NS, S_MIN_SDK, TYPE_INT_DEC, 14),
        (NS, S_EXTRA, TYPE_INT_DEC, 28),
    ];
    let map = [0, 0, 0, 0, 0, MIN_SDK_VERSION_ATTR_ID];
    let axml = hand_built(true, Some(&map), &["renamed"], &attrs);
    assert_eq!(min_sdk_version(&axml), Ok(MinSdk::Level(28)));
}

#[test]
fn hand_built_odd_values() {
    let level = |data_type, data| {
        min_sdk_version(&hand_built(
            false,
            MAP,
            &[],
            &[(NS, S_MIN_SDK, data_type, data)],
        ))
    };
    assert_eq!(level(TYPE_INT_HEX, 0x1c), Ok(MinSdk::Level(28)));
    assert_eq!(level(TYPE_INT_DEC, 0), Ok(MinSdk::Level(1)));
    assert_eq!(level(TYPE_INT_DEC, NO_INDEX), Ok(MinSdk::Level(1)));
    // A boolean (0x12) or a reference (0x01) is not a level.
    assert!(matches!(
        level(0x12, 1),
        Err(ManifestError::Malformed {
            what: "minSdkVersion",
            ..
        })
    ));
    assert!(level(0x01, 0x7f01_0000).is_err());
    // A string index past the pool.
    assert!(level(TYPE_STRING, 99).is_err());
}

#[test]
fn hand_built_errors() {
    let good = hand_built(false, MAP, &[], &[(NS, S_MIN_SDK, TYPE_INT_DEC, 21)]);
    assert_eq!(min_sdk_version(&good), Ok(MinSdk::Level(21)));

    assert_eq!(
        min_sdk_version(b"<?xml version=\"1.0\"?><manifest/>"),
        Err(ManifestError::NotBinaryXml)
    );
    assert_eq!(
        min_sdk_version(&[0x0a, 0x0f]),
        Err(ManifestError::NotBinaryXml)
    );
    assert_eq!(
        min_sdk_version(&[]),
        Err(ManifestError::Truncated {
            what: "chunk header"
        })
    );

    // The document's size reaches past the data.
    let mut bad = good.clone();
    bad[4..8].copy_from_slice(&u32::try_from(good.len() + 1).unwrap().to_le_bytes());
    assert_eq!(
        min_sdk_version(&bad),
        Err(ManifestError::Truncated {
            what: "xml document"
        })
    );
    // Trailing bytes after the document are ignored.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0xee; 5]);
    assert_eq!(min_sdk_version(&padded), Ok(MinSdk::Level(21)));
}

#[test]
fn hand_built_bad_chunks() {
    let good = hand_built(false, MAP, &[], &[(NS, S_MIN_SDK, TYPE_INT_DEC, 21)]);
    // The string pool (first inner chunk, at 8) has a header size under 8, then a size
    // under its header size, then a size past the document.
    let mut bad = good.clone();
    bad[10..12].copy_from_slice(&4u16.to_le_bytes());
    assert!(matches!(
        min_sdk_version(&bad),
        Err(ManifestError::Malformed {
            what: "chunk header",
            ..
        })
    ));
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&20u32.to_le_bytes());
    assert!(matches!(
        min_sdk_version(&bad),
        Err(ManifestError::Malformed {
            what: "chunk header",
            ..
        })
    ));
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        min_sdk_version(&bad),
        Err(ManifestError::Truncated {
            what: "string pool"
        })
    );
    // A string pool header too short for its fields.
    let mut bad = good.clone();
    bad[10..12].copy_from_slice(&24u16.to_le_bytes());
    assert!(matches!(
        min_sdk_version(&bad),
        Err(ManifestError::Malformed {
            what: "string pool",
            ..
        })
    ));
    // A string count larger than the pool.
    let mut bad = good.clone();
    bad[16..20].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    assert_eq!(
        min_sdk_version(&bad),
        Err(ManifestError::Truncated {
            what: "string pool"
        })
    );

    // A string without its NUL: "manifest", read as the root element's name.
    let utf16: Vec<u8> = "manifest"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let terminator = good.windows(16).position(|w| w == utf16).unwrap() + 16;
    let mut bad = good.clone();
    bad[terminator] = b'!';
    assert!(matches!(
        min_sdk_version(&bad),
        Err(ManifestError::Malformed {
            what: "string pool",
            ..
        })
    ));
}

#[test]
fn hand_built_bad_elements() {
    let good = hand_built(false, MAP, &[], &[(NS, S_MIN_SDK, TYPE_INT_DEC, 21)]);
    // An element before the string pool.
    let early = document(&[
        start_element(NO_INDEX, S_MANIFEST, &[]),
        string_pool(&BASE_STRINGS, false),
    ]);
    assert!(matches!(
        min_sdk_version(&early),
        Err(ManifestError::Malformed {
            what: "start element",
            ..
        })
    ));
    // Two string pools.
    let twice = document(&[
        string_pool(&BASE_STRINGS, false),
        string_pool(&BASE_STRINGS, true),
    ]);
    assert!(min_sdk_version(&twice).is_err());
    // A start element too short for its fields, and attributes past its end.
    let short = document(&[
        string_pool(&BASE_STRINGS, false),
        node(RES_XML_START_ELEMENT_TYPE, &words(&[NO_INDEX, S_MANIFEST])),
    ]);
    assert_eq!(
        min_sdk_version(&short),
        Err(ManifestError::Truncated {
            what: "start element"
        })
    );
    let mut ext = words(&[NO_INDEX, S_MANIFEST]);
    for field in [20u16, 20, 3, 0, 0, 0] {
        ext.extend_from_slice(&field.to_le_bytes());
    }
    let past = document(&[
        string_pool(&BASE_STRINGS, false),
        node(RES_XML_START_ELEMENT_TYPE, &ext),
    ]);
    assert_eq!(
        min_sdk_version(&past),
        Err(ManifestError::Truncated {
            what: "attribute list"
        })
    );
    // A partial chunk header at the end of the document.
    let mut tail = good[8..].to_vec();
    tail.extend_from_slice(&[0; 4]);
    assert_eq!(
        min_sdk_version(&chunk(RES_XML_TYPE, &[], &tail)),
        Err(ManifestError::Truncated {
            what: "chunk header"
        })
    );
}

#[test]
fn hand_built_uses_sdk_placement() {
    let strings = string_pool(&BASE_STRINGS, true);
    let min = |level| {
        start_element(
            NO_INDEX,
            S_USES_SDK,
            &[(NS, S_MIN_SDK, TYPE_INT_DEC, level)],
        )
    };
    // As the root itself (depth 1), or in a namespace: not counted.
    let root = document(&[strings.clone(), min(30), end_element(NO_INDEX, S_USES_SDK)]);
    assert_eq!(min_sdk_version(&root), Ok(MinSdk::Absent));
    let namespaced = document(&[
        strings.clone(),
        chunk(
            RES_XML_RESOURCE_MAP_TYPE,
            &[],
            &words(&[MIN_SDK_VERSION_ATTR_ID]),
        ),
        start_element(NO_INDEX, S_MANIFEST, &[]),
        start_element(NS, S_USES_SDK, &[(NS, S_MIN_SDK, TYPE_INT_DEC, 30)]),
    ]);
    assert_eq!(min_sdk_version(&namespaced), Ok(MinSdk::Absent));
    // A codename wins over levels in another uses-sdk.
    let mixed = hand_built(true, MAP, &["R"], &[(NS, S_MIN_SDK, TYPE_STRING, S_EXTRA)]);
    let mut chunks = vec![
        string_pool(&[&BASE_STRINGS[..], &["R"]].concat(), false),
        chunk(
            RES_XML_RESOURCE_MAP_TYPE,
            &[],
            &words(&[MIN_SDK_VERSION_ATTR_ID]),
        ),
        start_element(NO_INDEX, S_MANIFEST, &[]),
        min(33),
        end_element(NO_INDEX, S_USES_SDK),
        start_element(
            NO_INDEX,
            S_USES_SDK,
            &[(NS, S_MIN_SDK, TYPE_STRING, S_EXTRA)],
        ),
        end_element(NO_INDEX, S_USES_SDK),
    ];
    assert_eq!(
        min_sdk_version(&mixed),
        Ok(MinSdk::Codename("R".to_owned()))
    );
    assert_eq!(
        min_sdk_version(&document(&chunks)),
        Ok(MinSdk::Codename("R".to_owned()))
    );
    chunks.push(min(34));
    assert_eq!(
        min_sdk_version(&document(&chunks)),
        Ok(MinSdk::Codename("R".to_owned()))
    );
}

#[test]
fn hand_built_damage_never_panics() {
    let axml = hand_built(
        true,
        MAP,
        &["Tiramisu"],
        &[(NS, S_MIN_SDK, TYPE_STRING, S_EXTRA)],
    );
    for i in 0..axml.len() {
        for mask in [0x01, 0x04, 0x40, 0x80, 0xff] {
            let mut damaged = axml.clone();
            damaged[i] ^= mask;
            let _ = min_sdk_version(&damaged);
        }
    }
    for len in 0..axml.len() {
        assert!(min_sdk_version(&axml[..len]).is_err());
    }
}

#[test]
fn display_messages() {
    assert_eq!(
        ManifestError::Truncated {
            what: "string pool"
        }
        .to_string(),
        "binary AndroidManifest.xml is truncated: string pool ends early"
    );
    assert_eq!(
        malformed("minSdkVersion", "unsupported value type 0x12").to_string(),
        "binary AndroidManifest.xml is malformed: minSdkVersion: unsupported value type 0x12"
    );
    assert!(
        ManifestError::NotBinaryXml
            .to_string()
            .starts_with("not a binary")
    );
}
