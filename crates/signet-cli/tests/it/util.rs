//! Test harness: an isolated temporary directory, the signet binary, and the peer tools
//! (keytool, jarsigner, jar, openssl) the suite proves interoperability against.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// An isolated temporary directory for one test.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// File names in the directory, for "no output file was left behind" checks.
    pub fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root())
            .expect("list dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    /// Runs signet in this directory.
    pub fn signet(&self, args: &[&str]) -> Run {
        self.run(env!("CARGO_BIN_EXE_signet"), args)
    }

    /// Runs signet with `stdin` as standard input.
    pub fn signet_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(args)
            .current_dir(self.root())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn signet");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        Run::new(
            "signet",
            args,
            child.wait_with_output().expect("wait signet"),
        )
    }

    /// Runs a peer tool in this directory. The tool must be installed: the suite proves
    /// interoperability with it, so a missing tool is a failure, not a skip (`.ci/run`
    /// installs them).
    pub fn tool(&self, tool: &str, args: &[&str]) -> Run {
        self.run(tool, args)
    }

    fn run(&self, program: &str, args: &[&str]) -> Run {
        let out = Command::new(program)
            .args(args)
            .current_dir(self.root())
            .env("LC_ALL", "C")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `{program}` ({e}); run `scripts/test`, which installs the peer tools")
            });
        Run::new(program, args, out)
    }

    /// A jar with a few entries, built with the JDK's `jar` tool.
    pub fn make_jar(&self, name: &str) -> PathBuf {
        let src = self.path("jar-src");
        std::fs::create_dir_all(src.join("res")).expect("mkdir");
        std::fs::write(src.join("hello.txt"), "hello\n").expect("write");
        std::fs::write(src.join("res/data.bin"), [0u8, 1, 2, 3, 255]).expect("write");
        self.tool("jar", &["cf", name, "-C", "jar-src", "."]).ok();
        self.path(name)
    }
}

/// A finished process.
pub struct Run {
    pub what: String,
    pub out: Output,
}

impl Run {
    fn new(program: &str, args: &[&str], out: Output) -> Run {
        Run {
            what: format!("{program} {}", args.join(" ")),
            out,
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    /// Asserts success and returns standard output.
    pub fn ok(&self) -> String {
        assert!(
            self.out.status.success(),
            "`{}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts the exit code and returns standard error.
    pub fn fails_with(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "`{}`:\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok())
            .unwrap_or_else(|e| panic!("`{}` printed no JSON: {e}", self.what))
    }
}

/// The `SHA1:` and `SHA256:` fingerprints keytool prints for each alias, in order.
pub fn keytool_fingerprints(listing: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut alias = None;
    let mut sha1 = None;
    for line in listing.lines() {
        let line = line.trim();
        if let Some(a) = line.strip_prefix("Alias name: ") {
            alias = Some(a.to_owned());
        } else if let Some(s) = line.strip_prefix("SHA1: ") {
            sha1.get_or_insert_with(|| s.to_owned());
        } else if let Some(s) = line.strip_prefix("SHA256: ") {
            if let (Some(a), Some(s1)) = (alias.take(), sha1.take()) {
                out.push((a, s1, s.to_owned()));
            }
        }
    }
    out
}
