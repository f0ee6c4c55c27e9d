//! `signet serve` as processes: first-run setup, two replicas on one PostgreSQL, `kill -9`
//! during uploads (some cut in the middle of their bodies), key rotation and rewrap under
//! load, bad uploads, logs without secrets, and the flags (`--max-*`,
//! `--restore-window-days`, `--log-format json`). Each test starts real servers on free loopback ports, each with its own data
//! dir (and, on PostgreSQL, a fresh database), captures their output to files, and kills
//! them when it ends. PostgreSQL at 127.0.0.1:5432 (`SIGNET_TEST_POSTGRES_URL` overrides)
//! must be reachable: these tests fail, never skip, without it.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{Read as _, Write as _},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Barrier, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{
    ios,
    util::{Dir, Run},
};

// ---------------------------------------------------------------------------------------
// Randomness and encodings

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    b
}

fn random_hex() -> String {
    random_bytes(6).iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {text}"))
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Waits for `done`, failing after a minute (a hang, not a slow machine).
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// A tiny HTTP/1.1 client: one connection per request, `Connection: close`.

/// A server's answer.
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts the status and returns the JSON body (`null` when empty).
    pub(crate) fn expect(&self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: {}", self.text());
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an `application/problem+json` error of this status and returns it.
    pub(crate) fn problem(&self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{what}: {}",
            self.text()
        );
        let v = self.json();
        assert_eq!(v["status"], status, "{what}: {v}");
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
        v
    }
}

pub(crate) fn problem_type(v: &Value) -> &str {
    v["type"].as_str().unwrap_or_default()
}

fn dechunk(mut b: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "bad chunked body");
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let line = std::str::from_utf8(&b[..nl]).map_err(|_| bad())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err(bad());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no complete response head"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("response head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if rest.len() < len {
            return Err(bad("truncated body"));
        }
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(&body);
    stream.write_all(&message)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: a fresh database per test.

fn postgres_url() -> String {
    std::env::var("SIGNET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn postgres_admin<T>(
    f: impl AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&postgres_url()).await?;
        let out = f(&mut conn).await;
        let _ = conn.close().await;
        out
    })
}

