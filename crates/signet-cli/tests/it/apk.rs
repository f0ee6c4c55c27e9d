//! APK and AAB signing against Debian's apksigner, zipalign, aapt and jarsigner.

use std::path::Path;

use signet_sign::apk::{ArchiveKind, Finding, Scheme};

use crate::util::Dir;

const FRAMEWORK_RES: &str = "/usr/share/android-framework-res/framework-res.apk";

/// Builds an unsigned APK with aapt: a binary manifest for `min_sdk`, a deflated and a
/// stored resource, a stored classes.dex and a stored native library.
pub(crate) fn build_apk(dir: &Dir, name: &str, min_sdk: u32) {
    build_apk_for(dir, name, min_sdk, 33);
}

/// As [`build_apk`], with a chosen target SDK (Android requires v2+ from target 30 on).
fn build_apk_for(dir: &Dir, name: &str, min_sdk: u32, target_sdk: u32) {
    let src = dir.path(&format!("src-{name}"));
    std::fs::create_dir_all(src.join("lib/arm64-v8a")).unwrap();
    std::fs::write(
        src.join("AndroidManifest.xml"),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="com.example.signet">
  <uses-sdk android:minSdkVersion="{min_sdk}" android:targetSdkVersion="{target_sdk}"/>
  <application android:label="signet test"/>
</manifest>"#
        ),
    )
    .unwrap();
    let dex: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(src.join("classes.dex"), &dex).unwrap();
    let lib: Vec<u8> = (0..70_000u32).map(|i| (i * 13 % 253) as u8).collect();
    std::fs::write(src.join("lib/arm64-v8a/libnative.so"), &lib).unwrap();
    std::fs::write(src.join("notes.txt"), "compressible text ".repeat(500)).unwrap();
    let src_s = src.display().to_string();
    dir.tool(
        "aapt",
        &[
            "package",
            "-f",
            "-M",
            &format!("{src_s}/AndroidManifest.xml"),
            "-I",
            FRAMEWORK_RES,
            "-F",
            name,
        ],
    )
    .ok();
    let apk = dir.path(name).display().to_string();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("zip")
            .args(args)
            .current_dir(&src)
            .output()
            .expect("zip");
        assert!(
            out.status.success(),
            "zip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "-q",
        "-0",
        &apk,
        "classes.dex",
        "lib/arm64-v8a/libnative.so",
    ]);
    run(&["-q", "-9", &apk, "notes.txt"]);
}

pub(crate) fn keystores(dir: &Dir) {
    for (file, alg, ty) in [
        ("rsa.p12", "rsa", "pkcs12"),
        ("ec.p12", "ec", "pkcs12"),
        ("rsa.jks", "rsa", "jks"),
        ("ec.jks", "ec", "jks"),
    ] {
        dir.signet(&[
            "keystore",
            "generate",
            "--out",
            file,
            "--type",
            ty,
            "--key-alg",
            alg,
            "--alias",
            "upload",
            "--store-pass",
            "pass:android",
            "--dname",
            "CN=signet test, O=signet, C=US",
        ])
        .ok();
    }
}

/// The `Verified using …` lines of `apksigner verify -v`.
fn scheme_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("Verified using"))
        .map(str::to_owned)
        .collect()
}

fn apksigner_verify(dir: &Dir, apk: &str, min_sdk: u32) -> String {
    dir.tool(
        "apksigner",
        &[
            "verify",
            "-v",
            "--print-certs",
            "--min-sdk-version",
            &min_sdk.to_string(),
            apk,
        ],
    )
    .ok()
}

#[test]
fn signet_signed_apks_verify_with_apksigner_like_its_own() {
    let dir = Dir::new();
    keystores(&dir);
    for min_sdk in [14u32, 21, 24, 28, 33] {
        let unsigned = format!("app{min_sdk}.apk");
        build_apk(&dir, &unsigned, min_sdk);
        for ks in ["rsa.p12", "ec.p12", "rsa.jks", "ec.jks"] {
            let ours = format!("ours-{min_sdk}-{ks}.apk");
            let theirs = format!("theirs-{min_sdk}-{ks}.apk");
            let signet = dir.signet(&[
                "apk",
                "sign",
                &unsigned,
                "--out",
                &ours,
                "--ks",
                ks,
                "--ks-pass",
                "pass:android",
            ]);
            let apksigner = dir.tool(
                "apksigner",
                &[
                    "sign",
                    "--ks",
                    ks,
                    "--ks-pass",
                    "pass:android",
                    "--v4-signing-enabled",
                    "false",
                    "--out",
                    &theirs,
                    &unsigned,
                ],
            );
            if ks.starts_with("ec") && min_sdk < 18 {
                // Neither signs: Android below API 18 cannot verify ECDSA JAR signatures.
                let err = signet.fails_with(1);
                assert!(err.contains("only supported for min SDK 18"), "{err}");
                assert_ne!(apksigner.code(), 0);
                assert!(!dir.exists(&ours));
                continue;
            }
            signet.ok();
            apksigner.ok();
            let ours_v = apksigner_verify(&dir, &ours, min_sdk);
            let theirs_v = apksigner_verify(&dir, &theirs, min_sdk);
            assert!(ours_v.starts_with("Verifies"), "{ours}: {ours_v}");
            assert_eq!(scheme_lines(&ours_v), scheme_lines(&theirs_v), "{ours}");
            let digest = |s: &str| {
                s.lines()
                    .find(|l| l.contains("certificate SHA-256 digest"))
                    .map(str::to_owned)
            };
            assert_eq!(digest(&ours_v), digest(&theirs_v), "{ours}");
            assert!(digest(&ours_v).is_some());
            // zipalign agrees with the alignment.
            dir.tool("zipalign", &["-c", "-p", "4", &ours]).ok();
        }
    }
}

