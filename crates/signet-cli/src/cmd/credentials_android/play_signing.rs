//! `signet credentials android opt-in-play-signing`: Play App Signing opt-in, as `expo
//! opt-in-google-play-signing` did it.
//!
//! 1. The current default build set's keystore is exported (admin, audited) to the working
//!    directory as `<app>-<application id>-app-signing-key.jks|p12` with its passwords in
//!    `….password`, both 0600: Google's PEPK format (the key encrypted for the Play
//!    Console) is not publicly specified, so the password-protected keystore itself is
//!    written, for Google's own `pepk` tool to encrypt.
//! 2. The server generates a new upload keystore and makes it the default build set, and
//!    marks the old keystore as the app-signing key held by Google (kept, never deleted by
//!    this flow), in one transaction.
//! 3. The new upload certificate is written as `keytool -exportcert -rfc` writes it, for
//!    the Play Console.
//!
//! A second opt-in is refused before anything is written, naming when it was done.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Serialize;
use signet_client::{Metadata, OptedIn};

use crate::{
    cmd::credentials::export::{self, ExportTo},
    flags::OptInPlaySigningArgs,
    output, output_file,
    remote::{self, Remote, describe},
};

/// What `--json` prints.
#[derive(Serialize)]
struct Report<'a> {
    app_signing_key_backup: &'a PathBuf,
    password_file: &'a PathBuf,
    key_alias: Option<&'a str>,
    upload_certificate: &'a PathBuf,
    #[serde(flatten)]
    opted_in: &'a OptedIn,
}

/// Runs the opt-in.
pub fn run(args: &OptInPlaySigningArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let remote = Remote::connect(&args.remote)?;
    let details = describe::app(&remote, &target.app)?;
    let slug = details.app.slug.clone();
    if let Some(done) = details
        .play_app_signing
        .iter()
        .find(|p| p.application_id == target.application_id)
    {
        bail!(
            "{} of app {slug} was opted in to Play App Signing on {} (by {}): Google holds \
             keystore {} as its app-signing key, and upload keystore {} signs builds; this is \
             done once",
            done.application_id,
            output::date_ms(done.opted_in_at),
            done.opted_in_by,
            done.app_signing_keystore_id,
            done.upload_keystore_id
        );
    }
    let Some(current) = details
        .build_sets
        .iter()
        .find(|s| s.application_id == target.application_id && s.is_default)
    else {
        bail!(
            "{} of app {slug} has no build set: there is no key to hand to Google (a new app \
             can let Google generate its app-signing key and sign with any upload key)",
            target.application_id
        );
    };
    let records = describe::credentials(&remote, [&current.keystore_id])?;
    let keystore = records.get(&current.keystore_id);
    let extension = match keystore.as_ref().map(|k| &k.metadata) {
        Some(Metadata::AndroidKeystore(m))
            if m.keystore_type == signet_store::metadata::KeystoreFormat::Jks =>
        {
            "jks"
        }
        _ => "p12",
    };
    let stem = format!("{slug}-{}", target.application_id);
    let backup = PathBuf::from(format!("{stem}-app-signing-key.{extension}"));
    let password_file = PathBuf::from(format!("{stem}-app-signing-key.password"));
    let certificate = PathBuf::from(format!("{stem}-upload-certificate.pem"));
    for p in [&backup, &password_file, &certificate] {
        output_file::check_writable(p, false)?;
    }
    eprintln!(
        "Opting {} of app {slug} in to Play App Signing:\n  \
         1. keystore {} (build set `{}`) is written to {} for the Play Console, its passwords \
         to {};\n  \
         2. the server generates a new upload key, the default build set `{}` from now on;\n  \
         3. keystore {} stays on the server, marked as the app-signing key held by Google;\n  \
         4. the upload certificate is written to {}.",
        target.application_id,
        current.keystore_id,
        current.name,
        backup.display(),
        password_file.display(),
        args.build_set,
        current.keystore_id,
        certificate.display()
    );
    remote::confirm("Opt in to Play App Signing", args.yes)?;

    let exported = export::export(
        &remote,
        &current.keystore_id,
        ExportTo {
            out: &backup,
            force: false,
            password_out: Some(&password_file),
            show_secrets: false,
        },
    )?;
    let opted = match remote.block_on(remote.client.opt_in_play_app_signing(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        Some(&args.build_set),
    )) {
        Ok(o) => o,
        Err(e) => {
            // Nothing changed on the server: take the key's copy back too.
            let _ = std::fs::remove_file(&backup);
            let _ = std::fs::remove_file(&password_file);
            return Err(e.into());
        }
    };
    // The default build set may have changed between the export and the opt-in (someone
    // else made another one the default): then the backup is not the key the server now
    // marks as Google's. Say so loudly rather than report a backup of the wrong key.
    if opted.play_app_signing.app_signing_keystore_id != current.keystore_id {
        anyhow::bail!(
            "opted in, but the server marked keystore {} as the app-signing key while the \
             backup written is of {} (the default build set changed meanwhile): export {} \
             with `signet credentials export` and upload that one to the Play Console",
            opted.play_app_signing.app_signing_keystore_id,
            current.keystore_id,
            opted.play_app_signing.app_signing_keystore_id
        );
    }
    output_file::write_atomic(
        &certificate,
        opted.upload_certificate_pem.as_bytes(),
        false,
        false,
    )
    .with_context(|| {
        format!(
            "opted in, but the upload certificate could not be written; `signet keystore \
             upload-cert` on an admin's export of {} makes it",
            opted.upload_keystore.id
        )
    })?;
    if args.output.json {
        return output::json(&Report {
            app_signing_key_backup: &backup,
            password_file: &password_file,
            key_alias: exported.key_alias.as_deref(),
            upload_certificate: &certificate,
            opted_in: &opted,
        });
    }
    let alias = exported.key_alias.as_deref().unwrap_or("(the only key)");
    println!(
        "Opted {} of app {slug} in to Play App Signing.\n\
         App-signing key: keystore {} written to {} (mode 0600), key alias {alias}; its \
         password is on the first line of {} (mode 0600){}.\n  \
         signet writes the keystore itself, not PEPK's encrypted file (that format is not \
         publicly specified): in the Play Console choose \"Export and upload a key from Java \
         keystore\" and run Google's pepk tool on this file, then delete both files once \
         Google has the key.\n\
         Upload key: new keystore {} ({}), the default build set `{}`; its passwords stay \
         on the server.\n\
         Upload certificate: {} (as `keytool -exportcert -rfc` writes it); register it as \
         the upload key in the Play Console.\n\
         Keystore {} stays on the server, marked as the app-signing key held by Google.",
        target.application_id,
        current.keystore_id,
        backup.display(),
        password_file.display(),
        if exported.password_lines > 1 {
            ", the key password on the second"
        } else {
            ""
        },
        opted.upload_keystore.id,
        describe::summary(&opted.upload_keystore),
        opted.build_set.name,
        certificate.display(),
        current.keystore_id
    );
    Ok(())
}
