//! The web page of `signet serve` in a real browser: Debian's chromium, headless, driven by
//! its chromedriver over W3C WebDriver (JSON over HTTP, sent with reqwest: the dozen
//! commands the tests use, no driver crate). Each [`Browser`] is a chromedriver process with
//! one session and a profile of its own, at a desktop size (1280×800) or a phone's (390×844,
//! by chromium's mobile emulation, so the page's viewport meta tag counts as on a phone).
//! Screenshots go to `<target dir>/screenshots/<test>-<page>-<width>.png`, the whole page.
//!
//! Chromium and chromedriver are installed by `scripts/test` (Debian's `chromium` and
//! `chromium-driver`, at /usr/bin); `SIGNET_TEST_CHROMIUM` and `SIGNET_TEST_CHROMEDRIVER`
//! name others. Without them these tests fail, never skip.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use signet_client::{Credential, CredentialId, OrgId};

use crate::{
    ios::{ProfileSpec, apns_key, apple_identity, profile_from},
    remote::{Person, Team},
    serve::{Backend, Site, b64, free_port, unb64},
    util::Dir,
};

/// The window a [`Browser`] renders into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewport {
    /// 1280×800, a laptop's window.
    Desktop,
    /// 390×844 at one device pixel per CSS pixel, a phone (mobile emulation: the viewport
    /// meta tag applies, as on a phone).
    Phone,
}

impl Viewport {
    fn size(self) -> (u32, u32) {
        match self {
            Viewport::Desktop => (1280, 800),
            Viewport::Phone => (390, 844),
        }
    }
}

/// A tool the browser tests need: the environment variable naming it, else Debian's path.
fn tool(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test, which installs Debian's chromium and \
         chromium-driver (or set {var})",
        path.display()
    );
    path
}

/// Where screenshots go: `screenshots/` in the target directory this test binary was built
/// into (the `signet` binary's `../..`), made when missing.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_signet"))
        .parent()
        .and_then(Path::parent)
        .expect("the signet binary is in <target>/<profile>/")
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// A WebDriver error: its code (`no such element`, …) and message.
#[derive(Debug)]
pub(crate) struct DriverError {
    pub(crate) error: String,
    pub(crate) message: String,
}

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Headless chromium at one [`Viewport`], on a server's pages. Every page it shows through
/// [`Browser::shot`] is checked for the site's secrets.
pub(crate) struct Browser<'s> {
    site: &'s Site,
    driver: Child,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    /// The server's URL, which paths are relative to.
    origin: String,
    test: String,
    viewport: Viewport,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    _profile: Dir,
}