#[test]
fn apksigner_signed_apks_pass_signet_verify_with_the_same_report() {
    let dir = Dir::new();
    keystores(&dir);
    for (min_sdk, ks) in [(21u32, "rsa.p12"), (24, "ec.jks"), (14, "rsa.jks")] {
        build_apk(&dir, "u.apk", min_sdk);
        dir.tool(
            "apksigner",
            &[
                "sign",
                "--ks",
                ks,
                "--ks-pass",
                "pass:android",
                "--out",
                "s.apk",
                "u.apk",
            ],
        )
        .ok();
        let theirs = apksigner_verify(&dir, "s.apk", min_sdk);
        let ours = dir
            .signet(&["apk", "verify", "-v", "--print-certs", "s.apk"])
            .ok();
        assert!(ours.starts_with("Verifies"), "{ours}");
        let v4less = |s: &str| {
            scheme_lines(s)
                .into_iter()
                .filter(|l| !l.contains("v4"))
                .collect::<Vec<_>>()
        };
        assert_eq!(v4less(&ours), v4less(&theirs), "{ks} {min_sdk}");
        for key in [
            "certificate DN",
            "certificate SHA-256 digest",
            "certificate SHA-1 digest",
            "certificate MD5 digest",
            "key algorithm",
            "key size",
        ] {
            let line = |s: &str| s.lines().find(|l| l.contains(key)).map(str::to_owned);
            assert!(line(&ours).is_some(), "{key}: {ours}");
            assert_eq!(line(&ours), line(&theirs), "{key}");
        }
        std::fs::remove_file(dir.path("s.apk")).unwrap();
        std::fs::remove_file(dir.path("u.apk")).unwrap();
    }
}

/// Both verifiers refuse `apk`.
/// apksigner and signet both refuse `apk`, and signet for `reason` (a line of its report,
/// or its one-line error), so the test cannot pass because of another failure.
fn both_refuse(dir: &Dir, apk: &str, what: &str, reason: &str) {
    let theirs = dir.tool("apksigner", &["verify", "-v", apk]);
    assert_ne!(
        theirs.code(),
        0,
        "apksigner accepted {what}: {}",
        theirs.stdout()
    );
    let ours = dir.signet(&["apk", "verify", "-v", apk]);
    assert_ne!(ours.code(), 0, "signet accepted {what}: {}", ours.stdout());
    assert!(
        ours.code() == 3 || ours.code() == 1,
        "{what}: exit {}",
        ours.code()
    );
    if ours.code() == 3 {
        assert!(
            ours.stdout().starts_with("DOES NOT VERIFY"),
            "{what}: {}",
            ours.stdout()
        );
        assert!(
            ours.stdout().contains("ERROR: "),
            "{what}: {}",
            ours.stdout()
        );
    }
    let said = format!("{}{}", ours.stdout(), ours.stderr());
    assert!(
        said.contains(reason),
        "{what}: signet refused, but not for `{reason}`:\n{said}"
    );
}

/// The findings of signet's verifier (the library under `apk verify`) for `apk`.
fn findings(dir: &Dir, apk: &str) -> Vec<Finding> {
    let report =
        signet_sign::apk::verify(&dir.path(apk), ArchiveKind::Apk, None).expect("a readable APK");
    assert!(!report.verified, "{apk} verified");
    report.errors
}

struct Layout {
    block_start: usize,
    cd_offset: usize,
    eocd: usize,
}

fn layout(bytes: &[u8]) -> Layout {
    let eocd = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("eocd");
    let cd_offset = u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    assert_eq!(&bytes[cd_offset - 16..cd_offset], b"APK Sig Block 42");
    let size =
        u64::from_le_bytes(bytes[cd_offset - 24..cd_offset - 16].try_into().unwrap()) as usize;
    Layout {
        block_start: cd_offset - size - 8,
        cd_offset,
        eocd,
    }
}

/// The id/value pairs of an APK's signing block, read by the test from the file layout
/// (end record, central directory offset, block sizes), not by signet.
fn block_pairs(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let l = layout(bytes);
    let mut pairs = Vec::new();
    let mut p = l.block_start + 8;
    while p < l.cd_offset - 24 {
        let len = u64::from_le_bytes(bytes[p..p + 8].try_into().unwrap()) as usize;
        let id = u32::from_le_bytes(bytes[p + 8..p + 12].try_into().unwrap());
        pairs.push((id, bytes[p + 12..p + 8 + len].to_vec()));
        p += 8 + len;
    }
    assert_eq!(p, l.cd_offset - 24, "pairs end where the footer starts");
    pairs
}

/// Rewrites the signing block (with signet's block builder) keeping only the pairs `keep`
/// accepts (none: no block).
fn rewrite_block(bytes: &[u8], keep: impl Fn(u32) -> bool) -> Vec<u8> {
    let l = layout(bytes);
    let pairs: Vec<(u32, Vec<u8>)> = block_pairs(bytes)
        .into_iter()
        .filter(|(id, _)| keep(*id))
        .collect();
    let block = if pairs.is_empty() {
        Vec::new()
    } else {
        signet_sign::apk::signing_block::build(&pairs)
    };
    let mut out = bytes[..l.block_start].to_vec();
    out.extend_from_slice(&block);
    let new_cd = out.len() as u32;
    out.extend_from_slice(&bytes[l.cd_offset..]);
    let eocd = l.eocd - l.cd_offset + new_cd as usize;
    out[eocd + 16..eocd + 20].copy_from_slice(&new_cd.to_le_bytes());
    out
}

