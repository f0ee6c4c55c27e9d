//! The harness of the remote commands' tests: a running `signet serve` (SQLite or
//! PostgreSQL), Acme's owner, and people and robots who run the real `signet` binary, each
//! with a config dir of their own (`XDG_CONFIG_HOME`) and nothing from the test's
//! environment.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

use serde_json::Value;
use signet_client::{AppId, NewRobot, OrgId, Role};

use crate::{
    serve::{Backend, Server, Site},
    util::Run,
};

/// A server with an organization (Acme) and its owner, logged in with `signet login`.
pub(crate) struct Team {
    pub(crate) site: Site,
    pub(crate) server: Server,
    /// The server's URL.
    pub(crate) url: String,
    /// Acme's id.
    pub(crate) org: String,
    /// Acme's owner.
    pub(crate) owner: Person,
}

/// Someone who runs `signet`: their e-mail and password, their config dir, and their
/// session token once logged in.
pub(crate) struct Person {
    pub(crate) email: String,
    /// Their password (a secret of the site); empty for [`Team::nobody`].
    pub(crate) password: String,
    pub(crate) config: PathBuf,
    pub(crate) token: String,
}

impl Team {
    /// A server on `backend`, Acme, and its owner logged in through the CLI.
    pub(crate) fn new(backend: Backend) -> Team {
        Team::new_with(backend, &[])
    }

    /// [`Team::new`] with more `serve` flags (`--asc-url` of a simulator, …).
    pub(crate) fn new_with(backend: Backend, serve_flags: &[&str]) -> Team {
        let site = Site::new(backend);
        let server = site.start_with("data", serve_flags);
        let url = format!("http://{}", server.addr());
        let password = site.password("owner");
        let v = site.create_user("data", "owner@acme.test", &password, Some("Acme"));
        let org = v["org"]["id"].as_str().expect("org id").to_owned();
        let mut team = Team {
            site,
            server,
            url,
            org,
            owner: Person {
                email: String::new(),
                password: String::new(),
                config: PathBuf::new(),
                token: String::new(),
            },
        };
        team.owner = team.login("owner@acme.test", &password);
        team
    }

    /// `signet login --email … --password pass:…` into a config dir of the person's own.
    pub(crate) fn login(&self, email: &str, password: &str) -> Person {
        let config = self.site.dir.path(&format!("config-{email}"));
        std::fs::create_dir_all(&config).expect("config dir");
        let person = Person {
            email: email.to_owned(),
            password: password.to_owned(),
            config,
            token: String::new(),
        };
        self.run(
            &person,
            &[
                "login",
                "--server",
                &self.url,
                "--email",
                email,
                "--password",
                &format!("pass:{password}"),
            ],
        )
        .ok();
        let saved: Value = serde_json::from_slice(
            &std::fs::read(person.config.join("signet/config.json")).expect("saved login"),
        )
        .expect("config is JSON");
        let token = saved["token"].as_str().expect("a saved token").to_owned();
        self.site.secret(&token);
        Person { token, ..person }
    }

    /// Acme's id, typed.
    fn org_id(&self) -> OrgId {
        OrgId::parse(&self.org).expect("an org id")
    }

    /// A new user of Acme with `role`, added by the owner and logged in.
    pub(crate) fn member(&self, email: &str, role: &str) -> Person {
        let password = self.site.password(role);
        self.site.create_user("data", email, &password, None);
        let role = Role::parse(role).unwrap_or_else(|| panic!("no role {role}"));
        let owner = self.server.client(&self.owner.token);
        self.server.ok(
            &format!("add {email}"),
            owner.set_member(&self.org_id(), email, role),
        );
        self.login(email, &password)
    }

    /// A robot token of Acme with `role`, limited to `apps` (ids) when given.
    pub(crate) fn robot(&self, role: &str, apps: Option<&[&str]>) -> String {
        let robot = NewRobot {
            name: format!("ci-{role}"),
            role: Role::parse(role).unwrap_or_else(|| panic!("no role {role}")),
            app_ids: apps.map(|ids| {
                ids.iter()
                    .map(|id| AppId::parse(id).expect("an app id"))
                    .collect()
            }),
            expires_in_days: None,
        };
        let owner = self.server.client(&self.owner.token);
        let created = self
            .server
            .ok("a robot", owner.create_robot(&self.org_id(), &robot));
        let token = created.token.expose().to_owned();
        self.site.secret(&token);
        token
    }

    /// A call of the API as the owner with reqwest (for set-up the commands under test do
    /// not do, in the API's JSON).
    #[allow(dead_code, reason = "for the tests of the remote commands")]
    pub(crate) fn api(&self, method: &str, path: &str, body: &Value) -> Value {
        let response = self
            .server
            .send(method, path, Some(&self.owner.token), &[], Some(body));
        assert!(
            (200..300).contains(&response.status),
            "{method} {path}: {}",
            response.text()
        );
        serde_json::from_str(&response.text()).unwrap_or(Value::Null)
    }

    /// `signet` as `person`, with no `SIGNET_*` from the test's environment, stdin closed
    /// (not a terminal), in the site's directory.
    pub(crate) fn run(&self, person: &Person, args: &[&str]) -> Run {
        self.run_with(person, args, &[])
    }