impl<'s> Browser<'s> {
    /// Chromium on `origin` (a server's `http://host:port`) for the test `test`, which names
    /// its screenshots.
    pub(crate) fn new(site: &'s Site, origin: &str, test: &str, viewport: Viewport) -> Self {
        let chromium = tool("SIGNET_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("SIGNET_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let profile = Dir::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let (driver, base) = start_driver(&chromedriver, &profile, &runtime, &http);
        let (width, height) = viewport.size();
        let args = [
            "--headless=new".to_owned(),
            // Root in a container has no user namespaces for the sandbox.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.path("chromium").display()),
        ];
        // The viewport is set by emulation: a window's size would include what headless
        // chromium keeps of a window's frame.
        let phone = viewport == Viewport::Phone;
        let options = json!({
            "binary": chromium,
            "args": args,
            "mobileEmulation": {
                "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 1.0,
                    "mobile": phone, "touch": phone,
                }
            },
        });
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": options,
                }
            }
        });
        let created = runtime
            .block_on(command(
                &http,
                "POST",
                &format!("{base}/session"),
                Some(&capabilities),
            ))
            .unwrap_or_else(|e| panic!("a chromium session: {e:?}"));
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id: {created}"));
        let browser = Browser {
            site,
            driver,
            session: format!("{base}/session/{id}"),
            origin: origin.trim_end_matches('/').to_owned(),
            test: test.to_owned(),
            viewport,
            http,
            runtime,
            _profile: profile,
        };
        // A desktop's layout viewport is the window; a phone's follows the page's viewport
        // meta tag (980 px without one, as on a phone), and its screen is the phone's.
        let script = match viewport {
            Viewport::Desktop => "return [window.innerWidth, window.innerHeight]",
            Viewport::Phone => "return [screen.width, screen.height]",
        };
        let size = browser.execute(script, &[]);
        assert_eq!(size, json!([width, height]), "a {viewport:?} browser");
        browser
    }

    /// The viewport's width in CSS pixels.
    pub(crate) fn width(&self) -> u32 {
        self.viewport.size().0
    }

    /// A WebDriver command on this session (`path` after `/session/<id>`); its `value`.
    pub(crate) fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DriverError> {
        let url = format!("{}{path}", self.session);
        self.runtime
            .block_on(command(&self.http, method, &url, body))
    }

    /// [`Browser::try_call`] that must succeed.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.try_call(method, path, body).unwrap_or_else(|e| {
            panic!(
                "WebDriver {method} {path} on {}: {}: {}",
                self.current_url(),
                e.error,
                e.message
            )
        })
    }

    /// The URL shown, as the browser has it.
    pub(crate) fn current_url(&self) -> String {
        self.try_call("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The path (and query) shown, without the server's origin.
    pub(crate) fn path(&self) -> String {
        let url = self.current_url();
        url.strip_prefix(&self.origin).unwrap_or(&url).to_owned()
    }

    /// Opens `path` on the server and waits for it to load.
    pub(crate) fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.origin);
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// The element `css` selects, if any.
    pub(crate) fn try_find(&self, css: &str) -> Option<String> {
        match self.try_call(
            "POST",
            "/element",
            Some(&json!({ "using": "css selector", "value": css })),
        ) {
            Ok(v) => Some(
                v[ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("not an element: {v}"))
                    .to_owned(),
            ),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css} on {}: {}: {}", self.path(), e.error, e.message),
        }
    }

    /// The element `css` selects, which must be there.
    pub(crate) fn find(&self, css: &str) -> String {
        self.try_find(css).unwrap_or_else(|| {
            panic!(
                "no {css} on {}:\n{}",
                self.path(),
                self.text("body").unwrap_or_default()
            )
        })
    }

    /// How many elements `css` selects.
    pub(crate) fn count(&self, css: &str) -> usize {
        let found = self.call(
            "POST",
            "/elements",
            Some(&json!({ "using": "css selector", "value": css })),
        );
        found.as_array().map_or(0, Vec::len)
    }

    /// Types `value` into the field named `name` (emptied first); a file input gets the
    /// file's path.
    pub(crate) fn fill(&self, name: &str, value: &str) {
        self.fill_css(&format!("[name=\"{name}\"]"), value);
    }

    /// [`Browser::fill`] on the field `css` selects.
    pub(crate) fn fill_css(&self, css: &str, value: &str) {
        let field = self.find(css);
        let kind = self.call("GET", &format!("/element/{field}/attribute/type"), None);
        if kind != "file" {
            self.call("POST", &format!("/element/{field}/clear"), Some(&json!({})));
        }
        self.call(
            "POST",
            &format!("/element/{field}/value"),
            Some(&json!({ "text": value })),
        );
    }

    /// Picks the option `value` of the select named `name`.
    pub(crate) fn choose(&self, name: &str, value: &str) {
        let option = self.find(&format!(
            "select[name=\"{name}\"] option[value=\"{value}\"]"
        ));
        self.call(
            "POST",
            &format!("/element/{option}/click"),
            Some(&json!({})),
        );
    }

    /// Clicks the element with id `id` (a link or a form's button) and waits for the page
    /// it leads to.
    pub(crate) fn click(&self, id: &str) {
        self.click_css(&format!("[id=\"{id}\"]"));
    }

    /// [`Browser::click`] on the element `css` selects.
    pub(crate) fn click_css(&self, css: &str) {
        let element = self.find(css);
        let old = self.find("html");
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        );
        // WebDriver's click may return before the navigation it starts: wait until the
        // page's root is gone and the new one has loaded.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut replaced = false;
        loop {
            if !replaced {
                match self.try_call("GET", &format!("/element/{old}/name"), None) {
                    Err(e) if e.error == "stale element reference" => replaced = true,
                    Ok(_) => {}
                    Err(e) => panic!("after clicking {css}: {}: {}", e.error, e.message),
                }
            }
            if replaced
                && self
                    .try_call(
                        "POST",
                        "/execute/sync",
                        Some(&json!({ "script": "return document.readyState", "args": [] })),
                    )
                    .is_ok_and(|state| state == "complete")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css} on {} led to no new page in 30 s",
                self.path()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The rendered text of the element `css` selects, if there is one.
    pub(crate) fn text(&self, css: &str) -> Option<String> {
        let element = self.try_find(css)?;
        let text = self.call("GET", &format!("/element/{element}/text"), None);
        Some(text.as_str().unwrap_or_default().to_owned())
    }

    /// The page's rendered text.
    pub(crate) fn body(&self) -> String {
        self.text("body").unwrap_or_default()
    }

    /// The page's HTML, as the browser has it now.
    pub(crate) fn html(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its return value.
    /// WebDriver's scripts run outside the page's Content-Security-Policy.
    pub(crate) fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// The status of a `fetch` from the page (same origin, its cookies): `method` on `path`
    /// with `form` as an `application/x-www-form-urlencoded` body when given. Redirects are
    /// not followed (a redirect answers 0, fetch's opaque redirect).
    pub(crate) fn fetch_status(
        &self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> u16 {
        let body = form.map(|fields| {
            fields
                .iter()
                .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
                .collect::<Vec<_>>()
                .join("&")
        });
        let status = self.call(
            "POST",
            "/execute/async",
            Some(&json!({
                "script": "const [path, method, body, done] = arguments; \
                    const init = { method, redirect: 'manual', credentials: 'same-origin' }; \
                    if (body !== null) { init.body = body; \
                      init.headers = { 'content-type': 'application/x-www-form-urlencoded' }; } \
                    fetch(path, init).then(r => done(r.status), e => done('fetch: ' + e));",
                "args": [path, method, body],
            })),
        );
        status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_else(|| panic!("{method} {path}: {status}"))
    }

    /// The browser's cookies for the page shown (HttpOnly ones too).
    pub(crate) fn cookies(&self) -> Vec<Value> {
        match self.call("GET", "/cookie", None) {
            Value::Array(cookies) => cookies,
            other => panic!("cookies: {other}"),
        }
    }

    /// A screenshot of the whole page into `screenshots/<test>-<page>-<width>.png`, after
    /// asserting that no secret of the site is in its HTML; the file's path.
    pub(crate) fn shot(&self, page: &str) -> PathBuf {
        let html = self.html();
        self.site
            .assert_no_secrets_in(&format!("{page} ({})", self.path()), &html);
        let shot = self.call(
            "POST",
            "/goog/cdp/execute",
            Some(&json!({
                "cmd": "Page.captureScreenshot",
                "params": { "format": "png", "captureBeyondViewport": true },
            })),
        );
        let png = unb64(shot["data"].as_str().unwrap_or_else(|| panic!("{shot}")));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        let file = screenshot_dir().join(format!("{}-{page}-{}.png", self.test, self.width()));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        file
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self.try_call("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `application/x-www-form-urlencoded`'s escaping of one name or value.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Starts chromedriver on a free port (logging into the profile dir) and waits until it is
/// ready; the process and its URL.
fn start_driver(
    chromedriver: &Path,
    profile: &Dir,
    runtime: &tokio::runtime::Runtime,
    http: &reqwest::Client,
) -> (Child, String) {
    for attempt in 0.. {
        let port = free_port();
        let log = std::fs::File::create(profile.path("chromedriver.log")).expect("a log file");
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromedriver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                let log =
                    std::fs::read_to_string(profile.path("chromedriver.log")).unwrap_or_default();
                // Another process took the port between asking and binding.
                assert!(attempt < 5, "chromedriver exited ({status}):\n{log}");
                break;
            }
            let ready = runtime
                .block_on(command(http, "GET", &format!("{base}/status"), None))
                .is_ok_and(|v| v["ready"] == true);
            if ready {
                return (child, base);
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after 30 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    unreachable!()
}

/// One WebDriver request; the answer's `value`, or its error.
async fn command(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, DriverError> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let transport = |e: reqwest::Error| DriverError {
        error: "transport".to_owned(),
        message: e.to_string(),
    };
    let response = request.send().await.map_err(transport)?;
    let answer: Value = response.json().await.map_err(transport)?;
    let value = answer["value"].clone();
    match value["error"].as_str() {
        Some(error) => Err(DriverError {
            error: error.to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        }),
        None => Ok(value),
    }
}

// ---------------------------------------------------------------------------------------
// The harness on what every server has.

/// `/healthz` in chromium at both sizes: the harness works (driver, session, viewport,
/// text, HTML, screenshot).
#[test]
fn healthz_in_chromium() {
    let site = Site::new(Backend::Sqlite);
    let server = site.start("data");
    let origin = format!("http://{}", server.addr());
    // A secret for the check of the page to look for.
    let _ = site.password("nobody");
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let browser = Browser::new(&site, &origin, "healthz", viewport);
        browser.goto("/healthz");
        assert_eq!(browser.path(), "/healthz");
        assert_eq!(browser.body(), "ok");
        assert!(browser.html().contains(">ok<"), "{}", browser.html());
        let file = browser.shot("healthz");
        let png = std::fs::read(&file).expect("the screenshot");
        // The PNG's IHDR: width and height, big-endian, at bytes 16..24.
        // A page without a viewport meta tag (this text) is laid out 980 px wide on a
        // phone, as a phone does, and the whole page is in the screenshot.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let laid_out = match viewport {
            Viewport::Desktop => 1280,
            Viewport::Phone => 980,
        };
        assert_eq!(width, laid_out, "{}", file.display());
    }
}

// ---------------------------------------------------------------------------------------
// The pages, by the contract at the top of signet-server's `web/mod.rs` (URLs, field
// names, ids, error texts). SQLite is enough here: the store's behaviour is tested on both
// backends elsewhere.

const APP: &str = "acme-app";
const PKG: &str = "com.acme.app";

/// What the web page says for a refused delete confirmation (`web::CONFIRM_MISMATCH`).
const CONFIRM_MISMATCH: &str = "type the credential's name exactly to confirm";

impl Browser<'_> {
    /// Signs in through the login form; the session cookie's value becomes a secret of
    /// the site (no page may show it).
    fn sign_in(&self, person: &Person) {
        self.goto("/login");
        self.fill("email", &person.email);
        self.fill("password", &person.password);
        self.click("login-submit");
        let cookie = self
            .session_cookie()
            .unwrap_or_else(|| panic!("no session cookie after signing in: {}", self.body()));
        self.site
            .secret(cookie["value"].as_str().expect("a cookie's value"));
    }

    /// The `signet_session` cookie, if the browser has one.
    fn session_cookie(&self) -> Option<Value> {
        self.cookies()
            .into_iter()
            .find(|c| c["name"] == "signet_session")
    }

    /// The CSRF token of the page's forms (the sign-out form's hidden field).
    fn csrf(&self) -> String {
        let value = self.execute(
            "return document.querySelector('#logout-form input[name=csrf]').value",
            &[],
        );
        value
            .as_str()
            .unwrap_or_else(|| panic!("no CSRF field on {}", self.path()))
            .to_owned()
    }

    /// A screenshot of the page as `page` ([`Browser::shot`]: no secret in its HTML),
    /// after asserting, on a phone, that the page is laid out at the phone's width (its
    /// viewport meta tag) with nothing wider than the screen.
    fn page(&self, page: &str) -> PathBuf {
        if self.viewport == Viewport::Phone {
            let widths = self.execute(
                "return [window.innerWidth, document.documentElement.scrollWidth]",
                &[],
            );
            assert_eq!(
                widths,
                json!([390, 390]),
                "{page} ({}) on a phone: [layout width, content width]",
                self.path()
            );
        }
        self.shot(page)
    }
}

/// A keystore file made by `signet keystore generate` in the site's directory: its path,
/// its store password and its base64 (both secrets of the site).
struct KeystoreFile {
    path: PathBuf,
    password: String,
    b64: String,
}

fn keystore_file(site: &Site, name: &str, dname: &str, validity_days: u32) -> KeystoreFile {
    let password = site.password("store");
    let file = format!("{name}.p12");
    site.dir
        .signet(&[
            "keystore",
            "generate",
            "--out",
            &file,
            "--store-pass",
            &format!("pass:{password}"),
            "--key-alg",
            "ec",
            "--dname",
            dname,
            "--validity-days",
            &validity_days.to_string(),
        ])
        .ok();
    let b64 = b64(&site.dir.read(&file));
    site.secret(&b64);
    KeystoreFile {
        path: site.dir.path(&file),
        password,
        b64,
    }
}

/// Acme on SQLite with an app and the owner's keystore `name` uploaded through the API,
/// the default build set `release` of [`PKG`] signing with it; the keystore's id.
fn acme_with_keystore(name: &str) -> (Team, CredentialId) {
    let team = Team::new(Backend::Sqlite);
    let id = upload_keystore(&team, name, "CN=Acme Release, O=Acme", 3650);
    let owner = team.server.client(&team.owner.token);
    let org = org_id(&team);
    team.server.ok("an app", owner.create_app(&org, APP));
    team.server.ok(
        "a build set",
        owner.put_build_set(&org, APP, PKG, "release", &id, true, None),
    );
    (team, id)
}

/// Uploads a keystore named `name` as the owner through the API; its id.
fn upload_keystore(team: &Team, name: &str, dname: &str, validity_days: u32) -> CredentialId {
    let file = keystore_file(&team.site, name, dname, validity_days);
    let v = team.api(
        "POST",
        &format!("/v1/orgs/{}/credentials", team.org),
        &json!({
            "type": "android-keystore",
            "name": name,
            "keystore": file.b64,
            "store_password": file.password,
        }),
    );
    CredentialId::parse(v["id"].as_str().expect("an id")).expect("a credential id")
}

fn org_id(team: &Team) -> OrgId {
    OrgId::parse(&team.org).expect("an org id")
}

/// Acme's live credentials, through the API as its owner.
fn live_credentials(team: &Team) -> Vec<Credential> {
    let owner = team.server.client(&team.owner.token);
    team.server.credentials(&owner, &org_id(team))
}

/// Signing in and out; a wrong password refused at the form, with no cookie set.
#[test]
fn sign_in_wrong_password_and_sign_out() {
    let team = Team::new(Backend::Sqlite);
    let org = &team.org;
    let b = Browser::new(&team.site, &team.url, "sign-in", Viewport::Desktop);
    // Not signed in: the pages send to the login form.
    b.goto(&format!("/orgs/{org}"));
    assert_eq!(b.path(), "/login");
    b.page("login");

    // A wrong password: the form again, the reason in words, no session, and the
    // password not echoed (the page's check of secrets).
    let wrong = team.site.password("wrong");
    b.fill("email", &team.owner.email);
    b.fill("password", &wrong);
    b.click("login-submit");
    assert_eq!(b.path(), "/login");
    assert_eq!(
        b.text("p#login-error.form-error").as_deref(),
        Some("wrong e-mail or password")
    );
    assert!(b.session_cookie().is_none(), "{:?}", b.cookies());
    b.page("login-wrong-password");

    // The right one: the organization's overview, with a cookie scripts cannot read.
    b.sign_in(&team.owner);
    assert_eq!(b.path(), format!("/orgs/{org}"));
    let cookie = b.session_cookie().expect("the session cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");
    assert_eq!(b.execute("return document.cookie", &[]), "");
    let token = cookie["value"].as_str().expect("a value").to_owned();
    assert!(token.starts_with("sgu_"), "a session token");
    team.server
        .ok("the session works", team.server.client(&token).me());
    b.page("overview");

    // Signing out revokes the session on the server and forgets the cookie.
    b.click("logout-submit");
    assert_eq!(b.path(), "/login");
    assert!(b.session_cookie().is_none(), "{:?}", b.cookies());
    assert_eq!(team.server.get("/v1/me", &token).status, 401);
    b.goto(&format!("/orgs/{org}"));
    assert_eq!(b.path(), "/login");
    team.site.assert_no_secrets_in_logs();
}

/// A keystore uploaded with a wrong store password: the error at that field, nothing
/// stored; with the right one, the keystore is stored and shown.
#[test]
fn upload_with_a_wrong_store_password_stores_nothing() {
    let team = Team::new(Backend::Sqlite);
    let org = &team.org;
    let file = keystore_file(&team.site, "upload", "CN=Acme Upload, O=Acme", 3650);
    let b = Browser::new(&team.site, &team.url, "upload", Viewport::Desktop);
    b.sign_in(&team.owner);
    b.goto(&format!("/orgs/{org}/credentials"));
    b.click("upload-link");
    b.page("upload-types");
    b.goto(&format!("/orgs/{org}/upload?type=android-keystore"));
    b.page("upload-keystore");

    let wrong = team.site.password("wrong-store");
    b.fill("name", "Play upload key");
    b.fill("keystore", &file.path.display().to_string());
    b.fill("store_password", &wrong);
    b.click("upload-submit");
    assert_eq!(
        b.count("div.field[data-field=\"store_password\"].has-error"),
        1,
        "{}",
        b.body()
    );
    let error = b
        .text("p.field-error#error-store_password")
        .unwrap_or_default();
    assert!(error.contains("keystore password is incorrect"), "{error}");
    // Only that field is marked.
    assert_eq!(b.count(".has-error"), 1, "{}", b.body());
    b.page("upload-wrong-store-password");
    assert!(live_credentials(&team).is_empty(), "something was stored");
    let audit = team
        .server
        .audit(&team.server.client(&team.owner.token), &org_id(&team));
    assert!(
        audit.iter().all(|r| r.action != "credential.create"),
        "{audit:?}"
    );

    // The right password: stored, and its page shows it.
    b.fill("name", "Play upload key");
    b.fill("keystore", &file.path.display().to_string());
    b.fill("store_password", &file.password);
    b.click("upload-submit");
    let stored = live_credentials(&team);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].name, "Play upload key");
    assert_eq!(
        b.path(),
        format!("/orgs/{org}/credentials/{}", stored[0].id)
    );
    let metadata = b.text("dl#metadata").unwrap_or_default();
    assert!(metadata.contains("CN=Acme Upload, O=Acme"), "{metadata}");
    b.page("credential");
    team.site.assert_no_secrets_in_logs();
}