const V2_ID: u32 = 0x7109_871a;
const V3_ID: u32 = 0xf053_68c0;

/// The unit test of `signing_block::build`/`find` has signet read what signet wrote; here
/// apksigner is the other side. signet finds the block apksigner wrote (where the file's
/// layout puts it, with the pairs the test reads itself), signet's builder lays those
/// pairs out into a block apksigner verifies, and the block signet builds when signing
/// holds v2 and v3 that apksigner verifies.
#[test]
fn signing_blocks_agree_with_apksigner() {
    use signet_sign::apk::signing_block;

    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 21);
    dir.tool(
        "apksigner",
        &[
            "sign",
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--v4-signing-enabled",
            "false",
            "--out",
            "theirs.apk",
            "u.apk",
        ],
    )
    .ok();
    let theirs = dir.read("theirs.apk");
    let expected = block_pairs(&theirs);
    let ids: Vec<u32> = expected.iter().map(|(id, _)| *id).collect();
    assert!(
        ids.contains(&V2_ID) && ids.contains(&V3_ID),
        "apksigner wrote v2 and v3: {ids:x?}"
    );

    // signet finds apksigner's block.
    let mut file = std::io::Cursor::new(&theirs);
    let eocd = signet_sign::zip::read_eocd(&mut file, theirs.len() as u64).unwrap();
    let (start, pairs) = signing_block::find(&mut file, &eocd)
        .unwrap()
        .expect("signet finds apksigner's block");
    assert_eq!(start, layout(&theirs).block_start as u64);
    assert_eq!(pairs, expected);

    // signet's builder, given apksigner's pairs, writes apksigner's block byte for byte,
    // and apksigner verifies the APK around it.
    let rebuilt = rewrite_block(&theirs, |_| true);
    assert_eq!(rebuilt, theirs, "signet's block differs from apksigner's");
    dir.write("rebuilt.apk", &rebuilt);
    let v = apksigner_verify(&dir, "rebuilt.apk", 21);
    assert!(v.starts_with("Verifies"), "{v}");

    // The block signet builds when it signs: apksigner verifies each scheme in it.
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "ours.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    let ours = dir.read("ours.apk");
    let ids: Vec<u32> = block_pairs(&ours).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [V2_ID, V3_ID]);
    let v = apksigner_verify(&dir, "ours.apk", 21);
    assert!(v.starts_with("Verifies"), "{v}");
    assert_eq!(
        scheme_lines(&v),
        scheme_lines(&apksigner_verify(&dir, "theirs.apk", 21)),
    );
    for scheme in [
        "v1 scheme (JAR signing)",
        "v2 scheme (APK Signature Scheme v2)",
        "v3 scheme (APK Signature Scheme v3)",
    ] {
        let line = format!("Verified using {scheme}: true");
        assert!(scheme_lines(&v).contains(&line), "{line}: {v}");
    }
}

#[test]
fn tampered_apks_fail_both_verifiers() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 21);
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "s.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    let good = dir.read("s.apk");
    let l = layout(&good);

    // One byte inside an entry's data (classes.dex is stored: find its contents).
    let dex_at = good
        .windows(8)
        .position(|w| w == [0u8, 7, 14, 21, 28, 35, 42, 49])
        .expect("dex data");
    let mut b = good.clone();
    b[dex_at + 100] ^= 1;
    dir.write("t-entry.apk", &b);
    both_refuse(
        &dir,
        "t-entry.apk",
        "a changed entry byte",
        "ERROR: APK Signature Scheme v2 signer #1: APK content digest does not match",
    );
    assert!(
        matches!(
            findings(&dir, "t-entry.apk")[..],
            [
                Finding::ContentDigestMismatch {
                    scheme: Scheme::V2,
                    signer: 1
                },
                Finding::ContentDigestMismatch {
                    scheme: Scheme::V3,
                    signer: 1
                },
                ..
            ]
        ),
        "{:?}",
        findings(&dir, "t-entry.apk")
    );

    // One byte in the central directory (an entry's modification time).
    let mut b = good.clone();
    b[l.cd_offset + 12] ^= 1;
    dir.write("t-cd.apk", &b);
    both_refuse(
        &dir,
        "t-cd.apk",
        "a changed central directory byte",
        "ERROR: APK Signature Scheme v2 signer #1: APK content digest does not match",
    );
    assert!(
        matches!(
            findings(&dir, "t-cd.apk")[0],
            Finding::ContentDigestMismatch {
                scheme: Scheme::V2,
                signer: 1
            }
        ),
        "{:?}",
        findings(&dir, "t-cd.apk")
    );

    // One byte in the signing block (inside the v2 signer's signed data).
    let mut b = good.clone();
    b[l.block_start + 100] ^= 1;
    dir.write("t-block.apk", &b);
    both_refuse(
        &dir,
        "t-block.apk",
        "a changed signing block byte",
        "ERROR: APK Signature Scheme v2 signer #1: signature (0x0103) does not verify",
    );
    assert!(
        matches!(
            findings(&dir, "t-block.apk")[0],
            Finding::SignatureDoesNotVerify {
                scheme: Scheme::V2,
                signer: 1,
                algorithm: 0x0103
            }
        ),
        "{:?}",
        findings(&dir, "t-block.apk")
    );

    // An entry added after signing.
    dir.write("t-added.apk", &good);
    dir.write("extra.txt", "added later");
    let out = std::process::Command::new("zip")
        .args(["-q", "t-added.apk", "extra.txt"])
        .current_dir(dir.root())
        .output()
        .unwrap();
    assert!(out.status.success());
    both_refuse(
        &dir,
        "t-added.apk",
        "an entry added after signing",
        "ERROR: JAR signature: `extra.txt` is not signed by META-INF/UPLOAD.SF",
    );
    assert!(
        findings(&dir, "t-added.apk").iter().any(|f| matches!(
            f,
            Finding::V1EntryNotSigned { entry, signature_file }
                if entry == "extra.txt" && signature_file == "META-INF/UPLOAD.SF"
        )),
        "{:?}",
        findings(&dir, "t-added.apk")
    );

    // The v3 block stripped from a v2 + v3 APK: v2's stripping protection catches it.
    dir.write("t-nov3.apk", rewrite_block(&good, |id| id != V3_ID));
    both_refuse(
        &dir,
        "t-nov3.apk",
        "a stripped v3 block",
        "ERROR: APK Signature Scheme v2 says a v3 signature is present, but it is not (stripped?)",
    );
    assert_eq!(
        findings(&dir, "t-nov3.apk"),
        [
            Finding::V3Stripped,
            Finding::StrippedPerJar { scheme: Scheme::V3 }
        ]
    );

    // The whole signing block stripped while the JAR signature says v2 and v3 exist.
    dir.write("t-nov2.apk", rewrite_block(&good, |_| false));
    both_refuse(
        &dir,
        "t-nov2.apk",
        "a stripped v2 block",
        "ERROR: JAR signature says an APK Signature Scheme v2 signature is present, but it is not (stripped?)",
    );
    assert_eq!(
        findings(&dir, "t-nov2.apk"),
        [
            Finding::StrippedPerJar { scheme: Scheme::V2 },
            Finding::StrippedPerJar { scheme: Scheme::V3 }
        ]
    );

    // The untouched file still verifies with both.
    dir.write("t-good.apk", &good);
    assert!(apksigner_verify(&dir, "t-good.apk", 21).starts_with("Verifies"));
    dir.signet(&["apk", "verify", "t-good.apk"]).ok();
}

