//! Key rotation against apksigner: signing certificate lineages.

use signet_sign::apk::lineage::{DEFAULT_FLAGS, Lineage};

use crate::{apk::keystores, util::Dir};

#[test]
fn signet_reads_apksigners_lineage_and_writes_it_back_byte_for_byte() {
    let dir = Dir::new();
    keystores(&dir);
    dir.tool(
        "apksigner",
        &[
            "rotate",
            "--out",
            "lineage",
            "--old-signer",
            "--ks",
            "rsa.p12",
            "--ks-pass",
            "pass:android",
            "--new-signer",
            "--ks",
            "ec.p12",
            "--ks-pass",
            "pass:android",
        ],
    )
    .ok();
    let bytes = dir.read("lineage");
    let lineage = Lineage::from_file(&bytes).expect("apksigner's lineage");
    assert_eq!(lineage.nodes.len(), 2);
    let listed = dir
        .tool(
            "apksigner",
            &["lineage", "--in", "lineage", "--print-certs"],
        )
        .ok();
    for (i, node) in lineage.nodes.iter().enumerate() {
        let sha256 = node
            .certificate
            .fingerprints()
            .sha256
            .replace(':', "")
            .to_lowercase();
        let want = format!(
            "Signer #{} in lineage certificate SHA-256 digest: {sha256}",
            i + 1
        );
        assert!(listed.contains(&want), "{want}\n{listed}");
        assert_eq!(node.flags, DEFAULT_FLAGS);
    }
    // RSA signed the EC certificate with RSA PKCS#1 v1.5 SHA-256.
    assert_eq!(lineage.nodes[0].sig_alg, 0x0103);
    assert_eq!(lineage.nodes[1].parent_sig_alg, 0x0103);
    assert_eq!(lineage.to_file(), bytes);
}
