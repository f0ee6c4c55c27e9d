//! `signet credentials export ID --out F`: a credential's files, written 0600 (admin; the
//! server audits the read). Passwords go to `--password-out` or, with `--show-secrets`,
//! to the terminal; never to `--json` without it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use signet_client::{CredentialId, Kind, SecretMaterial, SecretString};
use zeroize::Zeroizing;

use crate::{UsageError, flags::CredentialsExportArgs, output, output_file, remote::Remote};

/// Where an export goes.
#[derive(Debug, Clone, Copy)]
pub struct ExportTo<'a> {
    /// The credential's file.
    pub out: &'a Path,
    /// Overwrite existing files.
    pub force: bool,
    /// The password file of a keystore or .p12.
    pub password_out: Option<&'a Path>,
    /// Print the passwords (and put them in `--json`).
    pub show_secrets: bool,
}

/// What an export wrote (its `--json`).
#[derive(Debug, Serialize)]
pub struct Exported {
    /// The credential.
    pub id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// The file written.
    pub file: PathBuf,
    /// A keystore's key alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_alias: Option<String>,
    /// A .p8 key's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// An App Store Connect key's issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    /// A push key's team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The password file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Lines of the password file (two: a keystore's key password differs).
    #[serde(skip)]
    pub password_lines: usize,
    /// The passwords, only with `--show-secrets`: (name, value).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "secrets")]
    pub secrets: Vec<(&'static str, SecretString)>,
}

fn secrets<S: serde::Serializer>(
    items: &[(&'static str, SecretString)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(items.len()))?;
    for (name, value) in items {
        map.serialize_entry(name, value.expose())?;
    }
    map.end()
}

pub fn export_cmd(args: &CredentialsExportArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let to = ExportTo {
        out: &args.out,
        force: args.force,
        password_out: args.password_out.as_deref(),
        show_secrets: args.show_secrets,
    };
    let exported = export(&remote, &args.id, to)?;
    print_exported(&exported, to, args.output.json)
}

/// A credential's file and what opens it, as exported.
struct Material {
    file: Zeroizing<Vec<u8>>,
    /// Passwords, for the password file (first the store's) and `--show-secrets`.
    passwords: Vec<(&'static str, SecretString)>,
    key_alias: Option<String>,
    key_id: Option<String>,
    issuer_id: Option<String>,
    team_id: Option<String>,
}

impl Material {
    fn file(file: &[u8]) -> Material {
        Material {
            file: Zeroizing::new(file.to_vec()),
            passwords: Vec::new(),
            key_alias: None,
            key_id: None,
            issuer_id: None,
            team_id: None,
        }
    }
}

fn material(kind: Kind, secret: &SecretMaterial) -> anyhow::Result<Material> {
    Ok(match secret {
        SecretMaterial::AndroidKeystore(k) => {
            let mut m = Material::file(k.keystore.expose());
            m.passwords
                .push(("store_password", k.store_password.clone()));
            m.passwords.push(("key_password", k.key_password.clone()));
            m.key_alias = Some(k.key_alias.clone());
            m
        }
        SecretMaterial::AppleDistributionCertificate(c) => {
            let mut m = Material::file(c.p12.expose());
            m.passwords.push(("password", c.password.clone()));
            m
        }
        SecretMaterial::AppleProvisioningProfile { profile } => Material::file(profile.expose()),
        SecretMaterial::ApplePushKey {
            p8,
            key_id,
            team_id,
        } => {
            let mut m = Material::file(p8.expose().as_bytes());
            m.key_id = Some(key_id.clone());
            m.team_id = Some(team_id.clone());
            m
        }
        SecretMaterial::AscApiKey {
            p8,
            key_id,
            issuer_id,
        } => {
            let mut m = Material::file(p8.expose().as_bytes());
            m.key_id = Some(key_id.clone());
            m.issuer_id = Some(issuer_id.clone());
            m
        }
        SecretMaterial::GoogleServiceAccountKey { json } => {
            Material::file(json.expose().as_bytes())
        }
        SecretMaterial::FcmLegacyKey { server_key } => {
            Material::file(format!("{}\n", server_key.expose()).as_bytes())
        }
        SecretMaterial::AppleTeam => {
            return Err(UsageError(format!(
                "an {} holds no file or secret to export; `signet credentials show` shows it",
                kind.name()
            ))
            .into());
        }
    })
}

/// The password file: the store password (or the .p12's) on the first line, so that
/// `file:PATH` reads it; a keystore's key password on the second when it differs.
fn password_file(passwords: &[(&'static str, SecretString)]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    for (i, (_, p)) in passwords.iter().enumerate() {
        if i > 0 && p.expose() == passwords[0].1.expose() {
            continue;
        }
        text.push_str(p.expose());
        text.push('\n');
    }
    text
}

/// Fetches a credential's secret material (admin, audited) and writes its file (and its
/// password file) 0600, each whole or not at all.
pub fn export(remote: &Remote, id: &CredentialId, to: ExportTo<'_>) -> anyhow::Result<Exported> {
    output_file::check_writable(to.out, to.force)?;
    if let Some(p) = to.password_out {
        if p == to.out {
            return Err(UsageError(format!(
                "--password-out and --out are the same file ({}): the password would replace \
                 the credential",
                p.display()
            ))
            .into());
        }
        output_file::check_writable(p, to.force)?;
    }
    let export = remote
        .block_on(remote.client.export(&remote.org, id))
        .map_err(|e| super::about(id, e))?;
    let c = export.credential;
    let m = material(c.kind, &export.secret)?;
    if to.password_out.is_some() && m.passwords.is_empty() {
        return Err(UsageError(format!(
            "an {} has no password: leave out --password-out",
            c.kind.name()
        ))
        .into());
    }
    let file = output_file::prepare(to.out, &m.file, true)?;
    let password_text = password_file(&m.passwords);
    let passwords = match to.password_out {
        Some(p) => Some(output_file::prepare(p, password_text.as_bytes(), true)?),
        None => None,
    };
    output_file::persist(file, to.out, to.force)?;
    if let (Some(tmp), Some(p)) = (passwords, to.password_out) {
        output_file::persist(tmp, p, to.force)?;
    }
    Ok(Exported {
        id: c.id,
        kind: c.kind,
        name: c.name,
        file: to.out.to_path_buf(),
        key_alias: m.key_alias,
        key_id: m.key_id,
        issuer_id: m.issuer_id,
        team_id: m.team_id,
        password_file: to.password_out.map(Path::to_path_buf),
        password_lines: password_text.lines().count(),
        secrets: if to.show_secrets {
            m.passwords
        } else {
            Vec::new()
        },
    })
}

/// What was written, and where the passwords are.
pub fn print_exported(e: &Exported, to: ExportTo<'_>, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(e);
    }
    println!(
        "Wrote {} {} ({}) to {} (mode 0600).",
        e.kind.name(),
        e.id,
        e.name,
        e.file.display()
    );
    let mut f = output::Fields::new(0);
    if let Some(a) = &e.key_alias {
        f.add("Key alias", a);
    }
    if let Some(k) = &e.key_id {
        f.add("Key id", k);
    }
    if let Some(i) = &e.issuer_id {
        f.add("Issuer id", i);
    }
    if let Some(t) = &e.team_id {
        f.add("Team id", t);
    }
    for (name, value) in &e.secrets {
        let label = match *name {
            "store_password" => "Keystore password",
            "key_password" => "Key password",
            _ => ".p12 password",
        };
        f.add(label, value.expose());
    }
    print!("{}", f.render());
    let has_passwords = matches!(
        e.kind,
        Kind::AndroidKeystore | Kind::AppleDistributionCertificate
    );
    if let Some(p) = &e.password_file {
        let second = if e.password_lines > 1 {
            "; the key password, which differs, on the second"
        } else {
            ""
        };
        println!(
            "Password written to {} (mode 0600): the {} password on the first line{second} \
             (use it as file:{}).",
            p.display(),
            if e.kind == Kind::AndroidKeystore {
                "store"
            } else {
                ".p12"
            },
            p.display()
        );
    } else if has_passwords && !to.show_secrets {
        println!(
            "The password is not shown: pass --password-out FILE to write it to a file (mode \
             0600), or --show-secrets to print it."
        );
    }
    Ok(())
}