/// Rewrites an APK with a 5-byte local extra field on each stored entry, so that their data
/// sits on no 4-byte boundary (nor a 16 KiB page).
const MISALIGN_PY: &str = r#"
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for info in zin.infolist():
        data = zin.read(info)
        out = zipfile.ZipInfo(info.filename, info.date_time)
        out.compress_type = info.compress_type
        out.external_attr = info.external_attr
        if info.compress_type == zipfile.ZIP_STORED:
            # One extra-field record (id 0xcafe, one byte): five bytes, so the data
            # moves off every 4-byte boundary.
            out.extra = b"\xfe\xca\x01\x00\x00"
        zout.writestr(out, data)
"#;

/// Prints, for every stored entry, `name data_offset`: the offset of its data read from
/// its local header by Python's zipfile and struct, not by signet.
const OFFSETS_PY: &str = r#"
import struct, sys, zipfile
path = sys.argv[1]
with open(path, "rb") as f, zipfile.ZipFile(path) as z:
    for info in z.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            continue
        f.seek(info.header_offset)
        header = f.read(30)
        assert header[:4] == b"PK\x03\x04", info.filename
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        print(info.filename, info.header_offset + 30 + name_len + extra_len)
"#;

fn stored_offsets(dir: &Dir, apk: &str) -> Vec<(String, u64)> {
    dir.tool("python3", &["-c", OFFSETS_PY, apk])
        .ok()
        .lines()
        .map(|l| {
            let (name, at) = l.rsplit_once(' ').expect("name offset");
            (name.to_owned(), at.parse().expect("an offset"))
        })
        .collect()
}