/// Set default and rename on the app's page, checked through the API.
#[test]
fn set_default_and_rename_a_build_set() {
    let (team, release) = acme_with_keystore("release key");
    let org = org_id(&team);
    let owner = team.server.client(&team.owner.token);
    let upload = upload_keystore(&team, "upload key", "CN=Acme Upload, O=Acme", 3650);
    let set = team.server.ok(
        "a second build set",
        owner.put_build_set(&org, APP, PKG, "upload", &upload, false, None),
    );
    let b = Browser::new(&team.site, &team.url, "build-sets", Viewport::Desktop);
    b.sign_in(&team.owner);
    let page = format!("/orgs/{org}/apps/{APP}");
    b.goto(&page);
    let default_badge = |name: &str| {
        b.count(&format!(
            "section.application-id[data-application-id=\"{PKG}\"] \
             tr.build-set[data-name=\"{name}\"] span.badge-default"
        ))
    };
    assert_eq!((default_badge("release"), default_badge("upload")), (1, 0));
    assert_eq!(b.count(&format!("div.keystore[data-id=\"{release}\"]")), 1);
    b.page("app");

    b.click_css(&format!("form#set-default-{} .set-default-submit", set.id));
    assert_eq!(b.path(), page);
    assert_eq!((default_badge("release"), default_badge("upload")), (0, 1));
    let sets = team.server.ok("the app", owner.app(&org, APP)).build_sets;
    let default: Vec<&str> = sets
        .iter()
        .filter(|s| s.is_default)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(default, ["upload"], "{sets:?}");

    b.fill_css(
        &format!("form#rename-{} [name=\"new_name\"]", set.id),
        "play",
    );
    b.click_css(&format!("form#rename-{} .rename-submit", set.id));
    assert_eq!(b.path(), page);
    assert_eq!(default_badge("play"), 1, "{}", b.body());
    let sets = team.server.ok("the app", owner.app(&org, APP)).build_sets;
    let mut names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["play", "release"], "{sets:?}");
    b.page("app-after-rename");
    team.site.assert_no_secrets_in_logs();
}

