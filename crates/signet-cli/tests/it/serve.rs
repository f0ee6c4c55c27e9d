//! `signet serve` as processes: first-run setup, two replicas on one PostgreSQL, `kill -9`
//! during uploads (some cut in the middle of their bodies), key rotation and rewrap under
//! load, bad uploads, logs without secrets, and the flags (`--max-*`,
//! `--restore-window-days`, `--log-format json`). Each test starts real servers on free loopback ports, each with its own data
//! dir (and, on PostgreSQL, a fresh database), captures their output to files, and kills
//! them when it ends. PostgreSQL at 127.0.0.1:5432 (`SIGNET_TEST_POSTGRES_URL` overrides)
//! must be reachable: these tests fail, never skip, without it.
//!
//! The tests call the servers as clients do, with signet-client (each [`Server`] has a
//! runtime of its own to block on); requests no client sends (bodies it could not build, a
//! forwarded-for header, odd query strings) and checks of the response itself (ETag, content
//! type, the raw body) go through reqwest; the transport tests (slow bodies and headers,
//! connection limits) write to a `TcpStream`.

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
use signet_client::{
    AuditRecord, Client, ClientError, Credential, CredentialFilter, CredentialId, Export, Kind, Me,
    Metadata, NewRobot, OrgId, PageRequest, Problem, Role, SecretMaterial, SecretString, Upload,
    types::KeystoreSecret,
};
use signet_store::validate::{CertificateUpload, KeystoreUpload, ProfileUpload, PushKeyUpload};

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

/// Base64 text back to bytes.
pub(crate) fn unb64(text: &str) -> Vec<u8> {
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).expect("base64")
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
// Answers: signet-client's, and reqwest's for the requests it does not send.

/// Asserts that a call of signet-client was refused with a problem of `status` (its
/// `status` member the same, a `detail` for a person) and returns the problem.
pub(crate) fn refusal<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    what: &str,
) -> Problem {
    match result {
        Err(ClientError::Problem(p)) => {
            assert_eq!(p.status, status, "{what}: {}", p.body);
            assert_eq!(p.body["status"], status, "{what}: {}", p.body);
            assert!(
                p.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{what}: {}",
                p.body
            );
            *p
        }
        Ok(v) => panic!("{what}: expected {status}, the call succeeded: {v:?}"),
        Err(e) => panic!("{what}: expected a {status} problem: {e} ({e:?})"),
    }
}

/// The keystore of an export.
pub(crate) fn keystore_secret(export: &Export) -> &KeystoreSecret {
    match &export.secret {
        SecretMaterial::AndroidKeystore(k) => k,
        other => panic!("{}: not a keystore: {other:?}", export.credential.id),
    }
}

/// A server's answer to a request sent with reqwest, read whole.
pub(crate) struct Response {
    pub(crate) status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

/// A running `signet serve`, killed when dropped, and what the tests call it with: an
/// anonymous signet-client [`Client`], a runtime to block on, and a reqwest client that
/// opens a connection per request (as a client per process would).
pub(crate) struct Server {
    child: Mutex<Child>,
    addr: String,
    pub(crate) log: PathBuf,
    client: Client,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    fn new(child: Child, addr: String, log: PathBuf) -> Server {
        // Two workers: requests of many test threads at once (block_on from each) make
        // progress together.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let client = Client::new(&format!("http://{addr}")).expect("the server's URL");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        Server {
            child: Mutex::new(child),
            addr,
            log,
            client,
            http,
            runtime,
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `host:port`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    /// A client of this server without a token.
    pub(crate) fn anonymous(&self) -> &Client {
        &self.client
    }

    /// A client of this server calling with `token`.
    pub(crate) fn client(&self, token: &str) -> Client {
        self.client.clone().with_token(SecretString::new(token))
    }

    /// Runs a call to completion on the server's runtime.
    pub(crate) fn block_on<F: Future>(&self, call: F) -> F::Output {
        self.runtime.block_on(call)
    }

    /// Runs a call that must succeed; its value.
    pub(crate) fn ok<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, ClientError>>,
    ) -> T {
        self.block_on(call).unwrap_or_else(|e| {
            panic!(
                "{what} on {}: {e} ({e:?})\nserver log:\n{}",
                self.addr,
                self.log_text()
            )
        })
    }