    /// [`Team::run`] with more environment (`SIGNET_TOKEN`, …).
    pub(crate) fn run_with(&self, person: &Person, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(person);
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let out = cmd.output().expect("run signet");
        Run {
            what: format!("signet {}", args.join(" ")),
            out,
        }
    }

    /// The command `run` uses, to add to (stdin, a pseudo-terminal).
    pub(crate) fn command(&self, person: &Person) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
        cmd.current_dir(self.site.dir.root())
            .env("XDG_CONFIG_HOME", &person.config)
            .env("HOME", &person.config)
            .env("LC_ALL", "C");
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("SIGNET_") {
                cmd.env_remove(var);
            }
        }
        cmd
    }

    /// A person with no saved login (for `SIGNET_TOKEN` runs).
    pub(crate) fn nobody(&self) -> Person {
        let config = self.site.dir.path("config-nobody");
        std::fs::create_dir_all(&config).expect("config dir");
        Person {
            email: String::new(),
            password: String::new(),
            config,
            token: String::new(),
        }
    }
}

fn session_flow(backend: Backend) {
    let team = Team::new(backend);
    let owner = &team.owner;
    // The saved login is private.
    let config = owner.config.join("signet/config.json");
    assert_eq!(crate::serve::mode(&config), 0o600);
    assert_eq!(crate::serve::mode(config.parent().unwrap()), 0o700);
    let who = team.run(owner, &["whoami", "--json"]).json();
    assert_eq!(who["caller"]["user"]["email"], "owner@acme.test", "{who}");
    assert_eq!(who["org"]["id"], team.org.as_str(), "{who}");
    assert_eq!(who["org"]["role"], "owner", "{who}");
    assert!(!who.to_string().contains(&owner.token));

    // A member sees their own role.
    let dev = team.member("dev@acme.test", "developer");
    let who = team.run(&dev, &["whoami", "--json"]).json();
    assert_eq!(who["caller"]["user"]["email"], dev.email.as_str(), "{who}");
    assert_eq!(who["org"]["role"], "developer", "{who}");

    team.run(owner, &["app", "create", "acme-app"]).ok();
    let apps = team.run(owner, &["app", "list", "--json"]).json();
    assert_eq!(apps[0]["slug"], "acme-app", "{apps}");

    // A robot token in SIGNET_TOKEN, without a saved login.
    let robot = team.robot("viewer", None);
    let nobody = team.nobody();
    let env = [
        ("SIGNET_SERVER", team.url.as_str()),
        ("SIGNET_TOKEN", robot.as_str()),
    ];
    let listed = team.run_with(&nobody, &["app", "list"], &env).ok();
    assert!(listed.contains("acme-app"), "{listed}");
    // A viewer cannot create apps; the message names the role needed.
    let err = team
        .run_with(&nobody, &["app", "create", "other"], &env)
        .fails_with(1);
    assert!(
        err.contains("error: this needs the developer role or higher; you are viewer"),
        "{err}"
    );

    // The saved token goes to the saved server only: another one named by --server (or
    // SIGNET_SERVER) gets nothing, not even a connection.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    other.set_nonblocking(true).unwrap();
    let other_url = format!("http://{}", other.local_addr().unwrap());
    let err = team
        .run(owner, &["app", "list", "--server", &other_url])
        .fails_with(1);
    assert!(
        err.starts_with(&format!(
            "error: not logged in to {other_url} (the saved login is for {}, and its token is sent to no other server)",
            team.url
        )),
        "{err}"
    );
    let err = team
        .run_with(owner, &["logout"], &[("SIGNET_SERVER", other_url.as_str())])
        .fails_with(2);
    assert!(
        err.contains(&format!(
            "error: the saved login is for {}, not {other_url}",
            team.url
        )),
        "{err}"
    );
    assert!(
        matches!(other.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the other server was contacted"
    );

    // Logging out revokes the session on the server, and forgets it here.
    team.run(owner, &["logout"]).ok();
    assert!(!config.exists());
    let revoked = team.server.get("/v1/me", &owner.token);
    assert_eq!(revoked.status, 401, "{}", revoked.text());
    let err = team.run(owner, &["whoami"]).fails_with(2);
    assert!(
        err.contains("error: no server: log in with `signet login --server URL`"),
        "{err}"
    );

    // A server that is not there is named, with what to do.
    let port = crate::serve::free_port();
    let err = team
        .run(
            owner,
            &[
                "login",
                "--server",
                &format!("http://127.0.0.1:{port}"),
                "--email",
                "a@b.c",
                "--password",
                "pass:x",
            ],
        )
        .fails_with(1);
    assert!(
        err.starts_with(&format!("error: cannot connect to http://127.0.0.1:{port} ("))
            && err.contains("refused")
            && err.contains(&format!(")\nhint: is a signet server running at http://127.0.0.1:{port}? Start one with `signet serve`")),
        "{err}"
    );
    // Off a terminal, a login without an e-mail is a usage error, and nothing prompts.
    let err = team
        .run(owner, &["login", "--server", &team.url])
        .fails_with(2);
    assert!(
        err.contains("error: --email is needed when standard input is not a terminal"),
        "{err}"
    );
    team.site.assert_no_secrets_in_logs();
}

#[test]
fn session_on_sqlite() {
    session_flow(Backend::Sqlite);
}

#[test]
fn session_on_postgres() {
    session_flow(Backend::Postgres);
}