/// The delete flow: the impact shown, a wrong name refused at the field (nothing deleted),
/// the right name deletes; the deleted list restores it.
#[test]
fn delete_shows_the_impact_needs_the_name_and_restore_undoes_it() {
    let (team, id) = acme_with_keystore("release key");
    let org = &team.org;
    let b = Browser::new(&team.site, &team.url, "delete", Viewport::Desktop);
    b.sign_in(&team.owner);
    b.goto(&format!("/orgs/{org}/credentials/{id}"));
    b.click("delete-link");
    assert_eq!(b.path(), format!("/orgs/{org}/credentials/{id}/delete"));
    let summary = b.text("p#impact-summary").unwrap_or_default();
    assert!(!summary.is_empty(), "no impact summary: {}", b.body());
    let used_by = b.text("ul#impact-used-by").unwrap_or_default();
    assert!(
        used_by.contains(APP) && used_by.contains(PKG) && used_by.contains("release"),
        "{used_by}"
    );
    let impact = b.text("div#impact").unwrap_or_default();
    assert!(
        impact.contains("Nothing is revoked at Apple or Google."),
        "{impact}"
    );
    b.page("delete");

    // A name that is not the credential's: refused at the field, nothing deleted.
    b.fill("confirm_name", "release");
    b.click("delete-submit");
    assert_eq!(
        b.text("p.field-error#error-confirm_name").as_deref(),
        Some(CONFIRM_MISMATCH),
        "{}",
        b.body()
    );
    assert_eq!(
        b.count("div.field[data-field=\"confirm_name\"].has-error"),
        1
    );
    assert_eq!(live_credentials(&team).len(), 1);
    b.page("delete-wrong-name");

    // The right name deletes it; the deleted list has it.
    b.fill("confirm_name", "release key");
    b.click("delete-submit");
    assert_eq!(b.path(), format!("/orgs/{org}/deleted"));
    assert_eq!(b.count(&format!("tr.deleted[data-id=\"{id}\"]")), 1);
    assert!(live_credentials(&team).is_empty(), "not deleted");
    b.page("deleted");

    // Restore: the credential's page again, and it is live.
    b.click_css(&format!("form#restore-{id} .restore-submit"));
    assert_eq!(b.path(), format!("/orgs/{org}/credentials/{id}"));
    let live = live_credentials(&team);
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].id, id);
    b.goto(&format!("/orgs/{org}/deleted"));
    assert_eq!(b.count("tr.deleted"), 0, "{}", b.body());
    team.site.assert_no_secrets_in_logs();
}

