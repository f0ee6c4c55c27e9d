//! `signet build-credentials fetch`: one build's credentials into a directory, for CI.
//!
//! The token is a robot's (`SIGNET_TOKEN` with `SIGNET_SERVER`) or the saved login's; the
//! fetch is the server's audited build-credentials read, which needs the developer role.
//! The files go where a credentials.json in `--out-dir` says, else at eas-cli's default
//! paths under it, with that credentials.json (other keys kept), all 0600, the directory
//! made 0700 if missing; nothing is written unless the fetch succeeded. Run it with the
//! project directory as `--out-dir` for `eas build --local`, which reads credentials.json
//! there. The output names paths and facts (ids, fingerprints, expiry), never a password;
//! files git does not ignore, in a git work tree, are warned about on standard error.

use serde::Serialize;
use signet_client::{BuildCredentials, BuildQuery, Credential};

use crate::{
    UsageError,
    cmd::credentials_sync::{
        android_material, application_id, ios_material, only_bundle_id,
        project::{self, IosMaterials, Project},
        sha256,
    },
    flags::{BuildPlatformArg, FetchArgs},
    output,
    remote::Remote,
};

/// What `fetch` wrote and what it fetched (no secret).
#[derive(Debug, Serialize)]
struct Fetched {
    out_dir: String,
    credentials_json: String,
    files: Vec<String>,
    app: String,
    platform: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_set: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution: Option<String>,
    credentials: Vec<Fact>,
}

/// A credential handed out, by its metadata.
#[derive(Debug, Serialize)]
struct Fact {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

impl Fact {
    fn of(c: &Credential) -> Fact {
        Fact {
            id: c.id.to_string(),
            kind: c.kind.name(),
            name: c.name.clone(),
            sha256: sha256(&c.metadata).map(str::to_owned),
            expires_at: c.expires_at,
        }
    }
}

/// `signet build-credentials fetch`.
pub fn fetch(args: &FetchArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let distribution = crate::cmd::ios::distribution(args.distribution).name();
    let query = match args.platform {
        BuildPlatformArg::Android => {
            if args.bundle_id.is_some() {
                return Err(UsageError(
                    "--bundle-id names an iOS bundle; for Android give --application-id (and --name)"
                        .into(),
                )
                .into());
            }
            let application_id = match &args.application_id {
                Some(a) => a.clone(),
                None => {
                    let app = remote.block_on(remote.client.app(&remote.org, &args.app))?;
                    application_id(&app, None)?.ok_or_else(|| {
                        anyhow::anyhow!(
                            "app `{}` has no Android build set: there are no credentials to fetch",
                            app.app.slug
                        )
                    })?
                }
            };
            BuildQuery::Android {
                application_id,
                name: args.name.clone(),
            }
        }
        BuildPlatformArg::Ios => {
            if args.name.is_some() {
                return Err(UsageError(
                    "--name names an Android build set; for iOS give --bundle-id and --distribution"
                        .into(),
                )
                .into());
            }
            let bundle_id = match &args.bundle_id {
                Some(b) => b.clone(),
                None => {
                    let app = remote.block_on(remote.client.app(&remote.org, &args.app))?;
                    only_bundle_id(&app, distribution)?.ok_or_else(|| {
                        anyhow::anyhow!(
                            "app `{}` has no iOS {distribution} build pair: there are no \
                             credentials to fetch",
                            app.app.slug
                        )
                    })?
                }
            };
            BuildQuery::Ios {
                bundle_id,
                distribution: distribution.to_owned(),
            }
        }
    };
    let build = remote.block_on(
        remote
            .client
            .build_credentials(&remote.org, &args.app, &query),
    )?;

    // Only now, with the credentials in hand, is anything written.
    project::make_private_dirs(&args.out_dir)?;
    let project = Project::open(&args.out_dir)?;
    let android = android_material(&build);
    let ios = ios_material(&build).map(|m| IosMaterials {
        application_target: "app".into(),
        targets: vec![("app".into(), m)],
    });
    let plan = project::plan(&project, android.as_ref(), ios.as_ref())?;
    plan.write()?;
    if let Some(w) = plan.not_ignored_warning(&project) {
        eprintln!("warning: {w}");
    }

    let mut fetched = Fetched {
        out_dir: project::shown(&args.out_dir),
        credentials_json: project::shown(&project.credentials_json()),
        files: plan.paths(),
        app: args.app.clone(),
        platform: "android",
        application_id: None,
        build_set: None,
        bundle_id: None,
        distribution: None,
        credentials: Vec::new(),
    };
    match &build {
        BuildCredentials::Android {
            application_id,
            chosen,
            keystore,
        } => {
            fetched.application_id = Some(application_id.clone());
            fetched.build_set = chosen["build_set"]["name"].as_str().map(str::to_owned);
            fetched.credentials.push(Fact::of(&keystore.credential));
        }
        BuildCredentials::Ios {
            bundle_id,
            distribution,
            distribution_certificate,
            provisioning_profile,
            ..
        } => {
            fetched.platform = "ios";
            fetched.bundle_id = Some(bundle_id.clone());
            fetched.distribution = Some(distribution.clone());
            fetched
                .credentials
                .push(Fact::of(&distribution_certificate.credential));
            fetched
                .credentials
                .push(Fact::of(&provisioning_profile.credential));
        }
    }
    if args.output.json {
        return output::json(&fetched);
    }
    println!("Wrote {}", fetched.files.join(", "));
    let mut f = output::Fields::new(2);
    f.add("App", &fetched.app);
    if let Some(a) = &fetched.application_id {
        f.add("Application id", a);
    }
    if let Some(s) = &fetched.build_set {
        f.add("Build set", s);
    }
    if let Some(b) = &fetched.bundle_id {
        f.add("Bundle id", b);
    }
    if let Some(d) = &fetched.distribution {
        f.add("Distribution", d);
    }
    for c in &fetched.credentials {
        let mut line = format!("{} ({})", c.id, c.name);
        if let Some(fp) = &c.sha256 {
            line.push_str(&format!(", SHA-256 {fp}"));
        }
        if let Some(e) = c.expires_at {
            line.push_str(&format!(", valid until {}", output::date_ms(e)));
        }
        let label = match c.kind {
            "android-keystore" => "Keystore",
            "apple-distribution-certificate" => "Certificate",
            "apple-provisioning-profile" => "Profile",
            other => other,
        };
        f.add(label, line);
    }
    print!("{}", f.render());
    Ok(())
}