#[test]
fn native_libraries_sit_on_16k_pages_and_stored_entries_on_4_bytes() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 24);
    // Misalign the input first (zipalign -p would fix it): signet must align by itself.
    dir.tool("python3", &["-c", MISALIGN_PY, "u.apk", "m.apk"])
        .ok();
    let before = stored_offsets(&dir, "m.apk");
    assert!(
        before
            .iter()
            .any(|(n, at)| n.ends_with(".so") && at % 4 != 0),
        "the input is misaligned: {before:?}"
    );
    dir.signet(&[
        "apk",
        "sign",
        "m.apk",
        "--out",
        "s.apk",
        "--ks",
        "ec.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    // Checked by Python's zipfile, not by signet's own reader.
    let after = stored_offsets(&dir, "s.apk");
    assert!(
        after.iter().filter(|(n, _)| n.ends_with(".so")).count() >= 1 && after.len() >= 2,
        "stored entries, a native library among them: {after:?}"
    );
    for (name, at) in &after {
        let page = if name.ends_with(".so") { 16384 } else { 4 };
        assert_eq!(at % page, 0, "{name} at {at}");
    }
    // zipalign checks the 4-byte rule (its -P 16 is not in Debian's zipalign).
    dir.tool("zipalign", &["-c", "-p", "4", "s.apk"]).ok();
    dir.tool("apksigner", &["verify", "s.apk"]).ok();
}

#[test]
fn resigning_replaces_the_signatures() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 21);
    dir.tool(
        "apksigner",
        &[
            "sign",
            "--ks",
            "ec.jks",
            "--ks-pass",
            "pass:android",
            "--out",
            "first.apk",
            "u.apk",
        ],
    )
    .ok();
    dir.signet(&[
        "apk",
        "sign",
        "first.apk",
        "--out",
        "second.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    let v = apksigner_verify(&dir, "second.apk", 21);
    assert!(v.contains("Number of signers: 1"), "{v}");
    assert!(v.contains("Signer #1 key algorithm: RSA"), "{v}");
    let listing = dir.tool("unzip", &["-l", "second.apk"]).ok();
    assert_eq!(listing.matches("META-INF/").count(), 3, "{listing}");
    // In place, too.
    dir.signet(&[
        "apk",
        "sign",
        "second.apk",
        "--out",
        "second.apk",
        "--ks",
        "ec.p12",
        "--ks-pass",
        "pass:android",
    ])
    .ok();
    assert!(apksigner_verify(&dir, "second.apk", 21).contains("Signer #1 key algorithm: EC"));
}

#[test]
fn debug_key_is_refused_unless_allowed() {
    let dir = Dir::new();
    dir.signet(&[
        "keystore",
        "generate",
        "--out",
        "debug.keystore",
        "--type",
        "jks",
        "--alias",
        "androiddebugkey",
        "--store-pass",
        "pass:android",
        "--dname",
        "CN=Android Debug,O=Android,C=US",
    ])
    .ok();
    build_apk(&dir, "u.apk", 21);
    let err = dir
        .signet(&[
            "apk",
            "sign",
            "u.apk",
            "--out",
            "d.apk",
            "--ks",
            "debug.keystore",
            "--ks-pass",
            "pass:android",
        ])
        .fails_with(1);
    assert!(
        err.contains("Market does not accept apks signed with the debug certificate"),
        "{err}"
    );
    assert!(!dir.exists("d.apk"));
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "d.apk",
        "--ks",
        "debug.keystore",
        "--ks-pass",
        "pass:android",
        "--allow-debug-key",
    ])
    .ok();
    assert!(apksigner_verify(&dir, "d.apk", 21).starts_with("Verifies"));
}

/// An unsigned AAB at `out`: a protobuf manifest, a dex of 10,000 bytes of 5, a bundle
/// config.
pub(crate) fn build_aab(dir: &Dir, out: &str) {
    let src = dir.path("bundle");
    std::fs::create_dir_all(src.join("base/manifest")).unwrap();
    std::fs::create_dir_all(src.join("base/dex")).unwrap();
    std::fs::write(
        src.join("base/manifest/AndroidManifest.xml"),
        [0x0a, 0x03, 0x61, 0x62, 0x63],
    )
    .unwrap();
    std::fs::write(src.join("base/dex/classes.dex"), vec![5u8; 10_000]).unwrap();
    std::fs::write(src.join("BundleConfig.pb"), [0x0a, 0x00]).unwrap();
    let aab = dir.path(out).display().to_string();
    let zipped = std::process::Command::new("zip")
        .args(["-q", "-r", &aab, "."])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(zipped.status.success());
}

#[test]
fn aab_signed_by_signet_passes_jarsigner() {
    let dir = Dir::new();
    keystores(&dir);
    build_aab(&dir, "app.aab");
    for ks in ["rsa.jks", "ec.p12"] {
        dir.signet(&[
            "aab",
            "sign",
            "app.aab",
            "--out",
            "signed.aab",
            "--ks",
            ks,
            "--ks-pass",
            "pass:android",
            "--force",
        ])
        .ok();
        let v = dir
            .tool("jarsigner", &["-verify", "-verbose", "signed.aab"])
            .ok();
        assert!(v.contains("jar verified."), "{ks}: {v}");
        assert!(
            !dir.read("signed.aab")
                .windows(16)
                .any(|w| w == b"APK Sig Block 42"),
            "an AAB has no signing block"
        );
        dir.signet(&["aab", "verify", "signed.aab"]).ok();
    }
    // jarsigner's own signature (with signed attributes) verifies with signet.
    dir.tool(
        "jarsigner",
        &[
            "-keystore",
            "rsa.p12",
            "-storepass",
            "android",
            "-signedjar",
            "js.aab",
            "app.aab",
            "upload",
        ],
    )
    .ok();
    let out = dir.signet(&["aab", "verify", "-v", "js.aab"]).ok();
    assert!(
        out.contains("Verified using v1 scheme (JAR signing): true"),
        "{out}"
    );
}

fn assert_refused(dir: &Dir, input: &str, needle: &str) {
    let run = dir.signet(&[
        "apk",
        "sign",
        input,
        "--out",
        "out.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
    ]);
    let err = run.fails_with(1);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(needle),
        "{input}: expected `{needle}` in {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.exists("out.apk"), "{input}: output written");
    assert!(
        dir.listing().iter().all(|f| !f.starts_with(".signet-")),
        "temporary file left: {:?}",
        dir.listing()
    );
    let run = dir.signet(&["apk", "verify", input]);
    assert_eq!(run.code(), 1, "{input}: {}", run.stderr());
}

/// Replaces every occurrence of `from` with `to` (same length) in a file.
fn patch(dir: &Dir, src: &str, dst: &str, from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut b = dir.read(src);
    let mut n = 0;
    let mut i = 0;
    while let Some(p) = b[i..].windows(from.len()).position(|w| w == from) {
        b[i + p..i + p + to.len()].copy_from_slice(to);
        i += p + to.len();
        n += 1;
    }
    assert!(
        n >= 2,
        "pattern not found in local header and central directory"
    );
    dir.write(dst, b);
}