/// A viewer sees no upload, download, delete or build-set control, and their URLs answer
/// 403 and change nothing.
#[test]
fn a_viewer_sees_no_write_controls_and_gets_403() {
    let (team, id) = acme_with_keystore("release key");
    let org = &team.org;
    let viewer = team.member("viewer@acme.test", "viewer");
    let b = Browser::new(&team.site, &team.url, "viewer", Viewport::Desktop);
    b.sign_in(&viewer);

    b.goto(&format!("/orgs/{org}/credentials"));
    assert_eq!(b.count(&format!("tr.credential[data-id=\"{id}\"]")), 1);
    assert_eq!(b.count("a#upload-link"), 0);
    b.page("credentials");
    b.goto(&format!("/orgs/{org}/credentials/{id}"));
    assert!(b.text("dl#metadata").is_some(), "{}", b.body());
    assert_eq!(b.count("a#delete-link"), 0);
    assert_eq!(b.count("a.download-certificate"), 0);
    b.page("credential");
    b.goto(&format!("/orgs/{org}/apps/{APP}"));
    assert_eq!(b.count(&format!("div.keystore[data-id=\"{id}\"]")), 1);
    assert_eq!(b.count("tr.build-set[data-name=\"release\"]"), 1);
    for control in ["form.set-default", "form.rename", "a.download-certificate"] {
        assert_eq!(b.count(control), 0, "{control} shown to a viewer");
    }
    b.page("app");

    // The URLs of those controls: 403.
    let csrf = b.csrf();
    let set = format!("/orgs/{org}/apps/{APP}/android/{PKG}/build-sets/release");
    let gets = [
        format!("/orgs/{org}/upload?type=android-keystore"),
        format!("/orgs/{org}/credentials/{id}/certificate.pem"),
        format!("/orgs/{org}/credentials/{id}/delete"),
        format!("/orgs/{org}/deleted"),
    ];
    for path in &gets {
        assert_eq!(b.fetch_status("GET", path, None), 403, "GET {path}");
    }
    let posts: [(String, Vec<(&str, &str)>); 5] = [
        (
            format!("/orgs/{org}/upload"),
            vec![
                ("csrf", &csrf),
                ("type", "fcm-legacy-key"),
                ("server_key", "x"),
            ],
        ),
        (
            format!("/orgs/{org}/credentials/{id}/delete"),
            vec![("csrf", &csrf), ("confirm_name", "release key")],
        ),
        (
            format!("/orgs/{org}/credentials/{id}/restore"),
            vec![("csrf", &csrf)],
        ),
        (format!("{set}/default"), vec![("csrf", &csrf)]),
        (
            format!("{set}/rename"),
            vec![("csrf", &csrf), ("new_name", "mine")],
        ),
    ];
    for (path, form) in &posts {
        assert_eq!(b.fetch_status("POST", path, Some(form)), 403, "POST {path}");
    }
    // Nothing changed.
    let live = live_credentials(&team);
    assert_eq!(live.len(), 1, "{live:?}");
    let owner = team.server.client(&team.owner.token);
    let sets = team
        .server
        .ok("the app", owner.app(&org_id(&team), APP))
        .build_sets;
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(
        (sets[0].name.as_str(), sets[0].is_default),
        ("release", true)
    );

    // Opened in the browser, the page says why.
    b.goto(&format!("/orgs/{org}/upload?type=android-keystore"));
    assert_eq!(
        b.text("p#error-message").as_deref(),
        Some("this needs the developer role or higher; you are viewer"),
        "{}",
        b.body()
    );
    b.page("forbidden");
    team.site.assert_no_secrets_in_logs();
}

