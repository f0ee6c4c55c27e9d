//! signet's PKCS#12 files as node-forge reads them, the way eas-cli does.
//!
//! eas-cli validates an Android keystore with `@expo/pkcs12`: `parsePKCS12` (node-forge's
//! `pkcs12FromAsn1`), then `getX509Asn1ByFriendlyName`, which asks node-forge for the
//! certificate bags whose friendlyName is the key alias, lower-cased; none gives "PKCS#12
//! keystore: Unable to get certificate under alias". For an iOS distribution certificate it
//! takes the first certificate bag (`getX509Certificate`). keytool names the certificate
//! bag of a key entry by the alias, beside the key's localKeyID; these tests prove signet
//! does too, against node-forge itself (installed by `scripts/test`, which exports
//! `SIGNET_TEST_NODE_FORGE`), keytool and OpenSSL.

use serde_json::{Value, json};

use crate::util::{Dir, keytool_fingerprints};

/// Loads a .p12 with node-forge as `@expo/pkcs12` does and prints what it found as JSON.
const FORGE_READ_JS: &str = r"'use strict';
const crypto = require('crypto');
const fs = require('fs');
const forge = require('node-forge');

const [file, password, alias] = process.argv.slice(2);

// @expo/pkcs12 parsePKCS12
const base64EncodedP12 = fs.readFileSync(file).toString('base64');
const p12Der = forge.util.decode64(base64EncodedP12);
const p12Asn1 = forge.asn1.fromDer(p12Der);
const p12 = forge.pkcs12.pkcs12FromAsn1(p12Asn1, String(password ?? ''));

const certBagType = forge.pki.oids.certBag;
const keyBagType = forge.pki.oids.pkcs8ShroudedKeyBag;