#[test]
fn bad_archives_are_refused_without_output() {
    let dir = Dir::new();
    keystores(&dir);
    dir.write("text.apk", "not a zip at all");
    assert_refused(&dir, "text.apk", "not a ZIP archive");

    build_apk(&dir, "u.apk", 21);
    let good = dir.read("u.apk");
    dir.write("cut.apk", &good[..good.len() / 2]);
    assert_refused(&dir, "cut.apk", "not a ZIP archive");
    dir.write("cut2.apk", &good[..good.len() - 10]);
    assert_refused(&dir, "cut2.apk", "ZIP");

    // ZIP64, as Info-ZIP writes it with -fz.
    let src = dir.path("z64");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "hello").unwrap();
    let z = dir.path("z64.apk").display().to_string();
    let out = std::process::Command::new("zip")
        .args(["-q", "-fz", &z, "a.txt"])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_refused(&dir, "z64.apk", "ZIP64");

    // Duplicate names and unsafe names, made by patching entry names of a real archive.
    std::fs::write(src.join("aaaa1.txt"), "one").unwrap();
    std::fs::write(src.join("aaaa2.txt"), "two").unwrap();
    std::fs::write(src.join("evil_name"), "three").unwrap();
    let base = dir.path("names.zip").display().to_string();
    let out = std::process::Command::new("zip")
        .args(["-q", &base, "aaaa1.txt", "aaaa2.txt", "evil_name"])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(out.status.success());
    patch(&dir, "names.zip", "dup.apk", b"aaaa2.txt", b"aaaa1.txt");
    assert_refused(&dir, "dup.apk", "duplicate ZIP entry `aaaa1.txt`");
    patch(&dir, "names.zip", "dotdot.apk", b"evil_name", b"../../evi");
    assert_refused(&dir, "dotdot.apk", "unsafe ZIP entry name");
    patch(&dir, "names.zip", "abs.apk", b"evil_name", b"/etc/evil");
    assert_refused(&dir, "abs.apk", "unsafe ZIP entry name");
    assert!(Path::new(&dir.path("names.zip")).exists());
}

#[test]
fn v4_idsig_and_larger_keys_verify_with_apksigner() {
    let dir = Dir::new();
    build_apk(&dir, "u.apk", 21);
    for (alg, size) in [("ec", "384"), ("rsa", "4096"), ("ec", "256")] {
        let ks = format!("{alg}{size}.p12");
        dir.signet(&[
            "keystore",
            "generate",
            "--out",
            &ks,
            "--key-alg",
            alg,
            "--key-size",
            size,
            "--alias",
            "k",
            "--store-pass",
            "pass:android",
        ])
        .ok();
        let out = format!("v4-{alg}{size}.apk");
        dir.signet(&[
            "apk",
            "sign",
            "u.apk",
            "--out",
            &out,
            "--ks",
            &ks,
            "--ks-pass",
            "pass:android",
            "--v4-signing-enabled",
            "true",
        ])
        .ok();
        let idsig = format!("{out}.idsig");
        assert!(dir.exists(&idsig), "{idsig} not written");
        let v = dir
            .tool(
                "apksigner",
                &["verify", "-v", "--v4-signature-file", &idsig, &out],
            )
            .ok();
        assert!(v.starts_with("Verifies"), "{alg}{size}: {v}");
        assert!(
            v.contains("Verified using v4 scheme (APK Signature Scheme v4): true"),
            "{alg}{size}: {v}"
        );
        assert!(
            v.contains("Verified using v3 scheme (APK Signature Scheme v3): true"),
            "{alg}{size}: {v}"
        );
    }
    // The .idsig belongs to one APK: a changed APK fails v4 verification.
    let mut b = dir.read("v4-ec256.apk");
    let at = b
        .windows(8)
        .position(|w| w == [0u8, 7, 14, 21, 28, 35, 42, 49])
        .expect("dex data");
    b[at + 10] ^= 1;
    dir.write("v4-bad.apk", b);
    let run = dir.tool(
        "apksigner",
        &[
            "verify",
            "--v4-signature-file",
            "v4-ec256.apk.idsig",
            "v4-bad.apk",
        ],
    );
    assert_ne!(run.code(), 0);
}

/// A v1-only APK (min SDK 21), so the JAR verifier is what decides.
fn v1_only(dir: &Dir, out: &str) {
    keystores(dir);
    build_apk_for(dir, "u1.apk", 21, 28);
    dir.signet(&[
        "apk",
        "sign",
        "u1.apk",
        "--out",
        out,
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
        "--v2-signing-enabled",
        "false",
        "--v3-signing-enabled",
        "false",
    ])
    .ok();
    assert!(apksigner_verify(dir, out, 21).starts_with("Verifies"));
}

// Regression: an entry listed in MANIFEST.MF but in no .SF section was accepted.
#[test]
fn r_entry_in_manifest_but_not_in_sf_is_refused() {
    let dir = Dir::new();
    v1_only(&dir, "v1.apk");
    dir.tool(
        "unzip",
        &["-q", "v1.apk", "META-INF/MANIFEST.MF", "-d", "x"],
    )
    .ok();
    dir.write("x/evil.txt", "added after signing\n");
    let digest = dir
        .tool(
            "sh",
            &["-c", "openssl dgst -sha256 -binary x/evil.txt | base64"],
        )
        .ok();
    let mut manifest = dir.read("x/META-INF/MANIFEST.MF");
    manifest.extend_from_slice(
        format!(
            "Name: evil.txt\r\nSHA-256-Digest: {}\r\n\r\n",
            digest.trim()
        )
        .as_bytes(),
    );
    dir.write("x/META-INF/MANIFEST.MF", manifest);
    std::fs::copy(dir.path("v1.apk"), dir.path("evil.apk")).unwrap();
    let apk = dir.path("evil.apk").display().to_string();
    let out = std::process::Command::new("zip")
        .args(["-q", &apk, "META-INF/MANIFEST.MF", "evil.txt"])
        .current_dir(dir.path("x"))
        .output()
        .unwrap();
    assert!(out.status.success());
    both_refuse(
        &dir,
        "evil.apk",
        "an entry only the manifest lists",
        "ERROR: JAR signature: `evil.txt` is not signed by META-INF/UPLOAD.SF",
    );
    assert_eq!(
        findings(&dir, "evil.apk"),
        [Finding::V1EntryNotSigned {
            entry: "evil.txt".into(),
            signature_file: "META-INF/UPLOAD.SF".into()
        }]
    );
    let run = dir.signet(&["apk", "verify", "evil.apk"]);
    assert!(
        run.stdout().contains("`evil.txt` is not signed"),
        "{}",
        run.stdout()
    );
}