    /// Runs a call that must be refused with a problem of `status` ([`refusal`]).
    pub(crate) fn refused<T: std::fmt::Debug>(
        &self,
        what: &str,
        status: u16,
        call: impl Future<Output = Result<T, ClientError>>,
    ) -> Problem {
        refusal(self.block_on(call), status, what)
    }

    /// Every live credential of `org`, page after page.
    pub(crate) fn credentials(&self, client: &Client, org: &OrgId) -> Vec<Credential> {
        self.ok(
            "list the credentials",
            client.all(async |page| {
                client
                    .credentials(org, CredentialFilter::default(), &page)
                    .await
            }),
        )
    }

    /// The whole audit log of `org`, newest first.
    pub(crate) fn audit(&self, client: &Client, org: &OrgId) -> Vec<AuditRecord> {
        self.ok(
            "read the audit log",
            client.all(async |page| client.audit(org, &page).await),
        )
    }

    /// A request with reqwest: `body`, when given, as `application/json`.
    fn try_send_bytes(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> reqwest::Result<Response> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .http
            .request(method, format!("http://{}{path}", self.addr));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        self.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }

    fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> reqwest::Result<Response> {
        let body = body.map(|b| b.to_string().into_bytes());
        self.try_send_bytes(method, path, token, headers, body)
    }

    /// A request with reqwest that must be answered.
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

    /// `kill -9` (requests in flight on other threads fail).
    pub(crate) fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Waits for `/healthz`; `Err` when the process exited first.
    fn wait_healthy(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                return Err(format!("exited ({status}):\n{}", self.log_text()));
            }
            if let Ok(r) = self.try_send("GET", "/healthz", None, &[], None)
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
    pub(crate) id: OrgId,
    pub(crate) token: String,
}

/// A PKCS#12 keystore made by `signet keystore generate`.
pub(crate) struct Keystore {
    pub(crate) bytes: Vec<u8>,
    b64: String,
    pub(crate) password: String,
}

impl Keystore {
    /// Its upload (the alias left to the server: the keystore holds one key).
    pub(crate) fn upload(&self) -> Upload {
        Upload::AndroidKeystore(KeystoreUpload {
            name: None,
            keystore: SecretString::new(&self.b64),
            store_password: SecretString::new(&self.password),
            key_alias: None,
            key_password: None,
        })
    }

    /// Asserts that an export holds this keystore and its store password.
    pub(crate) fn assert_exported(&self, export: &Export, what: &str) {
        let k = keystore_secret(export);
        assert!(
            k.keystore.expose() == self.bytes,
            "{what}: another keystore"
        );
        assert!(
            k.store_password.expose() == self.password,
            "{what}: another store password"
        );
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
    pub(crate) fn pem_secret(&self, pem: &str) {
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
            let server = Server::new(child, addr, log);
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
        let logged = server.ok(
            "login",
            server
                .anonymous()
                .login(email, &SecretString::new(password)),
        );
        let token = logged.token.expose().to_owned();
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
            id: OrgId::parse(v["org"]["id"].as_str().expect("org id")).expect("an org id"),
            token: self.login(server, "owner@acme.test", &password),
        }
    }