/// A database of its own on the test server, dropped at the end (best effort).
struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        let base = postgres_url();
        let name = format!("signet_test_{}", random_hex());
        let sql = format!("CREATE DATABASE {name}");
        postgres_admin(async |conn| sqlx::query(&sql).execute(conn).await.map(|_| ()))
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {base} is required for these tests (scripts/test starts it): {e}"
                )
            });
        let (prefix, _) = base.rsplit_once('/').expect("a database URL");
        PgDatabase {
            url: format!("{prefix}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = postgres_admin(async |conn| sqlx::query(&sql).execute(conn).await.map(|_| ()));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

// ---------------------------------------------------------------------------------------
// Servers and the site they run in.

/// A running `signet serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    addr: String,
    pub(crate) log: PathBuf,
}

impl Server {
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> std::io::Result<Response> {
        request(&self.addr, method, path, token, headers, body)
    }

    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        self.try_send(method, path, token, headers, body)
            .unwrap_or_else(|e| {
                panic!(
                    "{method} {path} on {}: {e}\nserver log:\n{}",
                    self.addr,
                    self.log_text()
                )
            })
    }

    pub(crate) fn get(&self, path: &str, token: &str) -> Response {
        self.send("GET", path, Some(token), &[], None)
    }

    pub(crate) fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send("POST", path, token, &[], Some(body))
    }

    /// `kill -9`.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for `/healthz`; `Err` when the process exited first.
    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Err(format!("exited ({status}):\n{}", self.log_text()));
            }
            if let Ok(r) = request(&self.addr, "GET", "/healthz", None, &[], None)
                && r.status == 200
            {
                assert_eq!(r.text(), "ok");
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not healthy after 60 s:\n{}", self.log_text()));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on the loopback interface (free when asked; `start` retries if another
/// process takes it meanwhile).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// An organization and its owner's session token.
pub(crate) struct Org {
    pub(crate) id: String,
    pub(crate) token: String,
}

/// A PKCS#12 keystore made by `signet keystore generate`.
pub(crate) struct Keystore {
    pub(crate) bytes: Vec<u8>,
    b64: String,
    password: String,
}

impl Keystore {
    pub(crate) fn upload(&self) -> Value {
        json!({ "type": "android-keystore", "keystore": self.b64, "store_password": self.password })
    }
}

/// One deployment under test: a temporary directory holding the data dirs, fixtures and
/// server logs, the database (SQLite in a data dir, or a fresh PostgreSQL database), the
/// master key when it comes from `SIGNET_MASTER_KEY`, and every secret the test used,
/// none of which may appear in a log.
pub(crate) struct Site {
    pub(crate) dir: Dir,
    pg: Option<PgDatabase>,
    master_key: Option<String>,
    logs: Mutex<Vec<PathBuf>>,
    secrets: Mutex<Vec<String>>,
    started: AtomicUsize,
}

impl Site {
    pub(crate) fn new(backend: Backend) -> Site {
        Site {
            dir: Dir::new(),
            pg: (backend == Backend::Postgres).then(PgDatabase::create),
            master_key: None,
            logs: Mutex::new(Vec::new()),
            secrets: Mutex::new(Vec::new()),
            started: AtomicUsize::new(0),
        }
    }

    /// Every server and admin command gets `SIGNET_MASTER_KEY=k1:<32 random bytes>`.
    fn with_master_key_env(mut self) -> Site {
        let key = b64(&random_bytes(32));
        self.secret(&key);
        self.master_key = Some(format!("k1:{key}"));
        self
    }

    pub(crate) fn secret(&self, value: &str) {
        self.secrets.lock().unwrap().push(value.to_owned());
    }

    /// A new password, remembered as a secret.
    pub(crate) fn password(&self, what: &str) -> String {
        let p = format!("{what}-pw-{}", random_hex());
        self.secret(&p);
        p
    }

    /// The base64 lines of a PEM file, each a secret.
    fn pem_secret(&self, pem: &str) {
        self.secret(pem);
        for line in pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        {
            self.secret(line);
        }
    }

    /// `--data-dir D` and, on PostgreSQL, `--database-url`.
    pub(crate) fn store_args(&self, data: &str) -> Vec<String> {
        let mut v = vec!["--data-dir".to_owned(), data.to_owned()];
        if let Some(pg) = &self.pg {
            v.extend(["--database-url".to_owned(), pg.url.clone()]);
        }
        v
    }

    /// signet with the site's environment only.
    pub(crate) fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
        cmd.args(args)
            .current_dir(self.dir.root())
            .env("LC_ALL", "C");
        for var in [
            "SIGNET_MASTER_KEY",
            "SIGNET_DATABASE_URL",
            "SIGNET_DATA_DIR",
            "SIGNET_LISTEN",
        ] {
            cmd.env_remove(var);
        }
        if let Some(key) = &self.master_key {
            cmd.env("SIGNET_MASTER_KEY", key);
        }
        cmd
    }

    fn signet(&self, args: &[String]) -> Run {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run signet");
        Run {
            what: format!("signet {}", args.join(" ")),
            out,
        }
    }

    /// `signet admin <args>` on a data dir (and the site's database).
    pub(crate) fn admin(&self, command: &str, data: &str, args: &[&str]) -> Run {
        let mut full = vec!["admin".to_owned(), command.to_owned()];
        full.extend(self.store_args(data));
        full.extend(args.iter().map(|s| (*s).to_owned()));
        self.signet(&full)
    }

    /// `signet admin rotate-key --json` on a data dir's key file (and the site's
    /// database, which it checks the new id against).
    pub(crate) fn rotate_key(&self, data: &str, key_id: &str) -> Run {
        self.admin("rotate-key", data, &["--key-id", key_id, "--json"])
    }

    /// Starts `signet serve` on the data dir `data` and waits for `/healthz`.
    pub(crate) fn start(&self, data: &str) -> Server {
        self.start_with(data, &[])
    }

    /// [`Site::start`] with more `serve` flags.
    pub(crate) fn start_with(&self, data: &str, extra: &[&str]) -> Server {
        for attempt in 0.. {
            let n = self.started.fetch_add(1, Ordering::SeqCst);
            let log = self.dir.path(&format!("serve-{n}.log"));
            let file = std::fs::File::create(&log).expect("create log file");
            let addr = format!("127.0.0.1:{}", free_port());
            let mut args = vec!["serve".to_owned(), "--listen".to_owned(), addr.clone()];
            args.extend(self.store_args(data));
            args.extend(extra.iter().map(|a| (*a).to_owned()));
            let child = self
                .command(&args)
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("dup log file"))
                .stderr(file)
                .spawn()
                .expect("spawn signet serve");
            self.logs.lock().unwrap().push(log.clone());
            let mut server = Server { child, addr, log };
            match server.wait_healthy() {
                Ok(()) => return server,
                // Another process took the port between asking and binding.
                Err(e) if e.contains("cannot listen") && attempt < 5 => {}
                Err(e) => panic!("signet serve --data-dir {data}: {e}"),
            }
        }
        unreachable!()
    }

    /// `signet admin create-user`; with `org`, the owner of a new organization.
    pub(crate) fn create_user(
        &self,
        data: &str,
        email: &str,
        password: &str,
        org: Option<&str>,
    ) -> Value {
        let pass = format!("pass:{password}");
        let mut args = vec!["--email", email, "--password", &pass, "--json"];
        if let Some(org) = org {
            args.extend(["--owner", "--org", org]);
        }
        self.admin("create-user", data, &args).json()
    }

    fn login(&self, server: &Server, email: &str, password: &str) -> String {
        let v = server
            .post(
                "/v1/auth/login",
                None,
                &json!({ "email": email, "password": password }),
            )
            .expect(201, "login");
        let token = v["token"].as_str().expect("a token").to_owned();
        assert!(token.starts_with("sgu_") && token.len() == 36, "{token}");
        self.secret(&token);
        token
    }

    /// Bootstraps Acme's owner with `signet admin create-user --owner` and logs in.
    pub(crate) fn owner(&self, server: &Server, data: &str) -> Org {
        let password = self.password("owner");
        let v = self.create_user(data, "owner@acme.test", &password, Some("Acme"));
        assert_eq!(v["org"]["name"], "Acme", "{v}");
        Org {
            id: v["org"]["id"].as_str().expect("org id").to_owned(),
            token: self.login(server, "owner@acme.test", &password),
        }
    }

    /// A user added to the organization with `role`; returns their session token.
    fn member(&self, server: &Server, data: &str, org: &Org, email: &str, role: &str) -> String {
        let password = self.password(role);
        self.create_user(data, email, &password, None);
        let v = server
            .send(
                "PUT",
                &format!("/v1/orgs/{}/members", org.id),
                Some(&org.token),
                &[],
                Some(&json!({ "email": email, "role": role })),
            )
            .expect(200, "add member");
        assert_eq!(v["role"], role, "{v}");
        self.login(server, email, &password)
    }

    /// `n` EC PKCS#12 keystores, each with its own store password.
    pub(crate) fn keystores(&self, n: usize, tag: &str) -> Vec<Keystore> {
        let made: Vec<Keystore> = thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    s.spawn(move || {
                        let password = format!("store-{tag}{i}-{}", random_hex());
                        let out = format!("{tag}-{i}.p12");
                        self.dir
                            .signet(&[
                                "keystore",
                                "generate",
                                "--out",
                                &out,
                                "--store-pass",
                                &format!("pass:{password}"),
                                "--key-alg",
                                "ec",
                                "--force",
                            ])
                            .ok();
                        let bytes = self.dir.read(&out);
                        Keystore {
                            b64: b64(&bytes),
                            bytes,
                            password,
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for k in &made {
            self.secret(&k.b64);
            self.secret(&k.password);
        }
        made
    }

    /// Asserts that no secret the test used (passwords, tokens, keys, files) appears in
    /// any server's captured output, whole or as a 32-character piece of a long one.
    pub(crate) fn assert_no_secrets_in_logs(&self) {
        let logs = self.logs.lock().unwrap().clone();
        let secrets = self.secrets.lock().unwrap().clone();
        assert!(!logs.is_empty() && !secrets.is_empty());
        let mut requests_logged = 0;
        for log in &logs {
            let text = std::fs::read_to_string(log).expect("read server log");
            // Text lines say `status=200`, JSON lines `"status":200`.
            requests_logged +=
                text.matches("status=").count() + text.matches("\"status\":").count();
            for secret in &secrets {
                let mut needles = vec![secret.as_str()];
                if secret.len() > 64 {
                    needles.extend(
                        (0..secret.len() - 32)
                            .step_by(32)
                            .filter_map(|i| secret.get(i..i + 32)),
                    );
                }
                for needle in needles {
                    if let Some(at) = text.find(needle) {
                        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                        let line = text[line_start..].lines().next().unwrap_or_default();
                        panic!(
                            "a secret ({}…, {} characters) is in {}:\n{line}",
                            secret.get(..8).unwrap_or(secret),
                            secret.len(),
                            log.display()
                        );
                    }
                }
            }
        }
        // The check means something only if requests were logged at all.
        assert!(requests_logged > 0, "no request was logged");
    }
}

/// Every item of a paginated list (`credentials`, `audit`), following cursors.
pub(crate) fn list_all(server: &Server, token: &str, org: &str, what: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/orgs/{org}/{what}?limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let v = server.get(&path, token).expect(200, &path);
        items.extend(v["items"].as_array().expect("items").iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

pub(crate) fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The current key id of a key file.
pub(crate) fn current_key_id(key_file: &std::path::Path) -> String {
    let file: Value = serde_json::from_slice(&std::fs::read(key_file).expect("read key file"))
        .expect("a JSON key file");
    file["current"].as_str().expect("a current key").to_owned()
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// 1. First run: the setup token.

fn bootstrap(backend: Backend) {
    let site = Site::new(backend);
    let mut server = site.start("data");
    let token_file = site.dir.path("data/setup-token");
    assert_eq!(mode(&token_file), 0o600, "setup-token");
    assert_eq!(mode(&site.dir.path("data/master.key")), 0o600, "master.key");
    assert_eq!(mode(&site.dir.path("data")), 0o700, "data dir");
    let setup_token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        setup_token.starts_with("sgs_") && setup_token.len() == 36,
        "{setup_token}"
    );
    site.secret(&setup_token);
    let password = site.password("first");

    // Nobody can log in yet.
    let v = server
        .post(
            "/v1/auth/login",
            None,
            &json!({ "email": "first@acme.test", "password": password }),
        )
        .problem(401, "login before setup");
    assert!(problem_type(&v).ends_with("/unauthenticated"), "{v}");

    let body = json!({
        "setup_token": setup_token,
        "email": "first@acme.test",
        "password": password,
        "org": "Acme",
    });
    let v = server.post("/v1/setup", None, &body).expect(201, "setup");
    assert_eq!(v["user"]["email"], "first@acme.test", "{v}");
    assert_eq!(v["org"]["name"], "Acme", "{v}");
    assert_eq!(v["org"]["role"], "owner", "{v}");
    let org = id_of(&v["org"]);

    // Setup is over: the same request, or another user, is refused.
    let v = server
        .post("/v1/setup", None, &body)
        .problem(410, "setup token reused");
    assert!(problem_type(&v).ends_with("/setup-closed"), "{v}");
    let other = json!({
        "setup_token": setup_token,
        "email": "intruder@evil.test",
        "password": "intruder-password",
        "org": "Evil",
    });
    server
        .post("/v1/setup", None, &other)
        .problem(410, "setup token reused by someone else");

    // The first user owns the organization.
    let token = site.login(&server, "first@acme.test", &password);
    let me = server.get("/v1/me", &token).expect(200, "me");
    assert_eq!(me["kind"], "user", "{me}");
    assert_eq!(me["orgs"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["orgs"][0]["id"], org.as_str(), "{me}");
    assert_eq!(me["orgs"][0]["role"], "owner", "{me}");
    let v = server
        .get(&format!("/v1/orgs/{org}"), &token)
        .expect(200, "org");
    assert_eq!(v["name"], "Acme");

    // A restart issues no new token and the old one stays spent.
    let token_before = std::fs::read(&token_file).ok();
    server.kill();
    let server = site.start("data");
    assert_eq!(std::fs::read(&token_file).ok(), token_before);
    server
        .post("/v1/setup", None, &body)
        .problem(410, "setup token after restart");
    server.get("/v1/me", &token).expect(200, "session survives");
    assert_eq!(mode(&site.dir.path("data/master.key")), 0o600, "master.key");
    site.assert_no_secrets_in_logs();
}

#[test]
fn bootstrap_on_sqlite() {
    bootstrap(Backend::Sqlite);
}

#[test]
fn bootstrap_on_postgres() {
    bootstrap(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------
// 2. Two replicas on one PostgreSQL.

#[test]
fn two_replicas_on_postgres() {
    let site = Site::new(Backend::Postgres).with_master_key_env();
    // One after the other (`replicas_start_together_on_postgres` starts them at once).
    let a = site.start("a");
    let b = site.start("b");
    for data in ["a", "b"] {
        assert!(
            !site.dir.exists(&format!("{data}/master.key")),
            "SIGNET_MASTER_KEY is set: no key file"
        );
    }
    let org = site.owner(&a, "a");
    let admin = site.member(&b, "b", &org, "admin@acme.test", "admin");

    // A write through A is read through B.
    let server_key = format!("AAAA{}{}", random_hex(), random_hex());
    site.secret(&server_key);
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let r = a.post(
        &creds,
        Some(&org.token),
        &json!({ "type": "fcm-legacy-key", "server_key": server_key }),
    );
    let created = r.expect(201, "upload through A");
    assert_eq!(r.header("etag"), Some("\"1\""));
    let id = id_of(&created);
    let path = format!("{creds}/{id}");
    let r = b.get(&path, &admin);
    let got = r.expect(200, "read through B");
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(got["type"], "fcm-legacy-key");
    assert_eq!(got["name"], created["name"]);
    assert_eq!(got["version"], 1);
    let listed = list_all(&b, &admin, &org.id, "credentials");
    assert_eq!(
        listed.iter().map(id_of).collect::<Vec<_>>(),
        vec![id.clone()]
    );
    let secret = b
        .get(&format!("{path}/secret"), &admin)
        .expect(200, "export through B");
    assert_eq!(secret["secret"]["server_key"], server_key.as_str());

    // 50 concurrent If-Match renames per version, through both: one wins each round.
    let mut winners = Vec::new();
    for round in 0..5 {
        let version = round + 1;
        let if_match = format!("\"{version}\"");
        let barrier = Barrier::new(50);
        let results: Vec<(usize, Response)> = thread::scope(|s| {
            let handles: Vec<_> = (0..50)
                .map(|i| {
                    let server = if i % 2 == 0 { &a } else { &b };
                    let (barrier, path, if_match, token) = (&barrier, &path, &if_match, &org.token);
                    s.spawn(move || {
                        let body = json!({ "name": format!("r{round}-w{i}") });
                        barrier.wait();
                        let r = server.send(
                            "PATCH",
                            path,
                            Some(token),
                            &[("If-Match", if_match)],
                            Some(&body),
                        );
                        (i, r)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let statuses: BTreeMap<u16, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.1.status).or_default() += 1;
            m
        });
        let unexpected: Vec<String> = results
            .iter()
            .filter(|(_, r)| r.status != 200 && r.status != 412)
            .map(|(i, r)| format!("w{i}: {} {}", r.status, r.text()))
            .collect();
        assert_eq!(
            statuses,
            BTreeMap::from([(200, 1), (412, 49)]),
            "round {round}: {unexpected:#?}"
        );
        let mut winner = None;
        for (i, r) in &results {
            if r.status == 200 {
                let v = r.json();
                assert_eq!(v["version"], version + 1, "{v}");
                assert_eq!(v["name"], format!("r{round}-w{i}"), "{v}");
                assert_eq!(
                    r.header("etag"),
                    Some(format!("\"{}\"", version + 1).as_str())
                );
                winner = Some(format!("r{round}-w{i}"));
            } else {
                let p = r.problem(412, "stale rename");
                assert!(problem_type(&p).ends_with("/stale"), "{p}");
            }
        }
        let winner = winner.unwrap();
        for (server, token) in [(&a, &org.token), (&b, &admin)] {
            let r = server.get(&path, token);
            let v = r.expect(200, "read after the round");
            assert_eq!(v["version"], version + 1, "{v}");
            assert_eq!(v["name"], winner.as_str(), "{v}");
            assert_eq!(
                r.header("etag"),
                Some(format!("\"{}\"", version + 1).as_str())
            );
        }
        winners.push(winner);
    }
    // The secret survived the renames, readable through both.
    for server in [&a, &b] {
        let v = server
            .get(&format!("{path}/secret"), &admin)
            .expect(200, "export after renames");
        assert_eq!(v["secret"]["server_key"], server_key.as_str());
    }

    // The audit log holds exactly the five winning renames, newest first.
    let audit = list_all(&b, &admin, &org.id, "audit");
    let renames: Vec<&Value> = audit
        .iter()
        .filter(|r| r["action"] == "credential.rename")
        .collect();
    assert_eq!(renames.len(), 5, "{audit:?}");
    let mut names: Vec<String> = renames
        .iter()
        .map(|r| {
            assert_eq!(r["target"], id.as_str(), "{r}");
            let detail: Value = serde_json::from_str(r["detail"].as_str().unwrap()).unwrap();
            detail["name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.reverse();
    assert_eq!(names, winners);
    let creates = audit
        .iter()
        .filter(|r| r["action"] == "credential.create")
        .count();
    assert_eq!(creates, 1, "{audit:?}");
    drop((a, b));
    site.assert_no_secrets_in_logs();
}

/// Replicas started at the same moment on a fresh database all come up (the migrations
/// take turns), and the first-run setup can be completed once, not more.
#[test]
fn replicas_start_together_on_postgres() {
    for round in 0..3 {
        let site = Site::new(Backend::Postgres).with_master_key_env();
        let dirs = ["a", "b", "c", "d"];
        let barrier = Barrier::new(dirs.len());
        let barrier = &barrier;
        let servers: Vec<Server> = thread::scope(|s| {
            let handles: Vec<_> = dirs
                .iter()
                .map(|d| {
                    let site = &site;
                    s.spawn(move || {
                        barrier.wait();
                        site.start(d)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| panic!("round {round}: a replica did not start"))
                })
                .collect()
        });
        let mut created = 0;
        for (i, d) in dirs.iter().enumerate() {
            let Ok(token) = std::fs::read_to_string(site.dir.path(&format!("{d}/setup-token")))
            else {
                continue;
            };
            site.secret(token.trim());
            let password = site.password("first");
            let r = servers[i].post(
                "/v1/setup",
                None,
                &json!({
                    "setup_token": token.trim(),
                    "email": format!("first-{d}@acme.test"),
                    "password": password,
                    "org": "Acme",
                }),
            );
            if r.status == 201 {
                created += 1;
            } else {
                r.problem(401, "a second setup");
            }
        }
        assert_eq!(created, 1, "round {round}: setups completed");
        drop(servers);
        site.assert_no_secrets_in_logs();
    }
}

// ---------------------------------------------------------------------------------------
// 3. kill -9 during uploads.

/// An upload whose headers and first half of the body are sent, the rest never: the
/// server is reading it until the connection goes.
fn start_slow_upload(addr: &str, path: &str, token: &str, body: &Value) -> TcpStream {
    let body = body.to_string().into_bytes();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("send headers");
    stream
        .write_all(&body[..body.len() / 2])
        .expect("send half the body");
    stream
}

/// Asserts that the server has not answered on `stream` and has not closed it.
fn assert_unanswered(stream: &mut TcpStream, what: &str) {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok(0) => panic!("{what}: the server closed the connection"),
        Ok(n) => panic!(
            "{what}: the server answered: {}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) => panic!("{what}: {e}"),
    }
    stream.set_nonblocking(false).unwrap();
}

fn kill_9_during_uploads(backend: Backend) {
    let site = Site::new(backend);
    let mut keystores = site.keystores(33, "k");
    // Three uploads are cut in the middle of their bodies by the kill.
    let slow_keystores = keystores.split_off(30);
    let mut server = site.start("data");
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let mut slow: Vec<TcpStream> = slow_keystores
        .iter()
        .map(|ks| start_slow_upload(&server.addr, &creds, &org.token, &ks.upload()))
        .collect();

    let addr = server.addr.clone();
    let answered: Mutex<Vec<(usize, Response)>> = Mutex::new(Vec::new());
    let finished = AtomicUsize::new(0);
    let barrier = Barrier::new(keystores.len() + 1);
    thread::scope(|s| {
        for (i, ks) in keystores.iter().enumerate() {
            let (barrier, addr, creds, token) = (&barrier, &addr, &creds, &org.token);
            let (answered, finished) = (&answered, &finished);
            s.spawn(move || {
                let body = ks.upload();
                barrier.wait();
                // A connection cut by the kill is an error here, not a failure.
                if let Ok(r) = request(addr, "POST", creds, Some(token), &[], Some(&body)) {
                    answered.lock().unwrap().push((i, r));
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        barrier.wait();
        // Kill once a third of the uploads are answered, with the others in flight (some
        // validating, some committing).
        wait_for("the first answers", || {
            answered.lock().unwrap().len() >= 10 || finished.load(Ordering::SeqCst) == 30
        });
        for (i, stream) in slow.iter_mut().enumerate() {
            assert_unanswered(stream, &format!("slow upload {i} just before the kill"));
        }
        server.kill();
    });
    // The slow uploads were in flight: the kill cut them, unanswered.
    for (i, stream) in slow.iter_mut().enumerate() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(
            rest.is_empty(),
            "slow upload {i} was answered: {}",
            String::from_utf8_lossy(&rest)
        );
    }
    let answered = answered.into_inner().unwrap();
    eprintln!(
        "kill -9 ({backend:?}): {} of {} uploads answered before the kill",
        answered.len(),
        keystores.len()
    );

    let server = site.start("data");
    let listed = list_all(&server, &org.token, &org.id, "credentials");
    eprintln!(
        "kill -9 ({backend:?}): {} credentials after the restart",
        listed.len()
    );
    let ids: BTreeSet<String> = listed.iter().map(id_of).collect();
    assert_eq!(ids.len(), listed.len());
    assert!(listed.len() <= keystores.len());
    // Every upload the client saw succeed is there, with its own file.
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in &answered {
        let v = r.expect(201, "upload answered before the kill");
        assert!(ids.contains(&id_of(&v)), "{v} lost after kill -9");
        expected.insert(id_of(&v), *i);
    }
    // Every credential there is whole: it decrypts to one of the uploaded keystores.
    for c in &listed {
        assert_eq!(c["type"], "android-keystore", "{c}");
        let id = id_of(c);
        let v = server
            .get(&format!("{creds}/{id}/secret"), &org.token)
            .expect(200, "export after kill -9");
        let bytes = unb64(v["secret"]["keystore"].as_str().unwrap());
        assert!(
            slow_keystores.iter().all(|k| k.bytes != bytes),
            "{id} holds an upload the kill cut in the middle of its body"
        );
        let i = keystores
            .iter()
            .position(|k| k.bytes == bytes)
            .unwrap_or_else(|| panic!("{id} decrypts to a keystore that was never uploaded"));
        assert_eq!(
            v["secret"]["store_password"],
            keystores[i].password.as_str()
        );
        if let Some(&j) = expected.get(&id) {
            assert_eq!(i, j, "{id} holds another upload's keystore");
        }
    }
    // The audit log agrees: one create record per credential there, and none for others.
    let audit = list_all(&server, &org.token, &org.id, "audit");
    let created: Vec<String> = audit
        .iter()
        .filter(|r| r["action"] == "credential.create")
        .map(|r| r["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created.len(), ids.len(), "{created:?}");
    assert_eq!(created.into_iter().collect::<BTreeSet<_>>(), ids);
    // The restarted server takes uploads.
    server
        .post(&creds, Some(&org.token), &keystores[0].upload())
        .expect(201, "upload after restart");
    drop(server);
    site.assert_no_secrets_in_logs();
}

#[test]
fn kill_9_during_uploads_on_sqlite() {
    kill_9_during_uploads(Backend::Sqlite);
}

#[test]
fn kill_9_during_uploads_on_postgres() {
    kill_9_during_uploads(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------
// 4. rotate-key, rewrap and remove-key while requests run.

/// Clients uploading keystores and exporting them again, recording every failure.
struct Load<'a> {
    server: &'a Server,
    creds: &'a str,
    token: &'a str,
    keystores: &'a [Keystore],
    /// (credential id, index of its keystore)
    stored: Mutex<Vec<(String, usize)>>,
    failures: Mutex<Vec<String>>,
    stop: AtomicBool,
    rounds: AtomicUsize,
    requests: AtomicUsize,
}

impl Load<'_> {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    /// One upload, then one export of an earlier upload.
    fn round(&self, step: usize) {
        let index = step % self.keystores.len();
        let upload = self.keystores[index].upload();
        self.requests.fetch_add(1, Ordering::SeqCst);
        match self
            .server
            .try_send("POST", self.creds, Some(self.token), &[], Some(&upload))
        {
            Ok(r) if r.status == 201 => {
                self.stored.lock().unwrap().push((id_of(&r.json()), index));
            }
            Ok(r) => self.fail(format!("upload: {} {}", r.status, r.text())),
            Err(e) => self.fail(format!("upload: {e}")),
        }
        let (id, expected) = {
            let stored = self.stored.lock().unwrap();
            stored[(step * 7) % stored.len()].clone()
        };
        let path = format!("{}/{id}/secret", self.creds);
        self.requests.fetch_add(1, Ordering::SeqCst);
        match self
            .server
            .try_send("GET", &path, Some(self.token), &[], None)
        {
            Ok(r) if r.status == 200 => {
                let got = unb64(r.json()["secret"]["keystore"].as_str().unwrap_or_default());
                if got != self.keystores[expected].bytes {
                    self.fail(format!("export of {id}: wrong bytes"));
                }
            }
            Ok(r) => self.fail(format!("export of {id}: {} {}", r.status, r.text())),
            Err(e) => self.fail(format!("export of {id}: {e}")),
        }
        self.rounds.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn rotate_and_rewrap_under_load() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(8, "r");
    let mut server = site.start("data");
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let key_file = site.dir.path("data/master.key");
    let k1 = current_key_id(&key_file);

    // Secrets sealed under the first key before the rotation.
    let load = Load {
        server: &server,
        creds: &creds,
        token: &org.token,
        keystores: &keystores,
        stored: Mutex::new(Vec::new()),
        failures: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        rounds: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
    };
    for (index, ks) in keystores.iter().enumerate().take(4) {
        let v = server
            .post(&creds, Some(&org.token), &ks.upload())
            .expect(201, "upload");
        load.stored.lock().unwrap().push((id_of(&v), index));
    }

    thread::scope(|s| {
        // Two clients, each uploading and exporting in a loop.
        for worker in 0..2 {
            let load = &load;
            s.spawn(move || {
                let mut step = worker;
                while !load.stop.load(Ordering::SeqCst) {
                    load.round(step);
                    step += 2;
                }
            });
        }
        let rounds = || load.rounds.load(Ordering::SeqCst);
        wait_for("load before the rotation", || rounds() >= 4);
        let v = site.rotate_key("data", "k2").json();
        assert_eq!(v["previous"], k1.as_str(), "{v}");
        assert_eq!(v["current"], "k2", "{v}");
        let v = site.admin("rewrap", "data", &["--json"]).json();
        assert_eq!(v["current"], "k2", "{v}");
        assert_eq!(v["remaining_under_other_keys"], 0, "{v}");
        assert!(v["rewrapped"].as_i64().unwrap() >= 4, "{v}");
        // More load after the rewrap, then stop.
        let after = rounds();
        wait_for("load after the rewrap", || rounds() >= after + 4);
        load.stop.store(true, Ordering::SeqCst);
    });
    let failures = load.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {failures:#?}",
        failures.len(),
        load.requests.load(Ordering::SeqCst)
    );
    let stored: BTreeMap<String, usize> = load.stored.lock().unwrap().iter().cloned().collect();
    drop(load);

    // The first key seals nothing any more: it can go.
    site.admin("remove-key", "data", &["--key-id", &k1]).ok();
    let file: Value = serde_json::from_slice(&std::fs::read(&key_file).unwrap()).unwrap();
    assert_eq!(file["current"], "k2", "{file}");
    assert_eq!(
        file["keys"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["k2"]
    );
    assert_eq!(mode(&key_file), 0o600);
    // The current key cannot be removed, and the file stays as it was.
    let before = std::fs::read(&key_file).unwrap();
    let run = site.admin("remove-key", "data", &["--key-id", "k2"]);
    assert_ne!(run.code(), 0, "removing the current key: {}", run.stdout());
    assert!(run.stderr().contains("k2"), "{}", run.stderr());
    assert_eq!(std::fs::read(&key_file).unwrap(), before);

    // After a restart (k2 only) every credential exports its own keystore.
    server.kill();
    let server = site.start("data");
    let listed = list_all(&server, &org.token, &org.id, "credentials");
    assert_eq!(
        listed.iter().map(id_of).collect::<BTreeSet<_>>(),
        stored.keys().cloned().collect::<BTreeSet<_>>()
    );
    for (id, &i) in &stored {
        let v = server
            .get(&format!("{creds}/{id}/secret"), &org.token)
            .expect(200, "export after rotation");
        assert_eq!(
            unb64(v["secret"]["keystore"].as_str().unwrap()),
            keystores[i].bytes,
            "{id}"
        );
        assert_eq!(
            v["secret"]["store_password"],
            keystores[i].password.as_str()
        );
    }
    drop(server);
    site.assert_no_secrets_in_logs();
}

/// `remove-key` right after a successful `rewrap` strands no secret: a server that loaded
/// its key file just before the rotation must not seal a new upload under the key that is
/// gone. Refusing the removal would be safe too; an
/// upload that got 201 and cannot be read back is not.
#[test]
fn no_upload_sealed_under_a_removed_key() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(2, "x");
    let mut server = site.start("data");
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let k1 = current_key_id(&site.dir.path("data/master.key"));
    let first = id_of(
        &server
            .post(&creds, Some(&org.token), &keystores[0].upload())
            .expect(201, "upload before the rotation"),
    );
    // The server has the keyring loaded (an export uses it) when the key file changes
    // under it: its next write must see the new key.
    server
        .get(&format!("{creds}/{first}/secret"), &org.token)
        .expect(200, "export before the rotation");
    site.rotate_key("data", "k2").ok();
    let v = site.admin("rewrap", "data", &["--json"]).json();
    assert_eq!(v["remaining_under_other_keys"], 0, "{v}");
    let removed = site.admin("remove-key", "data", &["--key-id", &k1]);
    let second = id_of(
        &server
            .post(&creds, Some(&org.token), &keystores[1].upload())
            .expect(201, "upload after the removal"),
    );
    let check = |server: &Server, when: &str| {
        for (id, ks) in [(&first, &keystores[0]), (&second, &keystores[1])] {
            let v = server
                .get(&format!("{creds}/{id}/secret"), &org.token)
                .expect(
                    200,
                    &format!(
                        "export {when} (remove-key {k1} exited {}: {})",
                        removed.code(),
                        removed.stderr().trim()
                    ),
                );
            assert_eq!(unb64(v["secret"]["keystore"].as_str().unwrap()), ks.bytes);
        }
    };
    check(&server, "after the removal");
    server.kill();
    let server = site.start("data");
    check(&server, "after a restart");
    drop(server);
    site.assert_no_secrets_in_logs();
}

// ---------------------------------------------------------------------------------------
// 5. Bad uploads: 422 naming the field, or 409 for a limit, and nothing stored.

fn bad_uploads(backend: Backend) {
    let site = Site::new(backend);
    let d = &site.dir;
    let ks = site.keystores(1, "b").remove(0);
    ios::apple_identity(d, false, "dist.p12");
    ios::profile_from(
        d,
        &ios::ProfileSpec {
            cert_pem: "dist.pem",
            team: "A1B2C3D4E5",
            app_id: "com.acme.app",
            expires: "2099-01-01T00:00:00Z",
            devices: false,
            get_task_allow: false,
            aps: true,
        },
        "app.mobileprovision",
    );
    let p12 = b64(&d.read("dist.p12"));
    site.secret(&p12);
    site.secret("p12-pass");
    site.pem_secret(&String::from_utf8(d.read("dist.key")).unwrap());
    let profile = b64(&d.read("app.mobileprovision"));
    let mut p8 = Vec::new();
    for n in 1..=3 {
        let name = format!("AuthKey_{n}.p8");
        ios::apns_key(d, &name);
        let pem = String::from_utf8(d.read(&name)).unwrap();
        site.pem_secret(&pem);
        p8.push(pem);
    }
    let push_key = |n: usize| {
        json!({
            "type": "apple-push-key",
            "p8": p8[n],
            "key_id": format!("PUSHKEY00{n}"),
            "team_id": "A1B2C3D4E5",
        })
    };

    let server = site.start("data");
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let upload = |body: &Value| server.post(&creds, Some(&org.token), body);

    // The good versions of each file go through, so each bad one fails for its reason.
    let keystore = upload(&ks.upload()).expect(201, "keystore");
    let alias = keystore["metadata"]["alias"].as_str().unwrap().to_owned();
    upload(&json!({ "type": "apple-distribution-certificate", "p12": p12, "password": "p12-pass", "team_id": "A1B2C3D4E5" }))
        .expect(201, "certificate");
    upload(&json!({ "type": "apple-provisioning-profile", "profile": profile, "bundle_id": "com.acme.app", "team_id": "A1B2C3D4E5" }))
        .expect(201, "profile");
    let first = id_of(&upload(&push_key(0)).expect(201, "first push key"));
    let second = id_of(&upload(&push_key(1)).expect(201, "second push key"));
    upload(&json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": ks.password, "key_alias": alias }))
        .expect(201, "keystore with its alias");

    let snapshot = || {
        (
            list_all(&server, &org.token, &org.id, "credentials"),
            list_all(&server, &org.token, &org.id, "audit"),
        )
    };
    let before = snapshot();
    assert_eq!(before.0.len(), 7, "{:?}", before.0); // with the implicit Apple team

    let wrong_store_password = format!("wrong-{}", random_hex());
    let wrong_p12_password = format!("wrong-p12-{}", random_hex());
    site.secret(&wrong_store_password);
    site.secret(&wrong_p12_password);
    let half = b64(&ks.bytes[..ks.bytes.len() / 2]);
    site.secret(&half);
    let cases = [
        (
            "wrong store password",
            json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": wrong_store_password }),
            "store_password",
        ),
        (
            "unknown key alias",
            json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": ks.password, "key_alias": "no-such-alias" }),
            "key_alias",
        ),
        (
            "truncated keystore",
            json!({ "type": "android-keystore", "keystore": half, "store_password": ks.password }),
            "keystore",
        ),
        (
            "wrong .p12 password",
            json!({ "type": "apple-distribution-certificate", "p12": p12, "password": wrong_p12_password }),
            "password",
        ),
        (
            "profile for another bundle id",
            json!({ "type": "apple-provisioning-profile", "profile": profile, "bundle_id": "com.other.app" }),
            "bundle_id",
        ),
        (
            "profile for another team",
            json!({ "type": "apple-provisioning-profile", "profile": profile, "team_id": "Z9Y8X7W6V5" }),
            "team_id",
        ),
    ];
    let secrets = site.secrets.lock().unwrap().clone();
    for (what, body, field) in &cases {
        let r = upload(body);
        let v = r.problem(422, what);
        assert!(problem_type(&v).ends_with("/invalid"), "{what}: {v}");
        assert_eq!(v["field"], *field, "{what}: {v}");
        assert!(
            v["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: {v}"
        );
        let text = r.text();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{what}: a secret is echoed: {text}"
            );
        }
        assert!(
            snapshot() == before,
            "{what} changed the credentials or the audit log"
        );
    }

    // A third push key for the team: 409 naming the limit and the two that hold it.
    let v = upload(&push_key(2)).problem(409, "third push key");
    assert!(problem_type(&v).ends_with("/limit"), "{v}");
    assert_eq!(v["max"], 2, "{v}");
    assert!(v["limit"].as_str().unwrap().contains("push keys"), "{v}");
    let holders: BTreeSet<&str> = v["occupied_by"]
        .as_array()
        .unwrap_or_else(|| panic!("no occupied_by: {v}"))
        .iter()
        .map(|o| o.as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        holders,
        BTreeSet::from([first.as_str(), second.as_str()]),
        "{v}"
    );
    assert!(snapshot() == before, "the third push key changed something");
    drop(server);
    site.assert_no_secrets_in_logs();
}

#[test]
fn bad_uploads_on_sqlite() {
    bad_uploads(Backend::Sqlite);
}

#[test]
fn bad_uploads_on_postgres() {
    bad_uploads(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------
// 6. No secret in any log line, even when requests put them where they do not belong.
// (Every test above also checks its own servers' logs.)

#[test]
fn no_secrets_in_logs() {
    let site = Site::new(Backend::Sqlite);
    let ks = site.keystores(1, "s").remove(0);
    ios::apns_key(&site.dir, "AuthKey.p8");
    let p8 = String::from_utf8(site.dir.read("AuthKey.p8")).unwrap();
    site.pem_secret(&p8);
    let server = site.start("data");
    let setup_token = std::fs::read_to_string(site.dir.path("data/setup-token"))
        .unwrap()
        .trim()
        .to_owned();
    site.secret(&setup_token);
    let password = site.password("owner");
    let v = server
        .post(
            "/v1/setup",
            None,
            &json!({ "setup_token": setup_token, "email": "owner@acme.test", "password": password, "org": "Acme" }),
        )
        .expect(201, "setup");
    let org = id_of(&v["org"]);
    let token = site.login(&server, "owner@acme.test", &password);
    let creds = format!("/v1/orgs/{org}/credentials");

    // Secrets in the wrong places: a wrong password, an unknown field's value, a value of
    // the wrong type, a body cut short, a query string, an unknown bearer token.
    let wrong = site.password("typo");
    server
        .post(
            "/v1/auth/login",
            None,
            &json!({ "email": "owner@acme.test", "password": wrong }),
        )
        .problem(401, "wrong password");
    let stray = site.password("stray");
    let v = server
        .post(
            &creds,
            Some(&token),
            &json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": ks.password, "pin": stray }),
        )
        .problem(422, "unknown field");
    assert!(!v.to_string().contains(&stray), "{v}");
    let v = server
        .post(
            &creds,
            Some(&token),
            &json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": [ks.password] }),
        )
        .problem(422, "wrong type");
    assert!(!v.to_string().contains(&ks.password), "{v}");
    let cut = format!("{{\"email\":\"owner@acme.test\",\"password\":\"{password}");
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{cut}",
        cut.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let r = parse_response(&raw).unwrap();
    r.problem(400, "body cut short");
    assert!(!r.text().contains(&password));
    let in_query = site.password("query");
    server
        .get(&format!("{creds}?password={in_query}&limit=0"), &token)
        .problem(422, "secret in the query string");
    let forged = format!("sgu_{}", "A".repeat(32));
    site.secret(&forged);
    server.get(&creds, &forged).problem(401, "unknown token");
    let wrong_store = site.password("wrong-store");
    server
        .post(
            &creds,
            Some(&token),
            &json!({ "type": "android-keystore", "keystore": ks.b64, "store_password": wrong_store }),
        )
        .problem(422, "wrong store password");

    // Secrets where they belong: uploads, a robot token, exports.
    let id = id_of(
        &server
            .post(&creds, Some(&token), &ks.upload())
            .expect(201, "keystore"),
    );
    let v = server
        .post(
            &format!("/v1/orgs/{org}/robots"),
            Some(&token),
            &json!({ "name": "ci", "role": "developer" }),
        )
        .expect(201, "robot");
    let robot = v["token"].as_str().unwrap().to_owned();
    assert!(robot.starts_with("sgr_"), "{robot}");
    site.secret(&robot);
    let push = server
        .post(
            &creds,
            Some(&robot),
            &json!({ "type": "apple-push-key", "p8": p8, "key_id": "ABC123DEFG", "team_id": "A1B2C3D4E5" }),
        )
        .expect(201, "push key by the robot");
    let v = server
        .get(&format!("{creds}/{id}/secret"), &token)
        .expect(200, "export keystore");
    assert_eq!(v["secret"]["keystore"], ks.b64.as_str());
    let v = server
        .get(&format!("{creds}/{}/secret", id_of(&push)), &token)
        .expect(200, "export push key");
    assert_eq!(v["secret"]["p8"], p8.as_str());
    server
        .get(&format!("{creds}/{id}/secret"), &robot)
        .problem(403, "a developer robot cannot export");
    server
        .send("POST", "/v1/auth/logout", Some(&token), &[], None)
        .expect(204, "logout");
    server.get(&creds, &token).problem(401, "logged out");

    // A database URL's password is never printed, not even when opening the database
    // fails (here: a database that does not exist on the test server).
    let base = postgres_url();
    let (scheme, rest) = base.split_once("://").expect("a database URL");
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let (userinfo, host) = authority
        .rsplit_once('@')
        .unwrap_or(("postgres", authority));
    let (user, db_password) = match userinfo.split_once(':') {
        Some((user, password)) => (user.to_owned(), password.to_owned()),
        None => (userinfo.to_owned(), site.password("db")),
    };
    site.secret(&db_password);
    let missing = format!("signet_missing_{}", random_hex());
    let run = site.signet(&[
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        "down".into(),
        "--database-url".into(),
        format!("{scheme}://{user}:{db_password}@{host}/{missing}"),
    ]);
    let err = run.fails_with(1);
    assert!(
        !err.contains(&db_password) && !run.stdout().contains(&db_password),
        "{err}"
    );
    assert!(
        err.contains(&format!("{scheme}://{user}:***@{host}/{missing}")),
        "{err}"
    );

    drop(server);
    site.assert_no_secrets_in_logs();
}

/// Peak and current resident memory of a process, in KiB (`VmHWM`, `VmRSS`).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The security review's memory attack: 400 concurrent anonymous logins with random
/// e-mails took the server to 7.8 GB. Password hashing is bounded now: every answer is
/// 401, 429 or 503, the server's peak resident memory stays under 300 MiB, and
/// `/healthz` answers throughout.
#[test]
fn login_flood_is_bounded_in_memory() {
    let site = Site::new(Backend::Sqlite);
    // Behind a proxy on loopback, as a deployment with TLS runs: the 400 clients come
    // from 400 addresses (X-Forwarded-For), so neither the per-address budgets nor the
    // connections one address may hold stop them; only the bounded hashing does.
    let server = site.start_with("data", &["--trusted-proxy", "127.0.0.1"]);
    site.owner(&server, "data");
    let pid = server.child.id();
    let (before, _) = memory_kib(pid);
    let flooding = AtomicBool::new(true);
    let start = Barrier::new(401);
    let (statuses, health) = thread::scope(|s| {
        let logins: Vec<_> = (0..400)
            .map(|i| {
                let (server, start) = (&server, &start);
                s.spawn(move || {
                    let body = json!({ "email": format!("flood-{i}-{}@example.com", random_hex()),
                                       "password": "not the password" });
                    start.wait();
                    let client = format!("198.51.{}.{}", i / 200, i % 200 + 1);
                    server
                        .try_send(
                            "POST",
                            "/v1/auth/login",
                            None,
                            &[("X-Forwarded-For", &client)],
                            Some(&body),
                        )
                        .map_or(0, |r| r.status)
                })
            })
            .collect();
        let health = s.spawn(|| {
            let mut answers = Vec::new();
            while flooding.load(Ordering::SeqCst) {
                let t = Instant::now();
                let status = server
                    .try_send("GET", "/healthz", None, &[], None)
                    .map_or(0, |r| r.status);
                answers.push((status, t.elapsed()));
                thread::sleep(Duration::from_millis(50));
            }
            answers
        });
        start.wait();
        let statuses: Vec<u16> = logins.into_iter().map(|h| h.join().unwrap()).collect();
        flooding.store(false, Ordering::SeqCst);
        (statuses, health.join().unwrap())
    });
    let mut counts = BTreeMap::new();
    for s in &statuses {
        *counts.entry(*s).or_insert(0) += 1;
    }
    assert!(
        counts.keys().all(|s| [401, 429, 503].contains(s)),
        "statuses: {counts:?}"
    );
    assert!(
        counts.contains_key(&503),
        "the queue overflowed: {counts:?}"
    );
    let (peak, _) = memory_kib(pid);
    assert!(peak > 0, "VmHWM read from /proc/{pid}/status");
    assert!(
        peak < 300 * 1024,
        "peak RSS {} MiB during the flood, {} MiB before ({counts:?})",
        peak / 1024,
        before / 1024
    );
    assert!(!health.is_empty(), "health was checked");
    for (status, took) in &health {
        assert_eq!(*status, 200, "healthz during the flood ({took:?})");
    }
    eprintln!(
        "login flood: {counts:?}, peak RSS {} MiB (before: {} MiB), {} health checks, slowest {:?}",
        peak / 1024,
        before / 1024,
        health.len(),
        health.iter().map(|(_, t)| *t).max().unwrap_or_default()
    );
}

/// A client that never finishes its request headers is disconnected (the server's header
/// read timeout), so slow clients cannot hold connections; others are served meanwhile.
#[test]
fn slow_headers_are_cut_off() {
    let site = Site::new(Backend::Sqlite);
    let server = site.start("data");
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: signet\r\nX-Slow: 1")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let ok = server.send("GET", "/healthz", None, &[], None);
    assert_eq!(ok.status, 200, "healthz while a client is slow");
    let mut rest = Vec::new();
    // EOF (or a reset) before the read timeout: the server hung up.
    match slow.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert_ne!(
            e.kind(),
            std::io::ErrorKind::WouldBlock,
            "the server kept the connection open for 60 s"
        ),
    }
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "closed without a response, or with 408: {text}"
    );
}

/// One client address cannot hold more than its share of connections (the second
/// review's file-descriptor exhaustion): past it, new connections from that address are
/// closed at once; when its connections go, it is served again.
#[test]
fn one_address_holds_at_most_its_share_of_connections() {
    let site = Site::new(Backend::Sqlite);
    let server = site.start("data");
    let held: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    // Each held connection has been accepted once healthz queued behind them is refused.
    wait_for("the 65th connection to be closed at once", || {
        server.try_send("GET", "/healthz", None, &[], None).is_err()
    });
    drop(held);
    wait_for("healthz after the connections closed", || {
        server
            .try_send("GET", "/healthz", None, &[], None)
            .is_ok_and(|r| r.status == 200)
    });
}

// ---------------------------------------------------------------------------------------
// 7. serve's flags: the team limits, the restore window, JSON logs.

/// `--max-push-keys` and `--max-distribution-certificates` set the limits per Apple team,
/// above the defaults (2 and 1) and below them, as a restart with other values shows.
#[test]
fn max_flags_set_the_limits_per_apple_team() {
    let site = Site::new(Backend::Sqlite);
    let d = &site.dir;
    ios::apple_identity(d, false, "dist.p12");
    let p12 = b64(&d.read("dist.p12"));
    site.secret(&p12);
    site.pem_secret(&String::from_utf8(d.read("dist.key")).unwrap());
    let push_key = |n: usize| {
        let name = format!("AuthKey_{n}.p8");
        ios::apns_key(d, &name);
        let pem = String::from_utf8(d.read(&name)).unwrap();
        site.pem_secret(&pem);
        json!({ "type": "apple-push-key", "p8": pem, "key_id": format!("PUSHKEY00{n}"),
                "team_id": "A1B2C3D4E5" })
    };
    let certificate =
        json!({ "type": "apple-distribution-certificate", "p12": p12, "password": "p12-pass" });
    let refused = |r: Response, what: &str, limit: &str, max: usize| {
        let v = r.problem(409, what);
        assert!(problem_type(&v).ends_with("/limit"), "{what}: {v}");
        assert_eq!(v["max"], max, "{what}: {v}");
        assert!(v["limit"].as_str().unwrap().contains(limit), "{what}: {v}");
    };

    let server = site.start_with(
        "data",
        &[
            "--max-push-keys",
            "3",
            "--max-distribution-certificates",
            "2",
        ],
    );
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let limits = &server
        .get(&format!("/v1/orgs/{}", org.id), &org.token)
        .expect(200, "org")["limits"];
    assert_eq!(limits["push_keys_per_apple_team"], 3, "{limits}");
    assert_eq!(
        limits["distribution_certificates_per_apple_team"], 2,
        "{limits}"
    );
    for n in 1..=3 {
        server
            .post(&creds, Some(&org.token), &push_key(n))
            .expect(201, &format!("push key {n} of 3"));
    }
    refused(
        server.post(&creds, Some(&org.token), &push_key(4)),
        "a fourth push key",
        "push keys",
        3,
    );
    for n in 1..=2 {
        server
            .post(&creds, Some(&org.token), &certificate)
            .expect(201, &format!("certificate {n} of 2"));
    }
    refused(
        server.post(&creds, Some(&org.token), &certificate),
        "a third certificate",
        "distribution certificates",
        2,
    );
    drop(server);

    // Lower limits on the same data refuse what the team already exceeds.
    let server = site.start_with(
        "data",
        &[
            "--max-push-keys",
            "1",
            "--max-distribution-certificates",
            "1",
        ],
    );
    let token = &org.token;
    refused(
        server.post(&creds, Some(token), &push_key(5)),
        "a push key over the lowered limit",
        "push keys",
        1,
    );
    refused(
        server.post(&creds, Some(token), &certificate),
        "a certificate over the lowered limit",
        "distribution certificates",
        1,
    );
    let pushed = list_all(&server, token, &org.id, "credentials")
        .iter()
        .filter(|c| c["type"] == "apple-push-key")
        .count();
    assert_eq!(pushed, 3);
    drop(server);
    site.assert_no_secrets_in_logs();
}

/// `--restore-window-days` decides how long a deleted credential can be restored: with 0
/// a restore is refused (`restore-window-passed`) and changes nothing; the same data under
/// a server with 1 restores it.
#[test]
fn restore_window_days_sets_how_long_a_restore_is_allowed() {
    let site = Site::new(Backend::Sqlite);
    let ks = site.keystores(1, "r").remove(0);
    let server = site.start_with("data", &["--restore-window-days", "0"]);
    let org = site.owner(&server, "data");
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let id = id_of(
        &server
            .post(&creds, Some(&org.token), &ks.upload())
            .expect(201, "keystore"),
    );
    let path = format!("{creds}/{id}");
    server
        .send("DELETE", &path, Some(&org.token), &[], None)
        .expect(200, "delete");
    thread::sleep(Duration::from_millis(20));
    let v = server
        .send(
            "POST",
            &format!("{path}/restore"),
            Some(&org.token),
            &[],
            None,
        )
        .problem(409, "restore after a window of 0 days");
    assert!(problem_type(&v).ends_with("/restore-window-passed"), "{v}");
    assert!(v["detail"].as_str().unwrap().contains("0 days"), "{v}");
    let v = server.get(&path, &org.token).expect(200, "still deleted");
    assert!(v["deleted_at"].is_i64(), "{v}");
    drop(server);

    let server = site.start_with("data", &["--restore-window-days", "1"]);
    let limits = &server
        .get(&format!("/v1/orgs/{}", org.id), &org.token)
        .expect(200, "org")["limits"];
    assert_eq!(limits["restore_window_days"], 1, "{limits}");
    let v = server
        .send(
            "POST",
            &format!("{path}/restore"),
            Some(&org.token),
            &[],
            None,
        )
        .expect(200, "restore within a window of 1 day");
    assert!(v["deleted_at"].is_null(), "{v}");
    let v = server
        .get(&format!("{path}/secret"), &org.token)
        .expect(200, "export after restore");
    assert_eq!(v["secret"]["keystore"], ks.b64.as_str());
    drop(server);
    site.assert_no_secrets_in_logs();
}

/// `--log-format json`: every line the server writes is a JSON object, requests are
/// logged with their method, path and status, and neither a keystore's password nor a
/// user's password (right or wrong) appears in any line.
#[test]
fn json_logs_are_json_lines_without_secrets() {
    let site = Site::new(Backend::Sqlite);
    let ks = site.keystores(1, "j").remove(0);
    let server = site.start_with("data", &["--log-format", "json"]);
    let password = site.password("owner");
    let v = site.create_user("data", "owner@acme.test", &password, Some("Acme"));
    let org = id_of(&v["org"]);
    let token = site.login(&server, "owner@acme.test", &password);
    let wrong = site.password("wrong");
    server
        .post(
            "/v1/auth/login",
            None,
            &json!({ "email": "owner@acme.test", "password": wrong }),
        )
        .problem(401, "wrong password");
    let creds = format!("/v1/orgs/{org}/credentials");
    let id = id_of(
        &server
            .post(&creds, Some(&token), &ks.upload())
            .expect(201, "keystore"),
    );
    server
        .get(&format!("{creds}/{id}/secret"), &token)
        .expect(200, "export");
    drop(server);

    let text = std::fs::read_to_string(&site.logs.lock().unwrap()[0]).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object), "{text}");
    let logged = |method: &str, path: &str, status: u16| {
        lines.iter().any(|l| {
            l["span"]["method"] == method
                && l["span"]["path"] == path
                && l["fields"]["status"] == status
        })
    };
    assert!(logged("POST", "/v1/auth/login", 201), "{text}");
    assert!(logged("POST", "/v1/auth/login", 401), "{text}");
    assert!(logged("POST", &creds, 201), "{text}");
    assert!(
        logged("GET", &format!("{creds}/{id}/secret"), 200),
        "{text}"
    );
    for (what, secret) in [
        ("the keystore's password", ks.password.as_str()),
        ("the user's password", password.as_str()),
        ("a wrong password", wrong.as_str()),
        ("the session token", token.as_str()),
    ] {
        assert!(!text.contains(secret), "{what} is in the JSON log");
    }
    site.assert_no_secrets_in_logs();
}
