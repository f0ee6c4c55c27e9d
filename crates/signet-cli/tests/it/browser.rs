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

use crate::{
    serve::{Backend, Site, free_port, unb64},
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

#[allow(dead_code, reason = "the page tests use the rest")]
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
        let field = self.find(&format!("[name=\"{name}\"]"));
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

    /// Clicks the element with id `id` (a submit button waits for the next page).
    pub(crate) fn click(&self, id: &str) {
        let element = self.find(&format!("[id=\"{id}\"]"));
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        );
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

#[allow(dead_code, reason = "the page tests use it")]
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