    /// A user added to the organization with `role`; returns their session token.
    fn member(&self, server: &Server, data: &str, org: &Org, email: &str, role: Role) -> String {
        let password = self.password(role.name());
        self.create_user(data, email, &password, None);
        let member = server.ok(
            "add member",
            server.client(&org.token).set_member(&org.id, email, role),
        );
        assert_eq!((member.email.as_str(), member.role), (email, role));
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

    /// Where a secret the test used appears in `text`, whole or as a 32-character piece of
    /// a long one: the secret's first characters, its length, and the line it is on.
    fn find_secret(&self, text: &str) -> Option<String> {
        let secrets = self.secrets.lock().unwrap().clone();
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
                    return Some(format!(
                        "a secret ({}…, {} characters) on the line:\n{line}",
                        secret.get(..8).unwrap_or(secret),
                        secret.len(),
                    ));
                }
            }
        }
        None
    }

    /// Asserts that no secret the test used appears in `text` (a page's HTML, …), whole or
    /// as a 32-character piece of a long one.
    pub(crate) fn assert_no_secrets_in(&self, what: &str, text: &str) {
        assert!(!self.secrets.lock().unwrap().is_empty());
        if let Some(found) = self.find_secret(text) {
            panic!("{what}: {found}");
        }
    }

    /// Asserts that no secret the test used (passwords, tokens, keys, files) appears in
    /// any server's captured output, whole or as a 32-character piece of a long one.
    pub(crate) fn assert_no_secrets_in_logs(&self) {
        let logs = self.logs.lock().unwrap().clone();
        assert!(!logs.is_empty() && !self.secrets.lock().unwrap().is_empty());
        let mut requests_logged = 0;
        for log in &logs {
            let text = std::fs::read_to_string(log).expect("read server log");
            // Text lines say `status=200`, JSON lines `"status":200`.
            requests_logged +=
                text.matches("status=").count() + text.matches("\"status\":").count();
            if let Some(found) = self.find_secret(&text) {
                panic!("{}: {found}", log.display());
            }
        }
        // The check means something only if requests were logged at all.
        assert!(requests_logged > 0, "no request was logged");
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
    let server = site.start("data");
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
    let (setup_token, password) = (SecretString::new(setup_token), SecretString::new(password));

    // Nobody can log in yet.
    let p = server.refused(
        "login before setup",
        401,
        server.anonymous().login("first@acme.test", &password),
    );
    assert_eq!(p.kind, "unauthenticated", "{}", p.body);

    let done = server.ok(
        "setup",
        server
            .anonymous()
            .setup(&setup_token, "first@acme.test", &password, "Acme"),
    );
    assert_eq!(done.user.email, "first@acme.test", "{done:?}");
    assert_eq!(done.org.name, "Acme", "{done:?}");
    assert_eq!(done.org.role, Some(Role::Owner), "{done:?}");
    let org = done.org.id;

    // Setup is over: the same request, or another user, is refused.
    let p = server.refused(
        "setup token reused",
        410,
        server
            .anonymous()
            .setup(&setup_token, "first@acme.test", &password, "Acme"),
    );
    assert_eq!(p.kind, "setup-closed", "{}", p.body);
    let p = server.refused(
        "setup token reused by someone else",
        410,
        server.anonymous().setup(
            &setup_token,
            "intruder@evil.test",
            &SecretString::new("intruder-password"),
            "Evil",
        ),
    );
    assert_eq!(p.kind, "setup-closed", "{}", p.body);

    // The first user owns the organization.
    let token = site.login(&server, "first@acme.test", password.expose());
    let owner = server.client(&token);
    let Me::User { orgs, .. } = server.ok("me", owner.me()) else {
        panic!("a robot's token from a login")
    };
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    assert_eq!(orgs[0].id, org, "{orgs:?}");
    assert_eq!(orgs[0].role, Some(Role::Owner), "{orgs:?}");
    assert_eq!(server.ok("org", owner.org(&org)).name, "Acme");

    // A restart issues no new token and the old one stays spent.
    let token_before = std::fs::read(&token_file).ok();
    server.kill();
    let server = site.start("data");
    assert_eq!(std::fs::read(&token_file).ok(), token_before);
    let p = server.refused(
        "setup token after restart",
        410,
        server
            .anonymous()
            .setup(&setup_token, "first@acme.test", &password, "Acme"),
    );
    assert_eq!(p.kind, "setup-closed", "{}", p.body);
    server.ok("session survives", server.client(&token).me());
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
    let admin = site.member(&b, "b", &org, "admin@acme.test", Role::Admin);
    let admin_on_b = b.client(&admin);

    // A write through A is read through B (with reqwest: the ETag headers are checked).
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
    let listed = b.credentials(&admin_on_b, &org.id);
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    let exported_key = |server: &Server, what: &str| {
        let export = server.ok(what, server.client(&admin).export(&org.id, &listed[0].id));
        match export.secret {
            SecretMaterial::FcmLegacyKey { server_key } => server_key.expose().to_owned(),
            other => panic!("{what}: not an FCM key: {other:?}"),
        }
    };
    assert!(exported_key(&b, "export through B") == server_key);

    // 50 concurrent If-Match renames per version, through both: one wins each round
    // (with reqwest: the winner's ETag is checked).
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
        assert!(exported_key(server, "export after renames") == server_key);
    }

    // The audit log holds exactly the five winning renames, newest first.
    let audit = b.audit(&admin_on_b, &org.id);
    let renames: Vec<&AuditRecord> = audit
        .iter()
        .filter(|r| r.action == "credential.rename")
        .collect();
    assert_eq!(renames.len(), 5, "{audit:?}");
    let mut names: Vec<String> = renames
        .iter()
        .map(|r| {
            assert_eq!(r.target, id, "{r:?}");
            let detail: Value = serde_json::from_str(&r.detail).unwrap();
            detail["name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.reverse();
    assert_eq!(names, winners);
    let creates = audit
        .iter()
        .filter(|r| r.action == "credential.create")
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
            let password = SecretString::new(site.password("first"));
            let setup = servers[i].block_on(servers[i].anonymous().setup(
                &SecretString::new(token.trim()),
                &format!("first-{d}@acme.test"),
                &password,
                "Acme",
            ));
            if setup.is_ok() {
                created += 1;
            } else {
                refusal(setup, 401, "a second setup");
            }
        }
        assert_eq!(created, 1, "round {round}: setups completed");
        drop(servers);
        site.assert_no_secrets_in_logs();
    }
}

