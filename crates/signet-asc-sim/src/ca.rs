//! The simulator's certificate authority, run with OpenSSL: a root standing in for Apple's
//! WWDR CA, which signs distribution and development certificates from CSRs, and a signer
//! of provisioning profiles (CMS, as Apple's are) under it.

use std::{path::Path, process::Command};

use tempfile::TempDir;

/// A CA in a temporary directory.
#[derive(Debug)]
pub struct Ca {
    dir: TempDir,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut b);
    format!(
        "{prefix}-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

impl Ca {
    /// Makes the root and the profile signer.
    pub fn new() -> Result<Ca, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=Simulated Apple WWDR Certification Authority/OU=G3/O=Simulated Apple Inc./C=US",
            ],
        )?;
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "signer.key",
                "-out",
                "signer.csr",
                "-subj",
                "/CN=Simulated Apple Provisioning Profile Signing/O=Simulated Apple Inc./C=US",
            ],
        )?;
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "signer.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "signer.pem",
                "-days",
                "3650",
            ],
        )?;
        Ok(Ca { dir })
    }

    /// The root certificate (PEM).
    pub fn root_pem(&self) -> Result<Vec<u8>, String> {
        std::fs::read(self.dir.path().join("ca.pem")).map_err(|e| e.to_string())
    }

    /// Verifies a CSR's self-signature; returns it as PEM.
    pub fn check_csr(&self, csr_pem: &str) -> Result<(), String> {
        let name = unique("check") + ".csr";
        let path = self.dir.path().join(&name);
        std::fs::write(&path, csr_pem).map_err(|e| e.to_string())?;
        let r = openssl(self.dir.path(), &["req", "-in", &name, "-noout", "-verify"]);
        let _ = std::fs::remove_file(path);
        r.map(|_| ())
    }

    /// Issues a certificate (DER) for a CSR (PEM): `distribution` selects Apple's iPhone
    /// Distribution extension (…6.1.4), else Apple Development (…6.1.12).
    pub fn issue(
        &self,
        csr_pem: &str,
        team_id: &str,
        team_name: &str,
        distribution: bool,
    ) -> Result<Vec<u8>, String> {
        let d = self.dir.path();
        let stem = unique("cert");
        let (csr, ext, cer) = (
            format!("{stem}.csr"),
            format!("{stem}.cnf"),
            format!("{stem}.cer"),
        );
        std::fs::write(d.join(&csr), csr_pem).map_err(|e| e.to_string())?;
        let (oid, cn) = if distribution {
            ("4", "iPhone Distribution")
        } else {
            ("12", "Apple Development")
        };
        std::fs::write(
            d.join(&ext),
            format!(
                "[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=critical,codeSigning\n1.2.840.113635.100.6.1.{oid}=critical,DER:0500\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let subject = format!(
            "/UID={team_id}/CN={cn}: {team_name} ({team_id})/OU={team_id}/O={team_name}/C=US"
        );
        let r = openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &cer,
                "-outform",
                "DER",
                "-days",
                "365",
                "-extfile",
                &ext,
                "-extensions",
                "ext",
                "-subj",
                &subject,
            ],
        )
        .and_then(|_| std::fs::read(d.join(&cer)).map_err(|e| e.to_string()));
        for f in [&csr, &ext, &cer] {
            let _ = std::fs::remove_file(d.join(f));
        }
        r
    }

    /// A key and CSR made by someone else (another Mac of the team): for certificates
    /// signet holds no key for.
    pub fn foreign_csr(&self) -> Result<String, String> {
        let d = self.dir.path();
        let stem = unique("foreign");
        let (key, csr) = (format!("{stem}.key"), format!("{stem}.csr"));
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                "/CN=Someone's Mac/C=US",
            ],
        )?;
        let pem = std::fs::read_to_string(d.join(&csr)).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(d.join(&key));
        let _ = std::fs::remove_file(d.join(&csr));
        pem
    }

    /// Signs a profile's property list as Apple does (CMS SignedData, content attached, DER).
    pub fn sign_profile(&self, plist: &str) -> Result<Vec<u8>, String> {
        let d = self.dir.path();
        let stem = unique("profile");
        let (inp, out) = (format!("{stem}.plist"), format!("{stem}.mobileprovision"));
        std::fs::write(d.join(&inp), plist).map_err(|e| e.to_string())?;
        let r = openssl(
            d,
            &[
                "cms",
                "-sign",
                "-binary",
                "-nodetach",
                "-outform",
                "DER",
                "-signer",
                "signer.pem",
                "-inkey",
                "signer.key",
                "-certfile",
                "ca.pem",
                "-in",
                &inp,
                "-out",
                &out,
            ],
        )
        .and_then(|_| std::fs::read(d.join(&out)).map_err(|e| e.to_string()));
        let _ = std::fs::remove_file(d.join(&inp));
        let _ = std::fs::remove_file(d.join(&out));
        r
    }
}