// Regression: local header fields disagreeing with the central directory were ignored.
#[test]
fn r_local_header_must_match_the_central_directory() {
    let dir = Dir::new();
    v1_only(&dir, "v1.apk");
    let good = dir.read("v1.apk");
    let name = b"classes.dex";
    let local = good
        .windows(30 + name.len())
        .position(|w| w.starts_with(b"PK\x03\x04") && &w[30..] == name)
        .expect("local header of classes.dex");
    // The CRC-32 in the local header.
    let mut b = good.clone();
    b[local + 14] ^= 0xff;
    dir.write("crc.apk", &b);
    both_refuse(
        &dir,
        "crc.apk",
        "a local header CRC that differs",
        "CRC-32 of `classes.dex` differs between local header and central directory",
    );
    // The uncompressed size in the local header.
    let mut b = good.clone();
    b[local + 22] ^= 0x01;
    dir.write("size.apk", &b);
    both_refuse(
        &dir,
        "size.apk",
        "a local header size that differs",
        "size of `classes.dex` differs between local header and central directory",
    );
}

#[test]
fn v1_only_apk_targeting_api_30_is_refused_like_apksigner_does() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk_for(&dir, "t.apk", 21, 33);
    dir.signet(&[
        "apk",
        "sign",
        "t.apk",
        "--out",
        "v1.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
        "--v2-signing-enabled",
        "false",
        "--v3-signing-enabled",
        "false",
    ])
    .ok();
    let theirs = dir.tool("apksigner", &["verify", "v1.apk"]);
    assert_ne!(theirs.code(), 0);
    let ours = dir.signet(&["apk", "verify", "v1.apk"]);
    assert_eq!(ours.code(), 3, "{}", ours.stdout());
    assert!(
        ours.stdout()
            .contains("target SDK version 33 requires a minimum of signature scheme v2"),
        "{}",
        ours.stdout()
    );
    assert_eq!(
        findings(&dir, "v1.apk"),
        [Finding::V2NeededForTarget { target_sdk: 33 }]
    );
    // Target 28: v1 alone is enough for both.
    build_apk_for(&dir, "t28.apk", 21, 28);
    dir.signet(&[
        "apk",
        "sign",
        "t28.apk",
        "--out",
        "v1-28.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
        "--v2-signing-enabled",
        "false",
        "--v3-signing-enabled",
        "false",
    ])
    .ok();
    dir.tool("apksigner", &["verify", "v1-28.apk"]).ok();
    dir.signet(&["apk", "verify", "v1-28.apk"]).ok();
}

/// A JKS made by keytool with two key entries, `first` and `second`, each with a subject
/// of its own and the key password `<alias>-key` (not the store password).
fn two_key_jks(dir: &Dir) {
    for alias in ["first", "second"] {
        dir.tool(
            "keytool",
            &[
                "-genkeypair",
                "-keystore",
                "two.jks",
                "-storetype",
                "JKS",
                "-storepass",
                "android",
                "-alias",
                alias,
                "-keypass",
                &format!("{alias}-key"),
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "365",
                "-dname",
                &format!("CN={alias} signer, O=signet, C=US"),
            ],
        )
        .ok();
    }
}

/// keytool's SHA-256 fingerprint of `alias`, as apksigner prints it (lower case, no colons).
fn keytool_sha256(dir: &Dir, ks: &str, alias: &str) -> String {
    let list = dir
        .tool(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                ks,
                "-storepass",
                "android",
                "-alias",
                alias,
            ],
        )
        .ok();
    let line = list
        .lines()
        .find_map(|l| l.trim().strip_prefix("SHA256: "))
        .unwrap_or_else(|| panic!("no SHA256 line: {list}"));
    line.replace(':', "").to_ascii_lowercase()
}

#[test]
fn apk_sign_ks_key_alias_signs_with_that_entry() {
    let dir = Dir::new();
    two_key_jks(&dir);
    build_apk(&dir, "u.apk", 21);
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "s.apk",
        "--ks",
        "two.jks",
        "--ks-pass",
        "pass:android",
        "--ks-key-alias",
        "second",
        "--key-pass",
        "pass:second-key",
    ])
    .ok();
    let v = apksigner_verify(&dir, "s.apk", 21);
    assert!(v.starts_with("Verifies"), "{v}");
    assert!(v.contains("Number of signers: 1"), "{v}");
    assert!(
        v.contains("Signer #1 certificate DN: CN=second signer, O=signet, C=US"),
        "{v}"
    );
    let second = keytool_sha256(&dir, "two.jks", "second");
    assert_ne!(second, keytool_sha256(&dir, "two.jks", "first"));
    assert!(
        v.contains(&format!("Signer #1 certificate SHA-256 digest: {second}")),
        "{second}: {v}"
    );
    // The JAR signature files are named after the alias, as apksigner names them.
    let listing = dir.tool("unzip", &["-l", "s.apk"]).ok();
    assert!(
        listing.contains("META-INF/SECOND.SF") && listing.contains("META-INF/SECOND.RSA"),
        "{listing}"
    );
}