/// Acme with something on every page: two build sets (one keystore expiring in 10 days),
/// an iOS build pair and push key, a deleted keystore, a viewer and a robot; the owner's
/// keystore id.
fn acme_with_everything() -> (Team, CredentialId) {
    let (team, release) = acme_with_keystore("release key");
    let org = org_id(&team);
    let owner = team.server.client(&team.owner.token);
    let soon = upload_keystore(&team, "staging key", "CN=Acme Staging, O=Acme", 10);
    team.server.ok(
        "a build set",
        owner.put_build_set(&org, APP, PKG, "staging", &soon, false, None),
    );
    let old = upload_keystore(&team, "old key", "CN=Acme Old, O=Acme", 3650);
    team.server
        .ok("delete a keystore", owner.delete_credential(&org, &old));

    let dir = &team.site.dir;
    apple_identity(dir, false, "dist.p12");
    profile_from(
        dir,
        &ProfileSpec {
            cert_pem: "dist.pem",
            team: "A1B2C3D4E5",
            app_id: "com.acme.*",
            expires: "2099-01-01T00:00:00Z",
            devices: false,
            get_task_allow: false,
            aps: true,
        },
        "store.mobileprovision",
    );
    let p12 = b64(&dir.read("dist.p12"));
    team.site.secret(&p12);
    let creds = format!("/v1/orgs/{}/credentials", team.org);
    let id = |v: Value| CredentialId::parse(v["id"].as_str().expect("an id")).expect("an id");
    let cert = id(team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-distribution-certificate", "name": "dist cert",
                 "p12": p12, "password": "p12-pass" }),
    ));
    let profile = id(team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-provisioning-profile", "name": "store profile",
                 "profile": b64(&dir.read("store.mobileprovision")) }),
    ));
    team.server.ok(
        "a build pair",
        owner.put_build_pair(&org, APP, PKG, "app-store", &cert, &profile, None),
    );
    apns_key(dir, "AuthKey_ABC123DEFG.p8");
    let p8 = String::from_utf8(dir.read("AuthKey_ABC123DEFG.p8")).expect("PEM");
    team.site.secret(&p8);
    let push = id(team.api(
        "POST",
        &creds,
        &json!({ "type": "apple-push-key", "name": "push key", "p8": p8,
                 "key_id": "ABC123DEFG", "team_id": "A1B2C3D4E5" }),
    ));
    team.server.ok(
        "the push key slot",
        owner.set_slot(&org, APP, "ios", PKG, "push-key", &push),
    );
    team.member("viewer@acme.test", "viewer");
    team.member("dev@acme.test", "developer");
    team.robot("viewer", None);
    (team, release)
}