function certDer(bag) {
  const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

function colonHex(buf) {
  return buf.toString('hex').toUpperCase().match(/../g).join(':');
}

function keyId(bag) {
  const ids = bag.attributes.localKeyId;
  return ids ? ids.map((id) => Buffer.from(id, 'binary').toString('hex')) : null;
}

// node-forge decodes RSA certificates and keeps others as ASN.1 (which eas-cli accepts).
function describeCert(bag) {
  const der = certDer(bag);
  const x509 = new crypto.X509Certificate(der);
  return {
    friendly_name: bag.attributes.friendlyName ?? null,
    local_key_id: keyId(bag),
    subject: x509.subject.split('\n').reverse().join(', '),
    sha1: colonHex(crypto.createHash('sha1').update(der).digest()),
  };
}

// @expo/pkcs12 getX509Asn1ByFriendlyName, as eas-cli's validateKeystore calls it.
function byFriendlyName(name) {
  const bags = p12.getBags({ friendlyName: name, bagType: certBagType }).friendlyName;
  return bags && bags.length > 0 ? bags[0] : null;
}
const easBag = byFriendlyName(alias.toLowerCase());
const exactBag = byFriendlyName(alias);

// @expo/pkcs12 getX509Certificate: the first certificate bag.
const certBags = p12.getBags({ bagType: certBagType })[certBagType] ?? [];
const keyBags = p12.getBags({ bagType: keyBagType })[keyBagType] ?? [];

function describeKey(bag) {
  // node-forge decodes RSA keys itself and keeps others as ASN.1.
  const asn1 = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
  const der = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const cert = exactBag ?? easBag;
  return {
    friendly_name: bag.attributes.friendlyName ?? null,
    local_key_id: keyId(bag),
    decoded_by_forge: bag.key !== null && bag.key !== undefined,
    type: key.asymmetricKeyType,
    matches_alias_certificate: cert
      ? new crypto.X509Certificate(certDer(cert)).checkPrivateKey(key)
      : null,
  };
}

console.log(JSON.stringify({
  eas_alias_lookup: easBag ? describeCert(easBag) : null,
  exact_alias_lookup: exactBag ? describeCert(exactBag) : null,
  first_certificate: certBags.length > 0 ? describeCert(certBags[0]) : null,
  cert_bags: certBags.map(describeCert),
  key_bags: keyBags.map(describeKey),
}));
";

/// The node_modules directory holding node-forge; the suite proves compatibility with it, so
/// its absence fails the test.
fn node_forge_modules() -> String {
    let dir = std::env::var("SIGNET_TEST_NODE_FORGE").unwrap_or_else(|_| {
        panic!(
            "SIGNET_TEST_NODE_FORGE is not set: run scripts/test, which installs node-forge \
             with npm into the build cache and exports its node_modules directory"
        )
    });
    let package = std::path::Path::new(&dir).join("node-forge/package.json");
    assert!(
        package.is_file(),
        "SIGNET_TEST_NODE_FORGE={dir} holds no node-forge ({} is missing): run scripts/test",
        package.display()
    );
    dir
}

/// What node-forge finds in `file` for `alias`, read as eas-cli reads it.
fn forge_read(dir: &Dir, file: &str, password: &str, alias: &str) -> Value {
    let modules = node_forge_modules();
    dir.write("forge-read.js", FORGE_READ_JS);
    let out = std::process::Command::new("node")
        .args(["forge-read.js", file, password, alias])
        .current_dir(dir.root())
        .env("NODE_PATH", &modules)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` ({e}); run `scripts/test`, which installs npm and node")
        });
    assert!(
        out.status.success(),
        "node-forge could not read {file}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "node printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A SHA-1 as keytool prints it (`AB:CD:…`) to the lower-case hex of a localKeyID.
fn key_id_hex(sha1: &str) -> String {
    sha1.replace(':', "").to_ascii_lowercase()
}

/// The SHA-1 keytool lists for `alias`.
fn keytool_sha1(dir: &Dir, file: &str, store_pass: &str, alias: &str) -> String {
    let listing = dir
        .tool(
            "keytool",
            &["-list", "-v", "-keystore", file, "-storepass", store_pass],
        )
        .ok();
    keytool_fingerprints(&listing)
        .into_iter()
        .find(|(a, _, _)| a == alias)
        .unwrap_or_else(|| panic!("keytool lists no `{alias}`:\n{listing}"))
        .1
}

const DNAME: &str = "CN=Jane Doe, OU=Mobile, O=Acme Inc, L=Berlin, ST=Berlin, C=DE";

#[test]
fn generated_pkcs12_is_found_under_its_alias_as_eas_cli_looks() {
    // RSA (the default, which node-forge decodes) with keytool's algorithms, and EC with the
    // legacy ones (node-forge keeps an EC key as ASN.1, as eas-cli never needs it).
    for (key_alg, legacy) in [("rsa", false), ("ec", true)] {
        let dir = Dir::new();
        let mut args = vec![
            "keystore",
            "generate",
            "--out",
            "upload.p12",
            "--alias",
            "upload",
            "--key-alg",
            key_alg,
            "--store-pass",
            "pass:storepw1",
            "--dname",
            DNAME,
            "--json",
        ];
        if legacy {
            args.push("--legacy-pkcs12");
        }
        let report = dir.signet(&args).json();
        assert_eq!(report["type"], "pkcs12", "{report}");
        let sha1 = report["certificate"]["fingerprints"]["sha1"]
            .as_str()
            .expect("sha1")
            .to_owned();
        assert_eq!(keytool_sha1(&dir, "upload.p12", "storepw1", "upload"), sha1);

        let forge = forge_read(&dir, "upload.p12", "storepw1", "upload");
        let cert = json!({
            "friendly_name": ["upload"],
            "local_key_id": [key_id_hex(&sha1)],
            "subject": DNAME,
            "sha1": sha1,
        });
        assert_eq!(forge["eas_alias_lookup"], cert, "{key_alg}: {forge}");
        assert_eq!(forge["cert_bags"], json!([cert]), "{key_alg}");
        assert_eq!(
            forge["key_bags"],
            json!([{
                "friendly_name": ["upload"],
                "local_key_id": [key_id_hex(&sha1)],
                "decoded_by_forge": key_alg == "rsa",
                "type": key_alg,
                "matches_alias_certificate": true,
            }]),
            "{key_alg}"
        );
    }
}

/// The defect this module was written for: the certificate bag was named by the subject
/// (`C=DE, ST=Berlin, …`), so node-forge found nothing under the alias.
#[test]
fn cert_bag_is_named_by_the_alias_not_the_subject() {
    let dir = Dir::new();
    let report = dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            "upload.p12",
            "--alias",
            "upload",
            "--key-alg",
            "ec",
            "--store-pass",
            "pass:storepw1",
            "--dname",
            DNAME,
            "--json",
        ])
        .json();
    let sha1 = report["certificate"]["fingerprints"]["sha1"]
        .as_str()
        .expect("sha1");
    let forge = forge_read(&dir, "upload.p12", "storepw1", "upload");
    let bag = &forge["cert_bags"][0];
    assert_eq!(bag["friendly_name"], json!(["upload"]), "{forge}");
    assert_ne!(bag["friendly_name"], json!([DNAME]));
    assert_eq!(bag["local_key_id"], json!([key_id_hex(sha1)]));

    // OpenSSL prints the same two bags, both named `upload` with one localKeyID.
    let dump = dir
        .tool(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "upload.p12",
                "-passin",
                "pass:storepw1",
                "-nodes",
                "-info",
            ],
        )
        .ok();
    let key_id = sha1.replace(':', " ");
    assert_eq!(
        dump.matches("friendlyName: upload\n").count(),
        2,
        "key and certificate bag: {dump}"
    );
    assert_eq!(dump.matches("friendlyName:").count(), 2, "{dump}");
    assert_eq!(
        dump.matches(&format!("localKeyID: {key_id} \n")).count(),
        2,
        "{dump}"
    );
}

/// The harness sees the failure eas-cli reports: a .p12 whose certificate bag is named by
/// its subject (OpenSSL's `-name` names both bags) has nothing under `upload`.
#[test]
fn node_forge_finds_nothing_under_an_alias_no_cert_bag_carries() {
    let dir = Dir::new();
    dir.tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Jane Doe/O=Acme Inc/C=DE",
        ],
    )
    .ok();
    dir.tool(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-name",
            "C=DE, O=Acme Inc, CN=Jane Doe",
            "-out",
            "dn.p12",
            "-passout",
            "pass:storepw1",
        ],
    )
    .ok();
    let forge = forge_read(&dir, "dn.p12", "storepw1", "upload");
    assert_eq!(
        forge["eas_alias_lookup"],
        Value::Null,
        "eas-cli: PKCS#12 keystore: Unable to get certificate under alias: upload; {forge}"
    );
    assert_eq!(
        forge["cert_bags"][0]["friendly_name"],
        json!(["C=DE, O=Acme Inc, CN=Jane Doe"])
    );
}

#[test]
fn converted_keytool_jks_keeps_the_alias_on_the_cert_bag() {
    let dir = Dir::new();
    let pass = ["-storepass", "storepw1", "-keypass", "storepw1"];
    let keytool = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(pass);
        dir.tool("keytool", &all).ok();
    };
    // A CA in its own keystore; in the source JKS its certificate as a trusted entry, and an
    // `upload` key whose certificate the CA issued (a chain of two).
    keytool(&[
        "-genkeypair",
        "-keystore",
        "ca.jks",
        "-storetype",
        "JKS",
        "-alias",
        "ca",
        "-keyalg",
        "EC",
        "-ext",
        "bc:c",
        "-dname",
        "CN=Test CA, O=Acme Inc, C=DE",
    ]);
    dir.tool(
        "keytool",
        &[
            "-exportcert",
            "-rfc",
            "-keystore",
            "ca.jks",
            "-alias",
            "ca",
            "-storepass",
            "storepw1",
            "-file",
            "ca.pem",
        ],
    )
    .ok();
    dir.tool(
        "keytool",
        &[
            "-importcert",
            "-noprompt",
            "-keystore",
            "src.jks",
            "-storetype",
            "JKS",
            "-alias",
            "root",
            "-file",
            "ca.pem",
            "-storepass",
            "storepw1",
        ],
    )
    .ok();
    keytool(&[
        "-genkeypair",
        "-keystore",
        "src.jks",
        "-storetype",
        "JKS",
        "-alias",
        "upload",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-dname",
        DNAME,
    ]);
    keytool(&[
        "-certreq",
        "-keystore",
        "src.jks",
        "-alias",
        "upload",
        "-file",
        "upload.csr",
    ]);
    keytool(&[
        "-gencert",
        "-keystore",
        "ca.jks",
        "-alias",
        "ca",
        "-infile",
        "upload.csr",
        "-outfile",
        "upload.pem",
        "-rfc",
    ]);
    keytool(&[
        "-importcert",
        "-keystore",
        "src.jks",
        "-alias",
        "upload",
        "-file",
        "upload.pem",
    ]);
    let upload_sha1 = keytool_sha1(&dir, "src.jks", "storepw1", "upload");
    let ca_sha1 = keytool_sha1(&dir, "src.jks", "storepw1", "root");

    let report = dir
        .signet(&[
            "keystore",
            "convert",
            "src.jks",
            "--store-pass",
            "pass:storepw1",
            "--type",
            "pkcs12",
            "--out",
            "upload.p12",
            "--json",
        ])
        .json();
    assert_eq!(report["aliases"], json!(["root", "upload"]), "{report}");
    // keytool reads the result with the same fingerprints.
    assert_eq!(
        keytool_sha1(&dir, "upload.p12", "storepw1", "upload"),
        upload_sha1
    );
    assert_eq!(
        keytool_sha1(&dir, "upload.p12", "storepw1", "root"),
        ca_sha1
    );

    let forge = forge_read(&dir, "upload.p12", "storepw1", "upload");
    let leaf = json!({
        "friendly_name": ["upload"],
        "local_key_id": [key_id_hex(&upload_sha1)],
        "subject": DNAME,
        "sha1": upload_sha1,
    });
    assert_eq!(forge["eas_alias_lookup"], leaf, "{forge}");
    // Named as keytool names them: the key's certificate by the alias, beside the key's
    // localKeyID; the rest of its chain by the subject, without one; a trusted entry by its
    // alias. The key's certificate comes first (eas-cli's iOS path takes the first).
    assert_eq!(
        forge["cert_bags"],
        json!([
            leaf,
            {
                "friendly_name": ["CN=Test CA, O=Acme Inc, C=DE"],
                "local_key_id": null,
                "subject": "CN=Test CA, O=Acme Inc, C=DE",
                "sha1": ca_sha1,
            },
            {
                "friendly_name": ["root"],
                "local_key_id": null,
                "subject": "CN=Test CA, O=Acme Inc, C=DE",
                "sha1": ca_sha1,
            },
        ])
    );
    assert_eq!(
        forge["key_bags"],
        json!([{
            "friendly_name": ["upload"],
            "local_key_id": [key_id_hex(&upload_sha1)],
            "decoded_by_forge": true,
            "type": "rsa",
            "matches_alias_certificate": true,
        }])
    );
}

#[test]
fn ios_p12_cert_bag_carries_the_key_bags_name() {
    let dir = Dir::new();
    dir.signet(&[
        "ios",
        "csr",
        "--key-out",
        "ios.key",
        "--csr-out",
        "ios.csr",
        "--common-name",
        "Jane Doe",
        "--email",
        "jane@acme.example",
    ])
    .ok();
    crate::ios::apple_issues_cer(&dir, "ios.csr", "dist.cer");
    let fingerprint = dir
        .tool(
            "openssl",
            &[
                "x509",
                "-in",
                "dist.cer",
                "-inform",
                "DER",
                "-noout",
                "-fingerprint",
                "-sha1",
            ],
        )
        .ok();
    let sha1 = fingerprint
        .trim()
        .split_once('=')
        .expect("openssl fingerprint")
        .1
        .to_owned();
    let name = "iPhone Distribution: Acme (A1B2C3D4E5)";

    // Keychain's legacy algorithms by default, and --modern.
    for (file, modern) in [("legacy.p12", false), ("modern.p12", true)] {
        let mut args = vec![
            "ios",
            "p12",
            "--key",
            "ios.key",
            "--cer",
            "dist.cer",
            "--out",
            file,
            "--pass",
            "pass:p12-pass",
        ];
        if modern {
            args.push("--modern");
        }
        dir.signet(&args).ok();

        let forge = forge_read(&dir, file, "p12-pass", name);
        let cert = json!({
            "friendly_name": [name],
            "local_key_id": [key_id_hex(&sha1)],
            "subject": format!("C=US, OU=A1B2C3D4E5, CN={name}, UID=A1B2C3D4E5"),
            "sha1": sha1,
        });
        // Looked up by the entry's name, and as eas-cli takes a distribution certificate.
        assert_eq!(forge["exact_alias_lookup"], cert, "{file}: {forge}");
        assert_eq!(forge["first_certificate"], cert, "{file}");
        assert_eq!(forge["cert_bags"], json!([cert]), "{file}");
        assert_eq!(
            forge["key_bags"],
            json!([{
                "friendly_name": [name],
                "local_key_id": [key_id_hex(&sha1)],
                "decoded_by_forge": true,
                "type": "rsa",
                "matches_alias_certificate": true,
            }]),
            "{file}"
        );

        // OpenSSL names both bags alike, as its own `pkcs12 -export -name` does.
        let dump = dir
            .tool(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    file,
                    "-passin",
                    "pass:p12-pass",
                    "-nodes",
                    "-info",
                ],
            )
            .ok();
        assert_eq!(
            dump.matches(&format!("friendlyName: {name}\n")).count(),
            2,
            "{file}: {dump}"
        );
    }
}