// ---------------------------------------------------------------------------------------
// 3. kill -9 during uploads.
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
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let owner = server.client(&org.token);
    let creds = format!("/v1/orgs/{}/credentials", org.id);
    let mut slow: Vec<TcpStream> = slow_keystores
        .iter()
        .map(|ks| {
            let body = serde_json::to_value(ks.upload()).expect("an upload's JSON");
            start_slow_upload(&server.addr, &creds, &org.token, &body)
        })
        .collect();

    let answered: Mutex<Vec<(usize, Result<Credential, ClientError>)>> = Mutex::new(Vec::new());
    let finished = AtomicUsize::new(0);
    let barrier = Barrier::new(keystores.len() + 1);
    thread::scope(|s| {
        for (i, ks) in keystores.iter().enumerate() {
            let (barrier, server, owner, org) = (&barrier, &server, &owner, &org.id);
            let (answered, finished) = (&answered, &finished);
            s.spawn(move || {
                let upload = ks.upload();
                barrier.wait();
                // A connection cut by the kill is an error here, not a failure; any answer
                // (a refusal too) is one.
                match server.block_on(owner.upload(org, &upload)) {
                    Err(
                        ClientError::Connect { .. }
                        | ClientError::Transport { .. }
                        | ClientError::Timeout { .. },
                    ) => {}
                    answer => answered.lock().unwrap().push((i, answer)),
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
    let owner = server.client(&org.token);
    let listed = server.credentials(&owner, &org.id);
    eprintln!(
        "kill -9 ({backend:?}): {} credentials after the restart",
        listed.len()
    );
    let ids: BTreeSet<String> = listed.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids.len(), listed.len());
    assert!(listed.len() <= keystores.len());
    // Every upload the client saw succeed is there, with its own file.
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (i, answer) in &answered {
        let c = answer
            .as_ref()
            .unwrap_or_else(|e| panic!("upload {i} answered before the kill: {e} ({e:?})"));
        assert!(ids.contains(c.id.as_str()), "{} lost after kill -9", c.id);
        expected.insert(c.id.to_string(), *i);
    }
    // Every credential there is whole: it decrypts to one of the uploaded keystores.
    for c in &listed {
        assert_eq!(c.kind, Kind::AndroidKeystore, "{c:?}");
        let id = c.id.to_string();
        let export = server.ok("export after kill -9", owner.export(&org.id, &c.id));
        let bytes = keystore_secret(&export).keystore.expose();
        assert!(
            slow_keystores.iter().all(|k| k.bytes != bytes),
            "{id} holds an upload the kill cut in the middle of its body"
        );
        let i = keystores
            .iter()
            .position(|k| k.bytes == bytes)
            .unwrap_or_else(|| panic!("{id} decrypts to a keystore that was never uploaded"));
        keystores[i].assert_exported(&export, &id);
        if let Some(&j) = expected.get(&id) {
            assert_eq!(i, j, "{id} holds another upload's keystore");
        }
    }
    // The audit log agrees: one create record per credential there, and none for others.
    let audit = server.audit(&owner, &org.id);
    let created: Vec<String> = audit
        .iter()
        .filter(|r| r.action == "credential.create")
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(created.len(), ids.len(), "{created:?}");
    assert_eq!(created.into_iter().collect::<BTreeSet<_>>(), ids);
    // The restarted server takes uploads.
    server.ok(
        "upload after restart",
        owner.upload(&org.id, &keystores[0].upload()),
    );
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
    client: Client,
    org: &'a OrgId,
    keystores: &'a [Keystore],
    /// (credential id, index of its keystore)
    stored: Mutex<Vec<(CredentialId, usize)>>,
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
        match self.server.block_on(self.client.upload(self.org, &upload)) {
            Ok(c) => self.stored.lock().unwrap().push((c.id, index)),
            Err(e) => self.fail(format!("upload: {e} ({e:?})")),
        }
        let (id, expected) = {
            let stored = self.stored.lock().unwrap();
            stored[(step * 7) % stored.len()].clone()
        };
        self.requests.fetch_add(1, Ordering::SeqCst);
        match self.server.block_on(self.client.export(self.org, &id)) {
            Ok(export) => match &export.secret {
                SecretMaterial::AndroidKeystore(k)
                    if k.keystore.expose() == self.keystores[expected].bytes => {}
                _ => self.fail(format!("export of {id}: wrong bytes")),
            },
            Err(e) => self.fail(format!("export of {id}: {e} ({e:?})")),
        }
        self.rounds.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn rotate_and_rewrap_under_load() {
    let site = Site::new(Backend::Sqlite);
    let keystores = site.keystores(8, "r");
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let key_file = site.dir.path("data/master.key");
    let k1 = current_key_id(&key_file);

    // Secrets sealed under the first key before the rotation.
    let load = Load {
        server: &server,
        client: server.client(&org.token),
        org: &org.id,
        keystores: &keystores,
        stored: Mutex::new(Vec::new()),
        failures: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        rounds: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
    };
    for (index, ks) in keystores.iter().enumerate().take(4) {
        let c = server.ok("upload", load.client.upload(&org.id, &ks.upload()));
        load.stored.lock().unwrap().push((c.id, index));
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
    let stored: BTreeMap<CredentialId, usize> =
        load.stored.lock().unwrap().iter().cloned().collect();
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
    let owner = server.client(&org.token);
    let listed = server.credentials(&owner, &org.id);
    assert_eq!(
        listed.iter().map(|c| c.id.clone()).collect::<BTreeSet<_>>(),
        stored.keys().cloned().collect::<BTreeSet<_>>()
    );
    for (id, &i) in &stored {
        let export = server.ok("export after rotation", owner.export(&org.id, id));
        keystores[i].assert_exported(&export, id.as_str());
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
    let server = site.start("data");
    let org = site.owner(&server, "data");
    let owner = server.client(&org.token);
    let k1 = current_key_id(&site.dir.path("data/master.key"));
    let first = server
        .ok(
            "upload before the rotation",
            owner.upload(&org.id, &keystores[0].upload()),
        )
        .id;
    // The server has the keyring loaded (an export uses it) when the key file changes
    // under it: its next write must see the new key.
    server.ok("export before the rotation", owner.export(&org.id, &first));
    site.rotate_key("data", "k2").ok();
    let v = site.admin("rewrap", "data", &["--json"]).json();
    assert_eq!(v["remaining_under_other_keys"], 0, "{v}");
    let removed = site.admin("remove-key", "data", &["--key-id", &k1]);
    let second = server
        .ok(
            "upload after the removal",
            owner.upload(&org.id, &keystores[1].upload()),
        )
        .id;
    let check = |server: &Server, when: &str| {
        for (id, ks) in [(&first, &keystores[0]), (&second, &keystores[1])] {
            let what = format!(
                "export {when} (remove-key {k1} exited {}: {})",
                removed.code(),
                removed.stderr().trim()
            );
            let export = server.ok(&what, server.client(&org.token).export(&org.id, id));
            ks.assert_exported(&export, &what);
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
        Upload::ApplePushKey(PushKeyUpload {
            name: None,
            p8: SecretString::new(&p8[n]),
            key_id: format!("PUSHKEY00{n}"),
            team_id: "A1B2C3D4E5".into(),
        })
    };

    let server = site.start("data");
    let org = site.owner(&server, "data");
    let owner = server.client(&org.token);
    let creds = format!("/v1/orgs/{}/credentials", org.id);

    // The good versions of each file go through, so each bad one fails for its reason.
    let keystore = server.ok("keystore", owner.upload(&org.id, &ks.upload()));
    let Metadata::AndroidKeystore(metadata) = keystore.metadata else {
        panic!("a keystore's metadata: {:?}", keystore.metadata)
    };
    let certificate = Upload::AppleDistributionCertificate(CertificateUpload {
        name: None,
        p12: Some(SecretString::new(&p12)),
        password: Some(SecretString::new("p12-pass")),
        private_key: None,
        certificate: None,
        team_id: Some("A1B2C3D4E5".into()),
    });
    server.ok("certificate", owner.upload(&org.id, &certificate));
    let app_profile = Upload::AppleProvisioningProfile(ProfileUpload {
        name: None,
        profile: profile.clone(),
        bundle_id: Some("com.acme.app".into()),
        team_id: Some("A1B2C3D4E5".into()),
    });
    server.ok("profile", owner.upload(&org.id, &app_profile));
    let first = server
        .ok("first push key", owner.upload(&org.id, &push_key(0)))
        .id;
    let second = server
        .ok("second push key", owner.upload(&org.id, &push_key(1)))
        .id;
    let with_alias = Upload::AndroidKeystore(KeystoreUpload {
        name: None,
        keystore: SecretString::new(&ks.b64),
        store_password: SecretString::new(&ks.password),
        key_alias: Some(metadata.alias),
        key_password: None,
    });
    server.ok(
        "keystore with its alias",
        owner.upload(&org.id, &with_alias),
    );

    // Everything listed, and the audit log, as the API shows them.
    let snapshot = || {
        (
            serde_json::to_value(server.credentials(&owner, &org.id)).expect("JSON"),
            serde_json::to_value(server.audit(&owner, &org.id)).expect("JSON"),
        )
    };
    let before = snapshot();
    // With the implicit Apple team.
    assert_eq!(before.0.as_array().map(Vec::len), Some(7), "{}", before.0);

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
    // Sent with reqwest: the answer's content type and raw body are checked.
    let secrets = site.secrets.lock().unwrap().clone();
    for (what, body, field) in &cases {
        let r = server.post(&creds, Some(&org.token), body);
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
    let p = server.refused("third push key", 409, owner.upload(&org.id, &push_key(2)));
    assert_eq!(p.kind, "limit", "{}", p.body);
    let v = p.body;
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
    let done = server.ok(
        "setup",
        server.anonymous().setup(
            &SecretString::new(setup_token),
            "owner@acme.test",
            &SecretString::new(&password),
            "Acme",
        ),
    );
    let org = done.org.id;
    let token = site.login(&server, "owner@acme.test", &password);
    let owner = server.client(&token);
    let creds = format!("/v1/orgs/{org}/credentials");

    // Secrets in the wrong places: a wrong password, an unknown field's value, a value of
    // the wrong type, a body cut short, a query string, an unknown bearer token. What
    // signet-client cannot send goes with reqwest.
    let wrong = site.password("typo");
    server.refused(
        "wrong password",
        401,
        server
            .anonymous()
            .login("owner@acme.test", &SecretString::new(wrong)),
    );
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
    let r = server
        .try_send_bytes("POST", "/v1/auth/login", None, &[], Some(cut.into_bytes()))
        .expect("an answer to a body cut short");
    r.problem(400, "body cut short");
    assert!(!r.text().contains(&password));
    let in_query = site.password("query");
    server
        .get(&format!("{creds}?password={in_query}&limit=0"), &token)
        .problem(422, "secret in the query string");
    let forged = format!("sgu_{}", "A".repeat(32));
    site.secret(&forged);
    let p = server.refused(
        "unknown token",
        401,
        server.client(&forged).credentials(
            &org,
            CredentialFilter::default(),
            &PageRequest::default(),
        ),
    );
    assert_eq!(p.kind, "unauthenticated", "{}", p.body);
    let wrong_store = site.password("wrong-store");
    let p = server.refused(
        "wrong store password",
        422,
        owner.upload(
            &org,
            &Upload::AndroidKeystore(KeystoreUpload {
                name: None,
                keystore: SecretString::new(&ks.b64),
                store_password: SecretString::new(wrong_store),
                key_alias: None,
                key_password: None,
            }),
        ),
    );
    assert_eq!(p.field.as_deref(), Some("store_password"), "{}", p.body);

    // Secrets where they belong: uploads, a robot token, exports.
    let id = server.ok("keystore", owner.upload(&org, &ks.upload())).id;
    let created = server.ok(
        "robot",
        owner.create_robot(
            &org,
            &NewRobot {
                name: "ci".into(),
                role: Role::Developer,
                app_ids: None,
                expires_in_days: None,
            },
        ),
    );
    let robot = created.token.expose().to_owned();
    assert!(robot.starts_with("sgr_"), "{robot}");
    site.secret(&robot);
    let push = server.ok(
        "push key by the robot",
        server.client(&robot).upload(
            &org,
            &Upload::ApplePushKey(PushKeyUpload {
                name: None,
                p8: SecretString::new(&p8),
                key_id: "ABC123DEFG".into(),
                team_id: "A1B2C3D4E5".into(),
            }),
        ),
    );
    let export = server.ok("export keystore", owner.export(&org, &id));
    ks.assert_exported(&export, "export keystore");
    let export = server.ok("export push key", owner.export(&org, &push.id));
    match export.secret {
        SecretMaterial::ApplePushKey { p8: exported, .. } => {
            assert!(exported.expose() == p8, "another push key");
        }
        other => panic!("not a push key: {other:?}"),
    }
    let p = server.refused(
        "a developer robot cannot export",
        403,
        server.client(&robot).export(&org, &id),
    );
    assert_eq!(p.kind, "forbidden", "{}", p.body);
    server.ok("logout", owner.logout());
    let p = server.refused(
        "logged out",
        401,
        owner.credentials(&org, CredentialFilter::default(), &PageRequest::default()),
    );
    assert_eq!(p.kind, "unauthenticated", "{}", p.body);

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
    let pid = server.pid();
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
        Upload::ApplePushKey(PushKeyUpload {
            name: None,
            p8: SecretString::new(pem),
            key_id: format!("PUSHKEY00{n}"),
            team_id: "A1B2C3D4E5".into(),
        })
    };
    let certificate = || {
        Upload::AppleDistributionCertificate(CertificateUpload {
            name: None,
            p12: Some(SecretString::new(&p12)),
            password: Some(SecretString::new("p12-pass")),
            private_key: None,
            certificate: None,
            team_id: None,
        })
    };
    let refused = |r: Result<Credential, ClientError>, what: &str, limit: &str, max: usize| {
        let p = refusal(r, 409, what);
        let v = &p.body;
        assert_eq!(p.kind, "limit", "{what}: {v}");
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
    let owner = server.client(&org.token);
    let limits = server.ok("org", owner.org(&org.id)).limits;
    assert_eq!(limits.push_keys_per_apple_team, 3, "{limits:?}");
    assert_eq!(
        limits.distribution_certificates_per_apple_team, 2,
        "{limits:?}"
    );
    for n in 1..=3 {
        server.ok(
            &format!("push key {n} of 3"),
            owner.upload(&org.id, &push_key(n)),
        );
    }
    refused(
        server.block_on(owner.upload(&org.id, &push_key(4))),
        "a fourth push key",
        "push keys",
        3,
    );
    for n in 1..=2 {
        server.ok(
            &format!("certificate {n} of 2"),
            owner.upload(&org.id, &certificate()),
        );
    }
    refused(
        server.block_on(owner.upload(&org.id, &certificate())),
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
    let owner = server.client(&org.token);
    refused(
        server.block_on(owner.upload(&org.id, &push_key(5))),
        "a push key over the lowered limit",
        "push keys",
        1,
    );
    refused(
        server.block_on(owner.upload(&org.id, &certificate())),
        "a certificate over the lowered limit",
        "distribution certificates",
        1,
    );
    let pushed = server
        .credentials(&owner, &org.id)
        .iter()
        .filter(|c| c.kind == Kind::ApplePushKey)
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
    let owner = server.client(&org.token);
    let id = server
        .ok("keystore", owner.upload(&org.id, &ks.upload()))
        .id;
    let deleted = server.ok("delete", owner.delete_credential(&org.id, &id));
    assert_eq!(deleted.deleted, id);
    thread::sleep(Duration::from_millis(20));
    let p = server.refused(
        "restore after a window of 0 days",
        409,
        owner.restore(&org.id, &id),
    );
    assert_eq!(p.kind, "restore-window-passed", "{}", p.body);
    assert!(p.detail.contains("0 days"), "{}", p.body);
    let c = server.ok("still deleted", owner.credential(&org.id, &id));
    assert!(c.deleted_at.is_some(), "{c:?}");
    drop(server);

    let server = site.start_with("data", &["--restore-window-days", "1"]);
    let owner = server.client(&org.token);
    let limits = server.ok("org", owner.org(&org.id)).limits;
    assert_eq!(limits.restore_window_days, 1, "{limits:?}");
    let c = server.ok(
        "restore within a window of 1 day",
        owner.restore(&org.id, &id),
    );
    assert!(c.deleted_at.is_none(), "{c:?}");
    let export = server.ok("export after restore", owner.export(&org.id, &id));
    ks.assert_exported(&export, "export after restore");
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
    let org = OrgId::parse(v["org"]["id"].as_str().expect("org id")).expect("an org id");
    let token = site.login(&server, "owner@acme.test", &password);
    let owner = server.client(&token);
    let wrong = site.password("wrong");
    server.refused(
        "wrong password",
        401,
        server
            .anonymous()
            .login("owner@acme.test", &SecretString::new(&wrong)),
    );
    let creds = format!("/v1/orgs/{org}/credentials");
    let id = server.ok("keystore", owner.upload(&org, &ks.upload())).id;
    server.ok("export", owner.export(&org, &id));
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