/// Every page at 1280×800 and at a phone's 390 px: laid out at the phone's width with
/// nothing wider, no secret in the HTML (passwords, key bytes, the session token), a
/// screenshot of each.
#[test]
fn every_page_at_desktop_and_phone_width() {
    let (team, release) = acme_with_everything();
    let org = &team.org;
    let pages = [
        ("overview", format!("/orgs/{org}")),
        ("app", format!("/orgs/{org}/apps/{APP}")),
        ("credentials", format!("/orgs/{org}/credentials")),
        ("credential", format!("/orgs/{org}/credentials/{release}")),
        ("upload-types", format!("/orgs/{org}/upload")),
        (
            "upload-keystore",
            format!("/orgs/{org}/upload?type=android-keystore"),
        ),
        (
            "upload-certificate",
            format!("/orgs/{org}/upload?type=apple-distribution-certificate"),
        ),
        (
            "delete",
            format!("/orgs/{org}/credentials/{release}/delete"),
        ),
        ("deleted", format!("/orgs/{org}/deleted")),
        ("audit", format!("/orgs/{org}/audit")),
        ("members", format!("/orgs/{org}/members")),
        ("robots", format!("/orgs/{org}/robots")),
    ];
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let b = Browser::new(&team.site, &team.url, "pages", viewport);
        b.goto("/login");
        b.page("login");
        b.sign_in(&team.owner);
        for (name, path) in &pages {
            b.goto(path);
            assert_eq!(&b.path(), path, "{name}");
            assert!(
                b.try_find("p#error-message").is_none(),
                "{name}: {}",
                b.body()
            );
            b.page(name);
        }
        // The app page shows both platforms and the expiring keystore's badge.
        b.goto(&format!("/orgs/{org}/apps/{APP}"));
        assert_eq!(b.count("section#android tr.build-set"), 2, "{}", b.body());
        assert_eq!(
            b.count("section#ios tr.build-pair[data-distribution=\"app-store\"]"),
            1
        );
        assert_eq!(b.count("section#ios tr.slot[data-slot=\"push-key\"]"), 1);
        assert!(b.count("span.badge-expiring") >= 1, "{}", b.body());
        // A robot made through the form: its token shown once.
        b.goto(&format!("/orgs/{org}/robots"));
        b.fill("name", &format!("ci-{}", b.width()));
        b.choose("role", "developer");
        b.click("robot-create-submit");
        let token = b.text("code#robot-token").unwrap_or_default();
        assert!(token.starts_with("sgr_"), "{}", b.body());
        b.page("robot-created");
        b.goto(&format!("/orgs/{org}/robots"));
        assert!(!b.html().contains(&token), "the robot's token shown again");
    }
    team.site.assert_no_secrets_in_logs();
}