#[test]
fn apk_sign_key_pass_unlocks_a_key_whose_password_differs() {
    let dir = Dir::new();
    two_key_jks(&dir);
    build_apk(&dir, "u.apk", 21);
    let sign = |key_pass: Option<&str>| {
        let mut args = vec![
            "apk",
            "sign",
            "u.apk",
            "--out",
            "s.apk",
            "--ks",
            "two.jks",
            "--ks-pass",
            "pass:android",
            "--ks-key-alias",
            "first",
        ];
        if let Some(p) = key_pass {
            args.extend(["--key-pass", p]);
        }
        dir.signet(&args)
    };
    // Without --key-pass the store password is tried, and is the wrong one.
    let err = sign(None).fails_with(1);
    assert!(
        err.contains("key password is incorrect for alias `first`"),
        "{err}"
    );
    assert!(!dir.exists("s.apk"));
    let err = sign(Some("pass:second-key")).fails_with(1);
    assert!(
        err.contains("key password is incorrect for alias `first`"),
        "{err}"
    );
    assert!(!err.contains("second-key"), "a password in an error: {err}");
    // With the entry's own password it signs, with that entry.
    sign(Some("pass:first-key")).ok();
    let v = apksigner_verify(&dir, "s.apk", 21);
    assert!(v.starts_with("Verifies"), "{v}");
    assert!(
        v.contains(&format!(
            "Signer #1 certificate SHA-256 digest: {}",
            keytool_sha256(&dir, "two.jks", "first")
        )),
        "{v}"
    );
}

#[test]
fn apk_sign_v1_signing_enabled_false_writes_no_jar_signature() {
    let dir = Dir::new();
    keystores(&dir);
    build_apk(&dir, "u.apk", 24);
    dir.signet(&[
        "apk",
        "sign",
        "u.apk",
        "--out",
        "s.apk",
        "--ks",
        "rsa.p12",
        "--ks-pass",
        "pass:android",
        "--v1-signing-enabled",
        "false",
    ])
    .ok();
    let v = apksigner_verify(&dir, "s.apk", 24);
    assert!(v.starts_with("Verifies"), "{v}");
    let lines = scheme_lines(&v);
    for (scheme, on) in [
        ("v1 scheme (JAR signing)", false),
        ("v2 scheme (APK Signature Scheme v2)", true),
        ("v3 scheme (APK Signature Scheme v3)", true),
    ] {
        let line = format!("Verified using {scheme}: {on}");
        assert!(lines.contains(&line), "{line}: {v}");
    }
    let listing = dir.tool("unzip", &["-l", "s.apk"]).ok();
    assert!(!listing.contains("META-INF/"), "{listing}");
    // Below API 24 the same APK needs v1: signet's verify says so, as apksigner does.
    let theirs = dir.tool("apksigner", &["verify", "--min-sdk-version", "21", "s.apk"]);
    assert_ne!(theirs.code(), 0, "{}", theirs.stdout());
    let report = signet_sign::apk::verify(&dir.path("s.apk"), ArchiveKind::Apk, Some(21)).unwrap();
    assert_eq!(report.errors, [Finding::V1Needed { min_sdk: 21 }]);
}

#[test]
fn apk_sign_min_sdk_version_overrides_the_manifest() {
    let dir = Dir::new();
    keystores(&dir);
    // The manifest says 24; signing for 14 needs a JAR signature with SHA-1 digests (RSA),
    // as apksigner makes for the same flag.
    build_apk(&dir, "u.apk", 24);
    let sign = |out: &str, min_sdk: Option<&str>| {
        let mut args = vec![
            "apk",
            "sign",
            "u.apk",
            "--out",
            out,
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--json",
        ];
        if let Some(n) = min_sdk {
            args.extend(["--min-sdk-version", n]);
        }
        dir.signet(&args).json()
    };
    let report = sign("ours14.apk", Some("14"));
    assert_eq!(report["min_sdk"], 14);
    assert_eq!(sign("ours24.apk", None)["min_sdk"], 24);
    dir.tool(
        "apksigner",
        &[
            "sign",
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--min-sdk-version",
            "14",
            "--v4-signing-enabled",
            "false",
            "--out",
            "theirs14.apk",
            "u.apk",
        ],
    )
    .ok();
    let manifest = |apk: &str| dir.tool("unzip", &["-p", apk, "META-INF/MANIFEST.MF"]).ok();
    let digest_names = |apk: &str| {
        let mut names: Vec<String> = manifest(apk)
            .lines()
            .filter_map(|l| l.split_once("-Digest: ").map(|(n, _)| n.to_owned()))
            .collect();
        names.dedup();
        names
    };
    assert_eq!(digest_names("ours14.apk"), ["SHA1"]);
    assert_eq!(digest_names("theirs14.apk"), ["SHA1"]);
    assert_eq!(digest_names("ours24.apk"), ["SHA-256"]);
    let v = apksigner_verify(&dir, "ours14.apk", 14);
    assert!(v.starts_with("Verifies"), "{v}");
    assert_eq!(
        scheme_lines(&v),
        scheme_lines(&apksigner_verify(&dir, "theirs14.apk", 14))
    );
}
