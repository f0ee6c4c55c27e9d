//! Secret arguments in apksigner's syntax: `pass:VALUE`, `env:VAR`, `file:PATH`, `stdin`.
//!
//! A secret is resolved only when a command needs it, and never appears in an error
//! message: errors name the variable or file, not the value.

use std::{
    fmt,
    io::{BufRead, IsTerminal},
    path::PathBuf,
    str::FromStr,
    sync::Mutex,
};

use anyhow::{Context, bail};
use clap::builder::{StringValueParser, TypedValueParser, ValueParserFactory};
use signet_formats::Password;

/// Where a secret comes from.
#[derive(Clone)]
pub enum SecretArg {
    /// `pass:VALUE`: the value itself (visible to other users in the process list).
    Literal(Password),
    /// `env:VAR`: an environment variable.
    Env(String),
    /// `file:PATH`: the first line of a file.
    File(PathBuf),
    /// `stdin`: the next line of standard input.
    Stdin,
    /// Anything else. Kept, not rejected by the parser, so that clap's error message does
    /// not echo what may be a password; [`SecretArg::resolve`] reports it as a usage error
    /// naming the flag (`--store-pass`), known when clap parsed it.
    Invalid { flag: Option<String> },
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretArg::Literal(_) => f.write_str("pass:[redacted]"),
            SecretArg::Env(v) => write!(f, "env:{v}"),
            SecretArg::File(p) => write!(f, "file:{}", p.display()),
            SecretArg::Stdin => f.write_str("stdin"),
            SecretArg::Invalid { .. } => f.write_str("[invalid]"),
        }
    }
}

impl FromStr for SecretArg {
    type Err = String;

    fn from_str(s: &str) -> Result<SecretArg, String> {
        if let Some(v) = s.strip_prefix("pass:") {
            Ok(SecretArg::Literal(Password::new(v)))
        } else if let Some(v) = s.strip_prefix("env:") {
            if v.is_empty() {
                return Err("env: needs a variable name, e.g. env:KEYSTORE_PASSWORD".into());
            }
            Ok(SecretArg::Env(v.to_owned()))
        } else if let Some(v) = s.strip_prefix("file:") {
            if v.is_empty() {
                return Err("file: needs a path, e.g. file:keystore.pass".into());
            }
            Ok(SecretArg::File(PathBuf::from(v)))
        } else if s == "stdin" {
            Ok(SecretArg::Stdin)
        } else {
            Ok(SecretArg::Invalid { flag: None })
        }
    }
}

/// clap's parser of secret flags: [`SecretArg`]'s `FromStr` (and clap's error for its
/// errors, as with any `FromStr` type), with the flag's name kept in an invalid form.
#[derive(Clone)]
pub struct SecretArgParser;

impl TypedValueParser for SecretArgParser {
    type Value = SecretArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SecretArg, clap::Error> {
        let parsed = StringValueParser::new()
            .try_map(|s| s.parse::<SecretArg>())
            .parse_ref(cmd, arg, value)?;
        Ok(match parsed {
            SecretArg::Invalid { .. } => SecretArg::Invalid {
                flag: arg.and_then(clap::Arg::get_long).map(|l| format!("--{l}")),
            },
            other => other,
        })
    }
}

impl ValueParserFactory for SecretArg {
    type Parser = SecretArgParser;

    fn value_parser() -> SecretArgParser {
        SecretArgParser
    }
}

/// Standard input is shared: several `stdin` secrets read successive lines.
static STDIN_LOCK: Mutex<()> = Mutex::new(());

impl SecretArg {
    /// Reads the secret.
    pub fn resolve(&self) -> anyhow::Result<Password> {
        match self {
            // Deliberately does not echo the value: it may be the password itself.
            SecretArg::Invalid { flag } => Err(crate::UsageError(format!(
                "{} must be pass:VALUE, env:VAR, file:PATH or stdin",
                flag.as_deref().unwrap_or("a password argument")
            ))
            .into()),
            SecretArg::Literal(p) => Ok(p.clone()),
            SecretArg::Env(var) => match std::env::var(var) {
                Ok(v) => Ok(Password::new(v)),
                Err(std::env::VarError::NotPresent) => {
                    bail!("environment variable {var} is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("environment variable {var} is not valid UTF-8")
                }
            },
            SecretArg::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read secret file {}", path.display()))?;
                Ok(Password::new(first_line(&text)))
            }
            SecretArg::Stdin => {
                let _guard = STDIN_LOCK
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let stdin = std::io::stdin();
                if stdin.is_terminal() {
                    let p = rpassword::prompt_password("Password: ")
                        .context("cannot read the password from the terminal")?;
                    return Ok(Password::new(p));
                }
                let mut line = String::new();
                let n = stdin
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read standard input")?;
                if n == 0 {
                    bail!("standard input ended before a secret was read");
                }
                Ok(Password::new(first_line(&line)))
            }
        }
    }
}

/// Resolves an optional secret; with none given, asks on a terminal (like keytool) when
/// `prompt` is set, and otherwise returns `None`.
pub fn resolve_or_prompt(
    arg: Option<&SecretArg>,
    prompt: Option<&str>,
) -> anyhow::Result<Option<Password>> {
    if let Some(arg) = arg {
        return arg.resolve().map(Some);
    }
    match prompt {
        Some(prompt) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            let p = rpassword::prompt_password(prompt)
                .context("cannot read the password from the terminal")?;
            Ok(Some(Password::new(p)))
        }
        _ => Ok(None),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert!(matches!("pass:x".parse(), Ok(SecretArg::Literal(p)) if p.expose() == "x"));
        assert!(matches!("pass:".parse(), Ok(SecretArg::Literal(p)) if p.expose().is_empty()));
        assert!(matches!("env:V".parse(), Ok(SecretArg::Env(v)) if v == "V"));
        assert!(matches!("file:/p".parse(), Ok(SecretArg::File(p)) if p.as_os_str() == "/p"));
        assert!(matches!("stdin".parse(), Ok(SecretArg::Stdin)));
    }

    #[test]
    fn rejects_bare_values_without_echoing_them() {
        let arg = "hunter2".parse::<SecretArg>().unwrap();
        let err = arg.resolve().unwrap_err().to_string();
        assert!(err.contains("pass:VALUE"), "{err}");
        assert!(!err.contains("hunter2"));
        assert!("env:".parse::<SecretArg>().is_err());
        assert!("file:".parse::<SecretArg>().is_err());
    }

    #[test]
    fn debug_hides_literals() {
        let arg: SecretArg = "pass:hunter2".parse().unwrap();
        assert_eq!(format!("{arg:?}"), "pass:[redacted]");
    }

    #[test]
    fn file_secret_is_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        let arg = SecretArg::File(path);
        assert_eq!(arg.resolve().unwrap().expose(), "s3cret");
    }
}
