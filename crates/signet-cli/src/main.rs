//! The `signet` binary: parses flags, calls the library crates, maps errors to exit codes.
//!
//! Exit codes (SPEC §2): 0 ok; 1 error (one `error: …` line on stderr, and a `hint: …` line
//! where one helps); 2 usage error; 3 a check or verification found problems.

mod cmd;
mod flags;
mod output;
mod output_file;
mod remote;
mod secret_arg;

use std::process::ExitCode;

use clap::Parser;
use signet_formats::FormatError;

use signet_sign::apk::ArchiveKind;

use crate::flags::{
    AdminCommand, ApkCommand, AppCommand, ArchiveCommand, BuildCredentialsCommand, Cli, Command,
    IosCommand, IpaCommand, KeystoreCommand,
};

/// A command was used wrongly in a way clap cannot see (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keystore(KeystoreCommand::Generate(args)) => cmd::keystore::generate(&args),
        Command::Keystore(KeystoreCommand::Inspect(args)) => cmd::keystore::inspect(&args),
        Command::Keystore(KeystoreCommand::UploadCert(args)) => cmd::keystore::upload_cert(&args),
        Command::Keystore(KeystoreCommand::Convert(args)) => cmd::keystore::convert(&args),
        Command::Keystore(KeystoreCommand::Passwd(args)) => cmd::keystore::passwd(&args),
        Command::Keystore(KeystoreCommand::Rename(args)) => cmd::keystore::rename(&args),
        Command::Keystore(KeystoreCommand::Delete(args)) => cmd::keystore::delete(&args),
        Command::Keystore(KeystoreCommand::Import(args)) => cmd::keystore::import(&args),
        Command::Apk(ApkCommand::Sign(args)) => cmd::archive::sign(&args, ArchiveKind::Apk),
        Command::Apk(ApkCommand::Verify(args)) => cmd::archive::verify(&args, ArchiveKind::Apk),
        Command::Apk(ApkCommand::Rotate(args)) => cmd::archive::rotate(&args),
        Command::Apk(ApkCommand::Lineage(args)) => cmd::archive::lineage(&args),
        Command::Aab(ArchiveCommand::Sign(args)) => cmd::archive::sign(&args, ArchiveKind::Aab),
        Command::Aab(ArchiveCommand::Verify(args)) => cmd::archive::verify(&args, ArchiveKind::Aab),
        Command::Ios(IosCommand::ApnsToken(args)) => cmd::ios::apns_token(&args),
        Command::Ios(IosCommand::Check(args)) => cmd::ios::check(&args),
        Command::Ios(IosCommand::Csr(args)) => cmd::ios::csr(&args),
        Command::Ios(IosCommand::P12(args)) => cmd::ios::p12(&args),
        Command::Ios(IosCommand::Setup(args)) => cmd::apple::setup::run(&args),
        Command::Ios(IosCommand::Doctor(args)) => cmd::apple::doctor(&args),
        Command::Ios(IosCommand::Device(c)) => cmd::apple::device(&c),
        Command::Ios(IosCommand::Certificate(c)) => cmd::apple::certificate(&c),
        Command::Ipa(IpaCommand::Sign(args)) => cmd::ipa::sign(&args),
        Command::Ipa(IpaCommand::Verify(args)) => cmd::ipa::verify(&args),
        Command::Admin(AdminCommand::RotateKey(args)) => cmd::admin::rotate_key(&args),
        Command::Admin(AdminCommand::Rewrap(args)) => cmd::admin::rewrap(&args),
        Command::Admin(AdminCommand::RemoveKey(args)) => cmd::admin::remove_key(&args),
        Command::Admin(AdminCommand::CreateUser(args)) => cmd::admin::create_user(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Inspect(args) => cmd::inspect::run(&args),
        Command::Login(args) => cmd::session::login(&args),
        Command::Logout(args) => cmd::session::logout(&args),
        Command::Whoami(args) => cmd::session::whoami(&args),
        Command::App(AppCommand::List(args)) => cmd::app::list(&args),
        Command::App(AppCommand::Create(args)) => cmd::app::create(&args),
        Command::Credentials(args) => cmd::credentials::run(&args),
        Command::Robot(c) => cmd::team::robot(&c),
        Command::Member(c) => cmd::team::member(&c),
        Command::Audit(args) => cmd::team::audit(&args),
        Command::BuildCredentials(BuildCredentialsCommand::Fetch(args)) => {
            cmd::build_credentials::fetch(&args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

fn report(err: &anyhow::Error) -> ExitCode {
    // A verification that ran and found problems has printed them already.
    if err
        .downcast_ref::<cmd::archive::VerificationFailed>()
        .is_some()
    {
        return ExitCode::from(3);
    }
    // A closed pipe (`signet … | head`) is not an error worth a message.
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    // One line: the context chain joined, outermost first. An error that shows its source
    // in its own message and also returns it from `source()` (so that hints can find it)
    // would repeat it: a message the previous one already ends with is left out.
    let mut message: Vec<String> = Vec::new();
    for e in err.chain() {
        let text = e.to_string();
        if message.last().is_none_or(|last| !last.ends_with(&text)) {
            message.push(text);
        }
    }
    eprintln!("error: {}", message.join(": "));
    if let Some(hint) = hint(err) {
        eprintln!("hint: {hint}");
    }
    if err.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

fn hint(err: &anyhow::Error) -> Option<std::borrow::Cow<'static, str>> {
    if let Some(client) = err
        .chain()
        .find_map(|e| e.downcast_ref::<signet_client::ClientError>())
    {
        return remote::hint(client).map(Into::into);
    }
    hint_local(err).map(Into::into)
}

fn hint_local(err: &anyhow::Error) -> Option<&'static str> {
    if err.downcast_ref::<output_file::OutputExists>().is_some() {
        return Some("pass --force to overwrite it, or choose another --out");
    }
    if let Some(signet_store::StoreError::KeyFileNeeded { .. }) = err
        .chain()
        .find_map(|e| e.downcast_ref::<signet_store::StoreError>())
    {
        return Some(
            "copy master.key back from a backup of the data dir (mode 0600); a new key could \
             not open those secrets, so signet makes none for a database that holds any",
        );
    }
    let format_err = err.chain().find_map(|e| e.downcast_ref::<FormatError>())?;
    Some(match format_err {
        FormatError::WrongStorePassword => {
            "check the store password, --store-pass or --ks-pass (keytool reports this as \"Keystore was tampered with, or password was incorrect\")"
        }
        FormatError::WrongKeyPassword { .. } => {
            "the key password defaults to the store password; pass the key's own with --key-pass"
        }
        FormatError::StorePasswordRequired => {
            "give the store password (--store-pass, --ks-pass or --pass) as pass:VALUE, env:VAR, file:PATH or stdin"
        }
        FormatError::AmbiguousAlias { .. } => "choose one with --alias",
        FormatError::Truncated { .. } => "the file may have been cut short in a download or copy",
        _ => return None,
    })
}
